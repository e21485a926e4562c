from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

INDEX = "sensing_deliverykey_stored_at_brin"


def _pattern_indexes(schema_editor: BaseDatabaseSchemaEditor) -> list[str]:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'sensing_deliverykey'"
            " AND indexdef LIKE '%%varchar_pattern_ops%%'"
        )
        return [row[0] for row in cursor.fetchall()]


def create_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.execute(f"CREATE INDEX {INDEX} ON sensing_deliverykey (stored_at)")
        return
    schema_editor.execute(f"CREATE INDEX {INDEX} ON sensing_deliverykey USING brin (stored_at)")
    # Django adds a LIKE index to text primary keys; keys are only ever looked up whole.
    for name in _pattern_indexes(schema_editor):
        schema_editor.execute(f'DROP INDEX "{name}"')


def drop_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    schema_editor.execute(f"DROP INDEX {INDEX}")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX sensing_deliverykey_key_like ON sensing_deliverykey (key varchar_pattern_ops)"
        )


class Migration(migrations.Migration):
    """Fewer indexes to maintain per message. Readings lose the (device, at) index, which no query uses. Every
    message inserts a delivery key: on PostgreSQL the key's B-tree is the only index it needs to maintain
    per message. ``stored_at`` (the pruning) grows with every insert, so a BRIN index serves it at a fraction of a
    B-tree's cost, and the LIKE index Django adds to text primary keys serves nothing here
    (benchmarks/store_path.py)."""

    dependencies = [
        ("sensing", "0004_ingest_reading_without_fk_checks"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="reading", name="reading_device_at"),  # no query reads by device
        migrations.AlterField(model_name="deliverykey", name="stored_at", field=models.DateTimeField()),
        migrations.RunPython(create_index, drop_index),
    ]
