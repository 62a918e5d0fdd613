# The unique chain position, in its own migration (its own transaction on PostgreSQL) after 0002 filled the chains.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_chain"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="event",
            constraint=models.UniqueConstraint(fields=("chain", "seq"), name="event_chain_position"),
        ),
    ]
