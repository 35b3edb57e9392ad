"""Electronic signatures are append-only in the database itself: on PostgreSQL a trigger refuses
every UPDATE and DELETE of a signature row (21 CFR 11.70: a signature stays linked to its record
and cannot be removed or altered). Row triggers only: TRUNCATE, as a test database's flush uses, is
not refused. Nothing is done on SQLite, the embedded mode.
"""

from django.db import migrations

FUNCTION = "mes_refuse_signature_change"
TRIGGER = "mes_electronicsignature_append_only"


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = apps.get_model("mes", "ElectronicSignature")._meta.db_table
    schema_editor.execute(
        f"""
        CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% on %: electronic signatures are never altered or removed', TG_OP, TG_TABLE_NAME;
        END
        $$
        """,
        None,  # no parameters: the % of RAISE stay as written
    )
    schema_editor.execute(f'DROP TRIGGER IF EXISTS "{TRIGGER}" ON "{table}"')
    schema_editor.execute(
        f'CREATE TRIGGER "{TRIGGER}" BEFORE UPDATE OR DELETE ON "{table}" FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()'
    )


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = apps.get_model("mes", "ElectronicSignature")._meta.db_table
    schema_editor.execute(f'DROP TRIGGER IF EXISTS "{TRIGGER}" ON "{table}"')
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")


class Migration(migrations.Migration):
    dependencies = [
        ("mes", "0007_audit_trail_parents_only"),
    ]

    operations = [
        migrations.RunPython(create_trigger, drop_trigger, elidable=False),
    ]
