from django.db import migrations

UNITS = [
    ("pcs", "pieces", 0),
    ("kg", "kilograms", 3),
    ("g", "grams", 3),
    ("m", "metres", 3),
    ("mm", "millimetres", 3),
    ("l", "litres", 3),
    ("ml", "millilitres", 3),
]


def create_units(apps, schema_editor):
    Unit = apps.get_model("inventory", "UnitOfMeasure")
    for code, name, decimals in UNITS:
        Unit.objects.get_or_create(code=code, defaults={"name": name, "decimals": decimals})


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]
    operations = [migrations.RunPython(create_units, migrations.RunPython.noop)]
