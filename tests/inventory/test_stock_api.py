"""The stock API: receipts, transfers, adjustments, the ledger, balances, holds; refusals as problem+json."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory import services
from inventory.models import Hold, Lot, SerialNumber, StockBalance, StockMove
from inventory.selectors import ledger_discrepancies
from mes.models import ElectronicSignature
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def problem(response, status, code, field=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == code
    if field is not None:
        assert field in {e["field"] for e in body.get("errors", [])}, body
    return body


def test_receipt_creates_lot_and_returns_the_moves(operator_client, chips, stores):
    response = operator_client.post(
        "/api/v1/stock/receipts/",
        {"item": chips.pk, "location": stores.pk, "quantity": "250", "lot_code": "C-77", "reference": "DN-5"},
        format="json",
    )
    assert response.status_code == 201, response.content
    (move,) = response.json()["moves"]
    lot = Lot.objects.get(code="C-77")
    assert move["kind"] == "receipt" and move["quantity"] == "250.000" and move["lot"] == lot.pk and move["to_location"] == stores.pk
    assert StockBalance.objects.get(lot=lot).quantity == 250


def test_receipt_of_serials_then_duplicate_is_409(operator_client, boards, stores):
    body = {"item": boards.pk, "location": stores.pk, "quantity": "2", "serial_codes": ["B-1", "B-2"]}
    assert operator_client.post("/api/v1/stock/receipts/", body, format="json").status_code == 201
    again = operator_client.post("/api/v1/stock/receipts/", {**body, "quantity": "1", "serial_codes": ["B-2"]}, format="json")
    problem(again, 409, "serial_already_exists", "serial_codes")
    assert SerialNumber.objects.count() == 2


def test_malformed_quantities_are_400_naming_the_field(operator_client, boards, screws, stores):
    not_whole = operator_client.post(
        "/api/v1/stock/receipts/", {"item": screws.pk, "location": stores.pk, "quantity": "1.5"}, format="json"
    )
    problem(not_whole, 400, "quantity_not_whole", "quantity")
    mismatch = operator_client.post(
        "/api/v1/stock/receipts/",
        {"item": boards.pk, "location": stores.pk, "quantity": "2", "serial_codes": ["X"]},
        format="json",
    )
    problem(mismatch, 400, "serial_count_mismatch", "serial_codes")
    unknown = operator_client.post("/api/v1/stock/receipts/", {"item": 999999, "location": stores.pk, "quantity": "1"}, format="json")
    problem(unknown, 400, "validation_error", "item")
    assert not StockMove.objects.exists()


def test_transfer_more_than_on_hand_is_409_with_shortages(operator_client, chips, stores, line, clerk):
    services.receive(item=chips, location=stores, quantity=5, lot_code="L", user=clerk)
    response = operator_client.post(
        "/api/v1/stock/transfers/",
        {"item": chips.pk, "from_location": stores.pk, "to_location": line.pk, "quantity": "6", "lot_code": "L"},
        format="json",
    )
    body = problem(response, 409, "insufficient_stock", "quantity")
    assert body["shortages"][0]["required"] == "6.000" and body["shortages"][0]["available"] == "5.000"
    ok = operator_client.post(
        "/api/v1/stock/transfers/",
        {"item": chips.pk, "from_location": stores.pk, "to_location": line.pk, "quantity": "5", "lot_code": "L"},
        format="json",
    )
    assert ok.status_code == 201
    assert StockBalance.objects.get(location=line).quantity == 5


def test_adjustment_needs_a_reason_and_a_planner(operator_client, planner_client, screws, stores):
    body = {"item": screws.pk, "location": stores.pk, "quantity": "-3"}
    assert operator_client.post("/api/v1/stock/adjustments/", {**body, "reason": "count"}, format="json").status_code == 403
    problem(planner_client.post("/api/v1/stock/adjustments/", body, format="json"), 400, "validation_error", "reason")
    problem(
        planner_client.post("/api/v1/stock/adjustments/", {**body, "reason": "Cycle count"}, format="json"),
        409,
        "insufficient_stock",
    )
    found = planner_client.post("/api/v1/stock/adjustments/", {**body, "quantity": "7", "reason": "Cycle count"}, format="json")
    assert found.status_code == 201
    assert StockBalance.objects.get(item=screws).quantity == 7
    assert StockMove.objects.get().reason == "Cycle count"


def test_ledger_is_cursor_paginated_and_filtered(planner_client, screws, chips, stores, line, clerk, django_assert_max_num_queries):
    for n in range(5):
        services.receive(item=screws, location=stores, quantity=n + 1, user=clerk)
    services.receive(item=chips, location=stores, quantity=1, lot_code="L", user=clerk)
    services.transfer(item=screws, from_location=stores, to_location=line, quantity=2, user=clerk)
    with django_assert_max_num_queries(6):
        page = planner_client.get(f"/api/v1/stock/moves/?item={screws.pk}&page_size=3").json()
    assert [m["quantity"] for m in page["results"]] == ["1.000", "2.000", "3.000"] and page["next"]
    rest = planner_client.get(page["next"]).json()
    assert [m["kind"] for m in rest["results"]] == ["receipt", "receipt", "transfer"]
    at_line = planner_client.get(f"/api/v1/stock/moves/?location={line.pk}").json()["results"]
    assert [m["kind"] for m in at_line] == ["transfer"]
    assert len(planner_client.get("/api/v1/stock/moves/?kind=transfer").json()["results"]) == 1


def test_balances_show_reserved_held_and_available(planner_client, chips, screws, stores, clerk, django_assert_max_num_queries):
    services.receive(item=screws, location=stores, quantity=10, user=clerk)
    services.reserve(item=screws, location=stores, quantity=4, demand_type="work_order", demand_id=1, user=clerk)
    services.receive(item=chips, location=stores, quantity=6, lot_code="BAD", user=clerk)
    services.place_hold(lot=Lot.objects.get(code="BAD"), reason="Suspect", user=clerk)
    with django_assert_max_num_queries(5):
        rows = planner_client.get("/api/v1/stock/balances/").json()["results"]
    by_item = {r["item_code"]: r for r in rows}
    assert (by_item["SCREW"]["quantity"], by_item["SCREW"]["reserved"], by_item["SCREW"]["available"]) == ("10.000", "4.000", "6.000")
    assert (by_item["CHIP"]["held"], by_item["CHIP"]["available"]) == ("6.000", "0.000")


def test_hold_through_the_api_blocks_issue_then_release(quality_client, operator_client, chips, stores, clerk):
    services.receive(item=chips, location=stores, quantity=6, lot_code="L9", user=clerk)
    lot = Lot.objects.get(code="L9")
    assert operator_client.post("/api/v1/holds/", {"lot": lot.pk, "reason": "x"}, format="json").status_code == 403
    response = quality_client.post("/api/v1/holds/", {"lot": lot.pk, "reason": "Solderability failure"}, format="json")
    assert response.status_code == 201, response.content
    hold_id = response.json()["id"]
    assert Lot.objects.get(pk=lot.pk).status == "on_hold"
    with pytest.raises(Exception) as refused:
        services.issue(item=chips, location=stores, quantity=1, lot=lot, user=clerk)
    assert "Solderability failure" in str(refused.value)
    url = f"/api/v1/holds/{hold_id}/release/"

    # Releasing is signed: without the caller's password, or with a wrong one, nothing changes
    problem(quality_client.post(url, {"reason": "Retest passed"}, format="json"), 403, "signature_refused", "signature_password")
    wrong = {"reason": "Retest passed", "signature_password": "guess"}
    problem(quality_client.post(url, wrong, format="json"), 403, "signature_refused", "signature_password")
    assert Hold.objects.get().status == "active" and Lot.objects.get(pk=lot.pk).status == "on_hold"
    assert not ElectronicSignature.objects.exists()

    signed = {"reason": "Retest passed", "signature_password": PASSWORD, "signature_meaning": "Approved for use"}
    released = quality_client.post(url, signed, format="json")
    assert released.status_code == 200, released.content
    body = released.json()
    assert body["status"] == "released" and "signature_password" not in body
    signature = ElectronicSignature.objects.get()
    assert (signature.user, signature.meaning, signature.record_type, signature.record_id) == (
        quality_client.user, "Approved for use", "hold", str(hold_id)
    )
    assert body["release_signature"] == {
        "id": signature.pk,
        "signer": quality_client.user.username,
        "meaning": "Approved for use",
        "signed_at": body["release_signature"]["signed_at"],
        "record_hash": signature.record_hash,
    }
    assert quality_client.get(f"/api/v1/holds/{hold_id}/").json()["release_signature"]["id"] == signature.pk
    assert Lot.objects.get(pk=lot.pk).status == "available"
    problem(quality_client.post(url, {"reason": "again", "signature_password": PASSWORD}, format="json"), 409, "invalid_transition")
    assert Hold.objects.get().release_reason == "Retest passed" and ElectronicSignature.objects.count() == 1


def test_hold_on_a_serial_out_of_stock_is_409(quality_client, boards, stores, clerk):
    services.receive(item=boards, location=stores, quantity=1, serial_codes=["S1"], user=clerk)
    services.issue(item=boards, location=stores, quantity=1, serials=["S1"], user=clerk)
    serial = SerialNumber.objects.get(code="S1")
    problem(quality_client.post("/api/v1/holds/", {"serial": serial.pk, "reason": "x"}, format="json"), 409, "serial_not_available")
    problem(quality_client.post("/api/v1/holds/", {"reason": "x"}, format="json"), 400, "validation_error", "lot")


def test_lots_and_serials_lists_with_filters(planner_client, chips, boards, stores, clerk, django_assert_max_num_queries):
    services.receive(item=chips, location=stores, quantity=3, lot_code="A", user=clerk)
    services.receive(
        item=chips, location=stores, quantity=4, lot_code="B", expires_on=timezone.localdate() + timedelta(days=3), user=clerk
    )
    services.receive(item=boards, location=stores, quantity=3, serial_codes=["S1", "S2", "S3"], user=clerk)
    with django_assert_max_num_queries(5):
        lots = planner_client.get(f"/api/v1/lots/?item={chips.pk}").json()["results"]
    assert [(lot["code"], lot["on_hand"]) for lot in lots] == [("A", "3.000"), ("B", "4.000")]
    soon = (timezone.localdate() + timedelta(days=5)).isoformat()
    assert [lot["code"] for lot in planner_client.get(f"/api/v1/lots/?expires_before={soon}").json()["results"]] == ["B"]
    with django_assert_max_num_queries(5):
        serials = planner_client.get(f"/api/v1/serials/?item={boards.pk}&location={stores.pk}").json()["results"]
    assert [(x["code"], x["location_code"], x["status"]) for x in serials] == [
        ("S1", "STORES", "available"),
        ("S2", "STORES", "available"),
        ("S3", "STORES", "available"),
    ]


def test_reverse_a_move_through_the_api(planner_client, operator_client, screws, stores, clerk):
    (move,) = services.receive(item=screws, location=stores, quantity=5, user=clerk)
    assert operator_client.post(f"/api/v1/stock/moves/{move.pk}/reverse/", {"reason": "typo"}, format="json").status_code == 403
    response = planner_client.post(f"/api/v1/stock/moves/{move.pk}/reverse/", {"reason": "Wrong delivery note"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["moves"][0]["reverses"] == move.pk
    assert StockBalance.objects.get(item=screws).quantity == 0
    problem(planner_client.post(f"/api/v1/stock/moves/{move.pk}/reverse/", {"reason": "again"}, format="json"), 409, "already_reversed")
    assert ledger_discrepancies() == []


def test_availability_counts_whole_item_reservations(planner_client, screws, stores, clerk):
    services.receive(item=screws, location=stores, quantity=10, user=clerk)
    services.reserve(item=screws, quantity=7, demand_type="work_order", demand_id=3, user=clerk)
    (row,) = planner_client.get(f"/api/v1/stock/availability/?item={screws.pk}").json()
    assert (row["on_hand"], row["reserved"], row["available"]) == ("10.000", "7.000", "3.000")


def test_reads_are_open_to_every_role_but_not_anonymous(api_client_for, anonymous_client):
    for role in ("operator", "planner", "quality", "integration"):
        client = api_client_for(role)
        for path in ("/api/v1/lots/", "/api/v1/serials/", "/api/v1/stock/moves/", "/api/v1/stock/balances/", "/api/v1/holds/", "/api/v1/recalls/", "/api/v1/reservations/"):
            assert client.get(path).status_code == 200, (role, path)
    assert anonymous_client.get("/api/v1/stock/moves/").status_code == 401


def test_issue_through_the_api_refuses_held_and_expired_lots_with_the_reason(operator_client, quality_client, chips, stores, clerk):
    services.receive(item=chips, location=stores, quantity=6, lot_code="H", user=clerk)
    services.receive(
        item=chips, location=stores, quantity=6, lot_code="OLD", expires_on=timezone.localdate() - timedelta(days=2), user=clerk
    )
    hold = quality_client.post("/api/v1/holds/", {"lot": Lot.objects.get(code="H").pk, "reason": "X-ray voids"}, format="json")
    assert hold.status_code == 201
    body = {"item": chips.pk, "location": stores.pk, "quantity": "1", "work_order_id": 12}
    held = problem(operator_client.post("/api/v1/stock/issues/", {**body, "lot_code": "H"}, format="json"), 409, "lot_on_hold", "lot_code")
    assert "X-ray voids" in held["detail"] and held["hold_reasons"] == ["X-ray voids"]
    expired = problem(operator_client.post("/api/v1/stock/issues/", {**body, "lot_code": "OLD"}, format="json"), 409, "lot_expired", "lot_code")
    assert expired["expires_on"] == (timezone.localdate() - timedelta(days=2)).isoformat()
    problem(operator_client.post("/api/v1/stock/issues/", body, format="json"), 400, "lot_required", "lot_code")
    problem(operator_client.post("/api/v1/stock/issues/", {**body, "lot_code": "NOPE"}, format="json"), 400, "lot_not_found", "lot_code")
    assert not StockMove.objects.filter(kind="issue").exists()


def test_issue_and_scrap_of_serials_through_the_api(operator_client, boards, stores, clerk):
    services.receive(item=boards, location=stores, quantity=3, serial_codes=["S1", "S2", "S3"], user=clerk)
    body = {"item": boards.pk, "location": stores.pk, "quantity": "1"}
    ok = operator_client.post("/api/v1/stock/issues/", {**body, "serial_codes": ["S1"], "work_order_id": 4}, format="json")
    assert ok.status_code == 201 and ok.json()["moves"][0]["serial_code"] == "S1" and ok.json()["moves"][0]["work_order_id"] == 4
    problem(operator_client.post("/api/v1/stock/issues/", {**body, "serial_codes": ["S1"]}, format="json"), 409, "serial_not_available", "serial_codes")
    problem(operator_client.post("/api/v1/stock/issues/", {**body, "serial_codes": ["S9"]}, format="json"), 400, "serial_not_found", "serial_codes")
    problem(operator_client.post("/api/v1/stock/scraps/", {**body, "serial_codes": ["S2"]}, format="json"), 400, "validation_error", "reason")
    scrapped = operator_client.post("/api/v1/stock/scraps/", {**body, "serial_codes": ["S2"], "reason": "Dropped"}, format="json")
    assert scrapped.status_code == 201
    assert SerialNumber.objects.get(code="S2").status == "scrapped"
    assert ledger_discrepancies() == []


def test_receipt_refusals_name_the_field(operator_client, chips, screws, stores):
    problem(
        operator_client.post("/api/v1/stock/receipts/", {"item": chips.pk, "location": stores.pk, "quantity": "1"}, format="json"),
        400,
        "lot_required",
        "lot_code",
    )
    problem(
        operator_client.post(
            "/api/v1/stock/receipts/", {"item": screws.pk, "location": stores.pk, "quantity": "1", "lot_code": "X"}, format="json"
        ),
        400,
        "item_not_tracked",
        "lot_code",
    )
    problem(
        operator_client.post("/api/v1/stock/receipts/", {"item": screws.pk, "location": stores.pk, "quantity": "-1"}, format="json"),
        400,
        "quantity_not_positive",
        "quantity",
    )
    problem(
        operator_client.post(
            "/api/v1/stock/transfers/",
            {"item": screws.pk, "from_location": stores.pk, "to_location": stores.pk, "quantity": "1"},
            format="json",
        ),
        400,
        "same_location",
        "to_location",
    )


def test_idempotent_receipt_is_applied_once(operator_client, screws, stores):
    body = {"item": screws.pk, "location": stores.pk, "quantity": "5"}
    first = operator_client.post("/api/v1/stock/receipts/", body, format="json", HTTP_IDEMPOTENCY_KEY="dock-7-0001")
    again = operator_client.post("/api/v1/stock/receipts/", body, format="json", HTTP_IDEMPOTENCY_KEY="dock-7-0001")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert StockBalance.objects.get(item=screws).quantity == 5


def test_holds_recalls_and_reservations_lists_have_bounded_queries(planner_client, chips, boards, stores, clerk, django_assert_max_num_queries):
    from inventory.models import RecallJob

    for n in range(4):
        services.receive(item=chips, location=stores, quantity=1, lot_code=f"L{n}", user=clerk)
        lot = Lot.objects.get(code=f"L{n}")
        services.place_hold(lot=lot, reason=f"suspect {n}", user=clerk)
        RecallJob.objects.create(lot=lot, reason="r", started_by=clerk)
    services.receive(item=boards, location=stores, quantity=2, serial_codes=["Q1", "Q2"], user=clerk)
    services.place_hold(serial=SerialNumber.objects.get(code="Q1"), reason="scratch", user=clerk)
    services.reserve(item=boards, quantity=1, demand_type="work_order", demand_id=1, user=clerk)
    for path, count in (("/api/v1/holds/", 5), ("/api/v1/recalls/", 4), ("/api/v1/reservations/", 1)):
        with django_assert_max_num_queries(5):
            body = planner_client.get(path).json()
        assert body["count"] == count, path


def test_quality_corrects_a_lot_expiry_but_not_its_status(quality_client, operator_client, chips, stores, clerk):
    from mes.models import Event

    services.receive(item=chips, location=stores, quantity=2, lot_code="E1", user=clerk)
    lot = Lot.objects.get(code="E1")
    new_date = (timezone.localdate() + timedelta(days=30)).isoformat()
    assert operator_client.patch(f"/api/v1/lots/{lot.pk}/", {"expires_on": new_date}, format="json").status_code == 403
    response = quality_client.patch(f"/api/v1/lots/{lot.pk}/", {"expires_on": new_date, "status": "scrapped"}, format="json")
    assert response.status_code == 200, response.content
    lot.refresh_from_db()
    assert (lot.expires_on.isoformat(), lot.status) == (new_date, "available")
    assert Event.objects.filter(type="lot.updated", aggregate_id=str(lot.pk)).exists()
    assert quality_client.put(f"/api/v1/lots/{lot.pk}/", {"expires_on": new_date}, format="json").status_code == 405
