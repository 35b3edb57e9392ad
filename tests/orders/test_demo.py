"""The demo factory's product definition and orders."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from orders.models import BillOfMaterials, Calendar, Routing, WorkCenter, WorkOrder
from orders.selectors import explode_bom

pytestmark = pytest.mark.django_db


def test_demo_loads_twice_without_duplicates_and_has_the_phone_structure():
    call_command("load_demo_factory", "--no-users")
    counts = lambda: (BillOfMaterials.objects.count(), Routing.objects.count(), WorkOrder.objects.count(), Calendar.objects.count())  # noqa: E731
    first = counts()
    call_command("load_demo_factory", "--no-users")
    assert counts() == first == (3, 2, 4, 1)
    phone = BillOfMaterials.objects.get(item__code="PHN-100")
    explosion = explode_bom(bom=phone, quantity=Decimal("1"))
    assert max(line.level for line in explosion.lines) == 2
    codes = {line.component_code for line in explosion.lines}
    assert {"MBD-100", "SOC-A1", "SCR-M1", "ADH-TAPE", "BOX-100"} <= codes and "KIT-FAST" not in codes
    assert set(WorkOrder.objects.values_list("status", flat=True)) == {"draft", "released"}
    assert not WorkCenter.objects.filter(calendar__isnull=True, code__in=["SMT", "ASSY", "TEST", "PACK"]).exists()
    assert Calendar.objects.get().shifts.count() == 10
