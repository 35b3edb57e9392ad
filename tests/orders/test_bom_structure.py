"""Bills of materials: explosion, cycles, effectivity, units, where-used."""

import datetime as dt
from decimal import Decimal

import pytest

from mes.errors import ApplicationError, InvalidInput
from orders import selectors, services
from orders.models import BillOfMaterials, BOMLine
from tests.factories import ItemFactory
from tests.orders.conftest import line

pytestmark = pytest.mark.django_db


def _by_code(explosion):
    return {(row.component_code, row.level): row for row in explosion.lines}


def test_explosion_applies_scrap_level_by_level_and_explodes_the_phantom(phone):
    explosion = selectors.explode_bom(bom=phone.bom, quantity=Decimal("10"))
    rows = _by_code(explosion)
    # Level 1: the board carries 2 % scrap: 10.2 boards, built as 11 whole boards.
    assert rows[("BOARD", 1)].quantity == Decimal("11")
    assert rows[("BOARD", 1)].has_bom
    # Level 2 is exploded from the 11 boards: PCB 11 × 1.05 = 11.55 → 12; CHIP 22; paste
    # 11 × 0.003 × 1.10 = 0.0363 kg, rounded up to the gram.
    assert rows[("PCB", 2)].quantity == Decimal("12")
    assert rows[("CHIP", 2)].quantity == Decimal("22")
    assert rows[("PASTE", 2)].quantity == Decimal("0.037")
    assert rows[("PASTE", 2)].unit == "kg"
    assert rows[("PCB", 2)].path == ["PHONE", "BOARD", "PCB"]
    # The phantom kit is not a requirement; its screws (6 × 1.05 × 10 = 63) and tape come
    # through it, consumed at the kit's operation.
    assert not any(row.component_code == "KIT" for row in explosion.lines)
    assert rows[("SCREW", 1)].quantity == Decimal("63")
    assert rows[("SCREW", 1)].via_phantom == "KIT"
    assert rows[("SCREW", 1)].operation_sequence == 20
    assert rows[("TAPE", 1)].quantity == Decimal("20")
    assert rows[("BOX", 1)].operation_sequence == 30
    totals = {req.item_code: req.quantity for req in explosion.requirements}
    assert totals == {
        "PCB": Decimal("12"),
        "CHIP": Decimal("22"),
        "PASTE": Decimal("0.037"),
        "DISPLAY": Decimal("10"),
        "SCREW": Decimal("63"),
        "TAPE": Decimal("20"),
        "BOX": Decimal("10"),
    }


def test_single_level_explosion_stops_at_sub_assemblies_but_not_at_phantoms(phone):
    explosion = selectors.explode_bom(bom=phone.bom, quantity=Decimal("10"), single_level=True)
    assert sorted((row.component_code, row.quantity) for row in explosion.lines) == [
        ("BOARD", Decimal("11")),
        ("BOX", Decimal("10")),
        ("DISPLAY", Decimal("10")),
        ("SCREW", Decimal("63")),
        ("TAPE", Decimal("20")),
    ]


def test_explosion_through_the_api(phone, operator_client):
    response = operator_client.get(f"/api/v1/boms/{phone.bom.pk}/explosion/?quantity=10")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["item_code"] == "PHONE" and body["quantity"] == "10.000"
    pcb = next(row for row in body["lines"] if row["component_code"] == "PCB")
    assert pcb == {**pcb, "level": 2, "quantity": "12.000", "path": ["PHONE", "BOARD", "PCB"], "has_bom": False}
    assert {r["item_code"]: r["quantity"] for r in body["requirements"]}["PASTE"] == "0.037"


def test_explosion_refuses_a_bad_quantity(phone, planner_client):
    response = planner_client.get(f"/api/v1/boms/{phone.bom.pk}/explosion/?quantity=-1")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "quantity"


def test_cycle_at_depth_three_is_refused_with_its_path(planner_client):
    a, b, c = (ItemFactory(code=code, kind="manufactured") for code in "ABC")
    services.bom_create(data={"item": a, "revision": "1", "status": "active", "lines": [line(b, "1")]})
    services.bom_create(data={"item": b, "revision": "1", "status": "active", "lines": [line(c, "1")]})
    response = planner_client.post(
        "/api/v1/boms/",
        {"item": c.pk, "revision": "1", "status": "draft", "lines": [{"component": a.pk, "quantity": "1"}]},
        format="json",
    )
    assert response.status_code == 409, response.content
    problem = response.json()
    assert problem["code"] == "bom_cycle"
    assert problem["path"] == ["C", "A", "B", "C"]
    assert "C → A → B → C" in problem["detail"]
    assert problem["errors"][0]["field"] == "lines"
    assert not BillOfMaterials.objects.filter(item=c).exists()


def test_cycle_through_an_update_is_refused_and_changes_nothing(phone):
    with pytest.raises(ApplicationError) as refused:
        services.bom_update(bom=phone.kit_bom, data={"lines": [line(phone.items.screw, "6"), line(phone.items.phone, "1")]})
    assert refused.value.code == "bom_cycle"
    assert refused.value.extra["path"] == ["KIT", "PHONE", "KIT"]
    assert [row.component.code for row in phone.kit_bom.lines.all()] == ["SCREW", "TAPE"]


def test_an_item_cannot_contain_itself():
    item = ItemFactory(code="SELF")
    with pytest.raises(ApplicationError) as refused:
        services.bom_create(data={"item": item, "revision": "1", "lines": [line(item, "1")]})
    assert refused.value.code == "bom_cycle"
    assert refused.value.extra["path"] == ["SELF", "SELF"]


def test_a_line_in_another_unit_than_its_component_is_refused(planner_client):
    parent, paste = ItemFactory(code="P"), ItemFactory(code="PASTE", unit_id="kg")
    response = planner_client.post(
        "/api/v1/boms/",
        {"item": parent.pk, "revision": "1", "lines": [{"component": paste.pk, "quantity": "0.5", "unit": "g"}]},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error == {"field": "lines.0.unit", "code": "unit_mismatch", "message": error["message"]}
    assert not BillOfMaterials.objects.exists()


def test_line_field_errors_name_the_line(planner_client):
    parent, part = ItemFactory(), ItemFactory()
    response = planner_client.post(
        "/api/v1/boms/",
        {"item": parent.pk, "revision": "1", "lines": [{"component": part.pk, "quantity": "1"}, {"component": part.pk, "quantity": "1", "scrap_factor": "1.5"}]},
        format="json",
    )
    assert response.status_code == 400
    assert "lines.1.scrap_factor" in {e["field"] for e in response.json()["errors"]}
    missing = planner_client.post(
        "/api/v1/boms/", {"item": parent.pk, "revision": "2", "lines": [{"component": 999999, "quantity": "1"}]}, format="json"
    )
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "lines.0.component"


def test_two_active_revisions_with_overlapping_effectivity_are_refused(planner_client):
    item, part = ItemFactory(), ItemFactory()
    body = lambda rev, start, end: {  # noqa: E731
        "item": item.pk, "revision": rev, "status": "active", "effective_from": start, "effective_to": end,
        "lines": [{"component": part.pk, "quantity": "1"}],
    }
    assert planner_client.post("/api/v1/boms/", body("A", "2026-01-01", "2026-07-01"), format="json").status_code == 201
    # Half-open windows: B may start the day A ends.
    assert planner_client.post("/api/v1/boms/", body("B", "2026-07-01", None), format="json").status_code == 201
    response = planner_client.post("/api/v1/boms/", body("C", "2026-06-01", "2026-08-01"), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "bom_effectivity_overlap"
    assert response.json()["errors"][0]["field"] == "effective_from"
    # As a draft it may exist; activating it is refused the same way.
    draft = planner_client.post("/api/v1/boms/", {**body("C", "2026-06-01", "2026-08-01"), "status": "draft"}, format="json")
    assert draft.status_code == 201
    activate = planner_client.patch(f"/api/v1/boms/{draft.json()['id']}/", {"status": "active"}, format="json")
    assert activate.status_code == 409
    assert BillOfMaterials.objects.get(pk=draft.json()["id"]).status == "draft"


def test_effectivity_picks_the_revision_in_effect_on_a_date():
    item, part = ItemFactory(), ItemFactory()
    make = lambda rev, start, end, status="active": services.bom_create(  # noqa: E731
        data={"item": item, "revision": rev, "status": status, "effective_from": start, "effective_to": end, "lines": [line(part, "1")]}
    )
    a = make("A", None, dt.date(2026, 3, 1))
    b = make("B", dt.date(2026, 3, 1), dt.date(2026, 9, 1))
    make("C-draft", dt.date(2026, 5, 1), None, status="draft")
    c = make("C", dt.date(2026, 10, 1), None)
    assert selectors.effective_bom(item=item, on=dt.date(2026, 2, 28)) == a
    assert selectors.effective_bom(item=item, on=dt.date(2026, 3, 1)) == b
    assert selectors.effective_bom(item=item, on=dt.date(2026, 6, 15)) == b
    assert selectors.effective_bom(item=item, on=dt.date(2026, 9, 15)) is None
    assert selectors.effective_bom(item=item, on=dt.date(2030, 1, 1)) == c


def test_explosion_uses_the_sub_assembly_revision_in_effect_on_the_day():
    top, sub, old_part, new_part = (ItemFactory(code=code) for code in ("TOP", "SUB", "OLD", "NEW"))
    services.bom_create(data={"item": sub, "revision": "1", "status": "active", "effective_to": dt.date(2026, 6, 1), "lines": [line(old_part, "1")]})
    services.bom_create(data={"item": sub, "revision": "2", "status": "active", "effective_from": dt.date(2026, 6, 1), "lines": [line(new_part, "3")]})
    bom = services.bom_create(data={"item": top, "revision": "1", "status": "active", "lines": [line(sub, "2")]})
    before = selectors.explode_bom(bom=bom, quantity=Decimal("1"), on=dt.date(2026, 5, 31))
    after = selectors.explode_bom(bom=bom, quantity=Decimal("1"), on=dt.date(2026, 6, 1))
    assert [(r.item_code, r.quantity) for r in before.requirements] == [("OLD", Decimal("2"))]
    assert [(r.item_code, r.quantity) for r in after.requirements] == [("NEW", Decimal("6"))]


def test_a_phantom_without_an_active_bom_cannot_be_exploded(planner_client):
    top, kit = ItemFactory(code="TOP"), ItemFactory(code="LOOSE-KIT", kind="phantom")
    bom = services.bom_create(data={"item": top, "revision": "1", "lines": [line(kit, "1")]})
    assert BOMLine.objects.get(bom=bom).is_phantom  # a phantom item's line is a phantom line
    response = planner_client.get(f"/api/v1/boms/{bom.pk}/explosion/?quantity=1")
    assert response.status_code == 409
    assert response.json()["code"] == "phantom_without_bom"


def test_where_used_lists_parents_up_every_level(phone, quality_client):
    response = quality_client.get(f"/api/v1/items/{phone.items.screw.pk}/where-used/")
    assert response.status_code == 200, response.content
    rows = [(r["level"], r["parent_item_code"], r["path"]) for r in response.json()["results"]]
    assert rows == [(1, "KIT", ["SCREW", "KIT"]), (2, "PHONE", ["SCREW", "KIT", "PHONE"])]
    chip = quality_client.get(f"/api/v1/items/{phone.items.chip.pk}/where-used/?levels=1").json()["results"]
    assert [(r["parent_item_code"], r["quantity"], r["bom_status"]) for r in chip] == [("BOARD", "2.000", "active")]


def test_where_used_of_an_unknown_item_is_404(planner_client):
    response = planner_client.get("/api/v1/items/999999/where-used/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")


def test_update_replaces_the_lines_atomically(phone, planner_client):
    url = f"/api/v1/boms/{phone.kit_bom.pk}/"
    body = planner_client.get(url).json()
    body["lines"] = [{"component": phone.items.screw.pk, "quantity": "8"}]
    response = planner_client.put(url, body, format="json")
    assert response.status_code == 200, response.content
    assert [(l.component.code, l.quantity) for l in phone.kit_bom.lines.all()] == [("SCREW", Decimal("8"))]
    # A refused update (second line in the wrong unit) leaves the lines as they were.
    body["lines"] = [{"component": phone.items.tape.pk, "quantity": "1"}, {"component": phone.items.screw.pk, "quantity": "1", "unit": "kg"}]
    assert planner_client.put(url, body, format="json").status_code == 400
    assert [(l.component.code, l.quantity) for l in phone.kit_bom.lines.all()] == [("SCREW", Decimal("8"))]


def test_upsert_by_external_id_is_idempotent(erp_client):
    parent, a, b = ItemFactory(code="P"), ItemFactory(code="A"), ItemFactory(code="B")
    url = "/api/v1/boms/by-external-id/SAP-BOM-1/"
    body = {
        "item": parent.pk,
        "revision": "01",
        "status": "active",
        "lines": [{"component": a.pk, "quantity": "2", "operation_sequence": 10}, {"component": b.pk, "quantity": "1.5"}],
    }
    first = erp_client.put(url, body, format="json")
    assert first.status_code == 201, first.content
    line_ids = [row["id"] for row in first.json()["lines"]]
    again = erp_client.put(url, body, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert [row["id"] for row in again.json()["lines"]] == line_ids  # unchanged lines are kept as they are
    assert BillOfMaterials.objects.count() == 1 and BOMLine.objects.count() == 2
    changed = erp_client.put(url, {**body, "lines": [{"component": a.pk, "quantity": "3"}]}, format="json")
    assert changed.status_code == 200
    assert list(BOMLine.objects.values_list("component__code", "quantity")) == [("A", Decimal("3"))]


def test_operators_read_boms_but_cannot_write_them(phone, operator_client):
    assert operator_client.get("/api/v1/boms/").status_code == 200
    response = operator_client.post("/api/v1/boms/", {"item": phone.items.box.pk, "revision": "X", "lines": []}, format="json")
    assert response.status_code == 403
    assert operator_client.delete(f"/api/v1/boms/{phone.kit_bom.pk}/").status_code == 403


def test_service_reports_unit_mismatch_on_the_line():
    parent, paste = ItemFactory(), ItemFactory(unit_id="kg")
    with pytest.raises(InvalidInput) as refused:
        services.bom_create(data={"item": parent, "revision": "1", "lines": [line(paste, "1", unit="pcs")]})
    assert refused.value.field == "lines.0.unit"


def test_bulk_upsert_of_boms_applies_all_or_none(erp_client):
    parent_a, parent_b, part = ItemFactory(code="PA"), ItemFactory(code="PB"), ItemFactory(code="PART")
    records = [
        {"external_id": "B-A", "item": parent_a.pk, "revision": "1", "status": "active", "lines": [{"component": part.pk, "quantity": "2"}]},
        {"external_id": "B-B", "item": parent_b.pk, "revision": "1", "status": "active", "lines": [{"component": parent_b.pk, "quantity": "1"}]},
    ]
    response = erp_client.post("/api/v1/boms/bulk/", {"records": records}, format="json")
    assert response.status_code == 400
    assert response.json()["record_errors"][0]["code"] == "bom_cycle"
    assert not BillOfMaterials.objects.exists()
    records[1]["lines"] = [{"component": part.pk, "quantity": "1"}]
    assert erp_client.post("/api/v1/boms/bulk/", {"records": records}, format="json").status_code == 200
    assert BillOfMaterials.objects.count() == 2 and BOMLine.objects.count() == 2


def test_an_explosion_beyond_what_a_quantity_can_hold_is_refused(planner_client):
    top, mid, leaf = ItemFactory(code="TOP"), ItemFactory(code="MID"), ItemFactory(code="LEAF")
    services.bom_create(data={"item": mid, "revision": "1", "status": "active", "lines": [line(leaf, "999999999")]})
    bom = services.bom_create(data={"item": top, "revision": "1", "status": "active", "lines": [line(mid, "999999999")]})
    response = planner_client.get(f"/api/v1/boms/{bom.pk}/explosion/?quantity=1000")
    assert response.status_code == 400
    assert response.json()["code"] == "quantity_too_large" and response.json()["errors"][0]["field"] == "quantity"


def test_an_absurd_component_id_is_a_field_error_not_a_crash(planner_client):
    parent = ItemFactory()
    response = planner_client.post(
        "/api/v1/boms/", {"item": parent.pk, "revision": "1", "lines": [{"component": 10**30, "quantity": "1"}]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "lines.0.component"
