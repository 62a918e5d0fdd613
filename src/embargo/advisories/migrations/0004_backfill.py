"""Fills the published records and the package index for the advisories published before it existed."""

from typing import Any

from django.db import migrations


def backfill(apps: Any, schema_editor: Any) -> None:
    # The historical model only answers whether there is work: building OSV records needs the real models
    # (sealed drafts, the domain, the formats), which a database created later skips entirely.
    historical = apps.get_model("advisories", "Advisory")
    if not historical.objects.filter(state="published", published_at__isnull=False).exists():
        return
    from embargo.advisories import index

    index.rebuild()


class Migration(migrations.Migration):
    dependencies = [("advisories", "0003_published_index")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
