"""The stock ledger and the genealogy are append-only in the database itself: on PostgreSQL a
trigger refuses every UPDATE and DELETE of their rows, whoever sends it (a reversal is a new move).

Row triggers only: TRUNCATE (what a test database's flush uses) is not refused. Nothing is done on
SQLite, the embedded mode.
"""

from django.db import migrations

FUNCTION = "inventory_refuse_ledger_change"
TABLES = (("inventory", "StockMove"), ("inventory", "GenealogyLink"))


def _trigger(table: str) -> str:
    return f"{table}_append_only"


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"""
        CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% on %: the table is append-only (a mistake is undone by a reversing row)',
                TG_OP, TG_TABLE_NAME;
        END
        $$
        """,
        None,  # no parameters: the % of RAISE stay as written
    )
    for app_label, model_name in TABLES:
        table = apps.get_model(app_label, model_name)._meta.db_table
        schema_editor.execute(f'DROP TRIGGER IF EXISTS "{_trigger(table)}" ON "{table}"')
        schema_editor.execute(
            f'CREATE TRIGGER "{_trigger(table)}" BEFORE UPDATE OR DELETE ON "{table}" '
            f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for app_label, model_name in TABLES:
        table = apps.get_model(app_label, model_name)._meta.db_table
        schema_editor.execute(f'DROP TRIGGER IF EXISTS "{_trigger(table)}" ON "{table}"')
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0006_genealogy_backward_cover"),
    ]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
