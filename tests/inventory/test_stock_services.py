"""The stock services: receipts, transfers, adjustments, issues, production, scrap, reversals."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory import services
from inventory.errors import (
    InsufficientStock,
    LotExpired,
    LotOnHold,
    SerialAlreadyExists,
    SerialNotAvailable,
    SerialOnHold,
)
from inventory.models import Location, Lot, SerialNumber, StockBalance, StockMove
from inventory.selectors import available_quantity, ledger_discrepancies, on_hand
from mes.errors import InvalidInput
from mes.models import ElectronicSignature, Event
from mes.signatures import SignatureRefused
from tests.factories import PASSWORD, LocationFactory

pytestmark = pytest.mark.django_db


def balance(item, location, lot=None):
    row = StockBalance.objects.filter(item=item, location=location, lot=lot).first()
    return row.quantity if row else Decimal("0")


def test_receive_lot_creates_the_lot_the_move_and_the_balance(chips, stores, clerk):
    moves = services.receive(item=chips, location=stores, quantity="100", lot_code="L1", reference="DN-1", user=clerk)
    lot = Lot.objects.get(item=chips, code="L1")
    assert [(m.kind, m.quantity, m.to_location_id, m.lot_id) for m in moves] == [("receipt", Decimal("100"), stores.pk, lot.pk)]
    assert balance(chips, stores, lot) == Decimal("100")
    assert lot.status == "available"
    assert Event.objects.filter(type="stock.received").count() == 1
    assert ledger_discrepancies() == []


def test_receive_serials_one_move_each_and_located(boards, stores, clerk):
    services.receive(item=boards, location=stores, quantity=2, serial_codes=["B1", "B2"], user=clerk)
    assert StockMove.objects.filter(item=boards, kind="receipt").count() == 2
    assert set(SerialNumber.objects.filter(item=boards).values_list("code", "current_location_id", "status")) == {
        ("B1", stores.pk, "available"),
        ("B2", stores.pk, "available"),
    }
    assert balance(boards, stores) == 2
    with pytest.raises(SerialAlreadyExists):
        services.receive(item=boards, location=stores, quantity=1, serial_codes=["B1"], user=clerk)
    assert ledger_discrepancies() == []


def test_quantity_must_fit_the_unit(boards, screws, paste, stores, clerk):
    with pytest.raises(InvalidInput) as whole:
        services.receive(item=screws, location=stores, quantity="1.5", user=clerk)
    assert whole.value.code == "quantity_not_whole" and whole.value.field == "quantity"
    with pytest.raises(InvalidInput) as count:
        services.receive(item=boards, location=stores, quantity=3, serial_codes=["X1"], user=clerk)
    assert count.value.code == "serial_count_mismatch"
    with pytest.raises(InvalidInput) as unit:
        services.receive(item=paste, location=stores, quantity="1.25", lot_code="P", unit="pcs", user=clerk)
    assert unit.value.code == "wrong_unit"
    services.receive(item=paste, location=stores, quantity="1.255", lot_code="P", user=clerk)
    assert not StockMove.objects.filter(item__in=[boards, screws]).exists()


def test_issue_cannot_take_more_than_on_hand(screws, stores, clerk):
    services.receive(item=screws, location=stores, quantity=10, user=clerk)
    with pytest.raises(InsufficientStock) as refused:
        services.issue(item=screws, location=stores, quantity=11, work_order_id=7, user=clerk)
    assert refused.value.shortages[0]["required"] == 11 and refused.value.shortages[0]["available"] == 10
    services.issue(item=screws, location=stores, quantity=10, work_order_id=7, operation_id=3, user=clerk)
    assert balance(screws, stores) == 0
    move = StockMove.objects.get(kind="issue")
    assert (move.work_order_id, move.operation_id, move.from_location_id, move.to_location_id) == (7, 3, stores.pk, None)
    assert ledger_discrepancies() == []


def test_serial_cannot_be_issued_twice(boards, stores, clerk):
    services.receive(item=boards, location=stores, quantity=1, serial_codes=["B1"], user=clerk)
    services.issue(item=boards, location=stores, quantity=1, serials=["B1"], user=clerk)
    serial = SerialNumber.objects.get(code="B1")
    assert serial.status == "consumed" and serial.current_location is None
    with pytest.raises(SerialNotAvailable):
        services.issue(item=boards, location=stores, quantity=1, serials=["B1"], user=clerk)
    assert StockMove.objects.filter(kind="issue").count() == 1


def test_hold_blocks_issue_with_the_reason_and_release_frees_it(chips, stores, clerk):
    services.receive(item=chips, location=stores, quantity=5, lot_code="L1", user=clerk)
    lot = Lot.objects.get(code="L1")
    hold = services.place_hold(lot=lot, reason="Supplier deviation SD-9", user=clerk)
    assert Lot.objects.get(pk=lot.pk).status == "on_hold"
    assert available_quantity(item=chips) == 0
    with pytest.raises(LotOnHold) as refused:
        services.issue(item=chips, location=stores, quantity=1, lot="L1", user=clerk)
    assert "Supplier deviation SD-9" in refused.value.message and refused.value.code == "lot_on_hold"
    services.release_hold(hold=hold, reason="Deviation accepted", user=clerk, signature_password=PASSWORD)
    assert Lot.objects.get(pk=lot.pk).status == "available"
    services.issue(item=chips, location=stores, quantity=1, lot="L1", user=clerk)
    assert Event.objects.filter(type__in=["lot.held", "lot.released"]).count() == 2


def test_a_release_is_signed_and_refused_without_the_signers_password(chips, stores, clerk):
    services.receive(item=chips, location=stores, quantity=5, lot_code="L1", user=clerk)
    hold = services.place_hold(lot=Lot.objects.get(code="L1"), reason="Suspect", user=clerk)
    for password in (None, "guess"):
        with pytest.raises(SignatureRefused) as refused:
            services.release_hold(hold=hold, reason="Fine", user=clerk, signature_password=password)
        assert (refused.value.status, refused.value.field) == (403, "signature_password")
    hold.refresh_from_db()
    assert hold.status == "active" and Lot.objects.get(code="L1").status == "on_hold"
    assert not ElectronicSignature.objects.exists() and not Event.objects.filter(type="lot.released").exists()

    services.release_hold(hold=hold, reason="Fine", user=clerk, signature_password=PASSWORD)

    signature = ElectronicSignature.objects.get()
    assert (signature.user, signature.meaning, signature.record_type, signature.record_id) == (clerk, "Released from hold", "hold", str(hold.pk))
    assert Event.objects.get(type="lot.released").payload["signature"] == signature.pk


def test_held_serial_cannot_be_issued(boards, stores, clerk):
    services.receive(item=boards, location=stores, quantity=2, serial_codes=["B1", "B2"], user=clerk)
    services.place_hold(serial=SerialNumber.objects.get(code="B1"), reason="Cracked", user=clerk)
    assert available_quantity(item=boards) == 1
    with pytest.raises(SerialOnHold):
        services.issue(item=boards, location=stores, quantity=1, serials=["B1"], user=clerk)
    services.issue(item=boards, location=stores, quantity=1, serials=["B2"], user=clerk)


def test_expired_lot_cannot_be_issued(chips, stores, clerk):
    services.receive(
        item=chips, location=stores, quantity=5, lot_code="OLD", expires_on=timezone.localdate() - timedelta(days=1), user=clerk
    )
    assert available_quantity(item=chips) == 0
    with pytest.raises(LotExpired):
        services.issue(item=chips, location=stores, quantity=1, lot="OLD", user=clerk)


def test_reservation_holds_stock_back_from_others(screws, stores, clerk):
    services.receive(item=screws, location=stores, quantity=10, user=clerk)
    mine = services.reserve(item=screws, quantity=8, demand_type="work_order", demand_id=1, user=clerk)
    assert available_quantity(item=screws) == 2
    with pytest.raises(InsufficientStock) as refused:
        services.reserve(item=screws, quantity=3, demand_type="work_order", demand_id=2, user=clerk)
    assert refused.value.shortages == [
        {"item": screws.pk, "item_code": "SCREW", "location": None, "lot": None, "required": 3, "available": 2}
    ]
    with pytest.raises(InsufficientStock):
        services.issue(item=screws, location=stores, quantity=3, user=clerk)
    services.issue(item=screws, location=stores, quantity=9, reservation=mine, work_order_id=1, user=clerk)
    mine.refresh_from_db()
    assert (mine.quantity_consumed, mine.status) == (8, "closed")
    assert on_hand(item=screws) == 1


def test_release_reservations_for_a_demand(screws, stores, clerk):
    services.receive(item=screws, location=stores, quantity=10, user=clerk)
    services.reserve(item=screws, quantity=4, demand_type="work_order", demand_id=5, user=clerk)
    services.reserve(item=screws, quantity=4, demand_type="work_order", demand_id=5, location=stores, user=clerk)
    assert StockBalance.objects.get(item=screws).reserved == 4
    released = services.release_reservations_for(demand_type="work_order", demand_id=5, user=clerk)
    assert [r.status for r in released] == ["closed", "closed"]
    assert available_quantity(item=screws) == 10
    assert StockBalance.objects.get(item=screws).reserved == 0
    assert ledger_discrepancies() == []


def test_shortages_for_lists_only_what_is_short(screws, chips, stores, clerk):
    from inventory.selectors import shortages_for

    services.receive(item=screws, location=stores, quantity=10, user=clerk)
    services.receive(item=chips, location=stores, quantity=3, lot_code="L", user=clerk)
    assert shortages_for(requirements=[(screws, 6), (chips, 2), (screws, 4)]) == []
    assert shortages_for(requirements=[(chips, 5)]) == [
        {"item": chips.pk, "item_code": "CHIP", "required": 5, "available": 3, "shortage": 2}
    ]


def test_reverse_move_restores_balances(chips, stores, line, clerk):
    services.receive(item=chips, location=stores, quantity=10, lot_code="L", user=clerk)
    (move,) = services.transfer(item=chips, from_location=stores, to_location=line, quantity=4, lot="L", user=clerk)
    lot = Lot.objects.get(code="L")
    reversal = services.reverse_move(move=move, reason="Wrong bin", user=clerk)
    assert (reversal.kind, reversal.from_location_id, reversal.to_location_id, reversal.reverses_id) == (
        "reversal",
        line.pk,
        stores.pk,
        move.pk,
    )
    assert balance(chips, stores, lot) == 10 and balance(chips, line, lot) == 0
    assert ledger_discrepancies() == []


def test_produce_writes_genealogy(chips, boards, stores, line, clerk):
    services.receive(item=chips, location=stores, quantity=10, lot_code="C1", user=clerk)
    services.issue(item=chips, location=stores, quantity=2, lot="C1", work_order_id=9, user=clerk)
    lot = Lot.objects.get(code="C1")
    services.produce(
        item=boards,
        location=line,
        quantity=2,
        serial_codes=["B1", "B2"],
        work_order_id=9,
        operation_id=90,
        consumed=[(lot, 2)],
        user=clerk,
    )
    from inventory.models import GenealogyLink

    links = GenealogyLink.objects.order_by("produced_serial__code")
    assert [(link.consumed_lot_id, link.produced_serial.code, link.quantity, link.operation_id) for link in links] == [
        (lot.pk, "B1", 1, 90),
        (lot.pk, "B2", 1, 90),
    ]
    assert ledger_discrepancies() == []


def test_stock_at_virtual_locations_is_on_hand_but_never_available(chips, stores, clerk):
    supplier = LocationFactory(code="SUPPLIER", purpose=Location.Purpose.SUPPLIER)
    services.receive(item=chips, location=stores, quantity=10, lot_code="L-RET", user=clerk)
    services.transfer(item=chips, from_location=stores, to_location=supplier, quantity=4, lot="L-RET", user=clerk)
    assert on_hand(item=chips) == 10
    assert available_quantity(item=chips) == 6
    assert available_quantity(item=chips, location=supplier) == 0
    with pytest.raises(InsufficientStock):
        services.issue(item=chips, location=supplier, quantity=1, lot="L-RET", user=clerk)
