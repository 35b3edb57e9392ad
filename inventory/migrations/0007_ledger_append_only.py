"""The stock ledger and the genealogy are append-only in the database itself: on PostgreSQL a
trigger refuses every UPDATE and DELETE of their rows, whoever sends it (a reversal is a new move).

Row triggers only: TRUNCATE (what a test database's flush uses) is not refused. Nothing is done on
SQLite, the embedded mode.
"""

from django.db import migrations

from mes.db.append_only import operations

create_triggers, drop_triggers = operations(
    function="inventory_refuse_ledger_change",
    message="the table is append-only (a mistake is undone by a reversing row)",
    tables=(("inventory", "StockMove"), ("inventory", "GenealogyLink")),
)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0006_genealogy_backward_cover"),
    ]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
