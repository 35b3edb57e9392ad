"""Electronic signatures are append-only in the database itself: on PostgreSQL a trigger refuses
every UPDATE and DELETE of a signature row (21 CFR 11.70: a signature stays linked to its record
and cannot be removed or altered). Nothing is done on SQLite, the embedded mode.
"""

from django.db import migrations

from mes.db.append_only import operations

create_trigger, drop_trigger = operations(
    function="mes_refuse_signature_change",
    message="electronic signatures are never altered or removed",
    tables=(("mes", "ElectronicSignature"),),
)


class Migration(migrations.Migration):
    dependencies = [
        ("mes", "0007_audit_trail_parents_only"),
    ]

    operations = [
        migrations.RunPython(create_trigger, drop_trigger, elidable=False),
    ]
