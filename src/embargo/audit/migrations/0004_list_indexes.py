from django.db import migrations

# The read audit's lists (the owners' page and GET /projects/{slug}/reads) are newest first, ordered by
# `id DESC NULLS LAST` by the keyset pagination (embargo.api.pagination). SQLite's descending index (and the
# rowid) serve that order; a PostgreSQL b-tree declared DESC is NULLS FIRST and cannot, so without these the list
# is sorted in full, a cost that grows with every read ever recorded. Meta.indexes cannot say NULLS LAST on one
# engine only (SQLite refuses it in CREATE INDEX), hence these PostgreSQL-only indexes.
PG_INDEXES = [
    ("read_project_newest_pg", "audit_read", "project_id, id DESC NULLS LAST"),
    ("read_report_newest_pg", "audit_read", "report_id, id DESC NULLS LAST"),
]


def create_pg_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, table, columns in PG_INDEXES:
            schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({columns})')


def drop_pg_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, _, _ in PG_INDEXES:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_chain_position")]

    operations = [migrations.RunPython(create_pg_indexes, drop_pg_indexes)]
