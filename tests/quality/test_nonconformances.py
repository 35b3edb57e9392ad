"""Nonconformances through the services: disposition moves the material through inventory and
keeps the ledger consistent; the state machine refuses what it must."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory import services as inventory
from inventory.models import Hold, Item, Lot, SerialNumber, StockBalance, StockMove
from inventory.selectors import ledger_discrepancies, on_hand
from mes.errors import ApplicationError, InvalidInput
from mes.models import ElectronicSignature, Event
from mes.signatures import SignatureRefused
from quality import services
from quality.models import Inspection, Nonconformance, NonconformanceEvent
from tests.factories import PASSWORD, ItemFactory
from tests.quality.conftest import characteristics, receive_lot

pytestmark = pytest.mark.django_db


@pytest.fixture
def rejected(receipt_plan, displays, receiving, inspector):
    """A lot of 500 received into receiving and rejected at inspection: held under an NCR."""
    lot = receive_lot(displays, receiving, code="L-BAD")
    brightness, _ = characteristics(receipt_plan)
    services.measurements_record(
        inspection=Inspection.objects.get(lot=lot),
        measurements=[{"characteristic": brightness.pk, "sample_index": i, "value": "500"} for i in (1, 2)],
        user=inspector,
    )
    lot.refresh_from_db()
    assert lot.status == Lot.Status.ON_HOLD
    return Nonconformance.objects.get(lot=lot)


def test_scrap_disposition_scraps_the_held_quantity_and_keeps_the_ledger_consistent(rejected, receiving, inspector):
    ncr = services.nonconformance_disposition(ncr=rejected, disposition="scrap", note="Dim panels", user=inspector, signature_password=PASSWORD)

    assert (ncr.status, ncr.disposition, ncr.dispositioned_by) == ("closed", "scrap", inspector)
    lot = Lot.objects.get(pk=ncr.lot_id)
    assert lot.status == Lot.Status.SCRAPPED
    assert on_hand(item=ncr.item, lot=lot) == 0
    scrap = StockMove.objects.get(kind="scrap", lot=lot)
    assert (scrap.quantity, scrap.from_location_id, scrap.document_type, scrap.document_id) == (
        Decimal("500.000"), receiving.pk, "nonconformance", ncr.number,
    )
    assert ledger_discrepancies() == []
    assert not Hold.objects.filter(lot=lot, status="active").exists()
    assert Inspection.objects.get(pk=ncr.inspection_id).disposition == "scrap"
    history = list(NonconformanceEvent.objects.filter(nonconformance=ncr).values_list("from_status", "to_status"))
    assert history == [("", "open"), ("open", "closed")]
    assert Event.objects.filter(type="nonconformance.dispositioned", aggregate_id=str(ncr.pk)).exists()


def test_scrap_takes_the_ncr_quantity_from_every_location_of_the_lot(rejected, receiving, stores, inspector):
    inventory.transfer(item=rejected.item, from_location=receiving, to_location=stores, quantity=200, lot=rejected.lot, user=inspector)
    inventory.receive(item=rejected.item, location=stores, quantity=100, lot_code="L-BAD", user=inspector)
    assert on_hand(item=rejected.item, lot=rejected.lot) == 600

    services.nonconformance_disposition(ncr=rejected, disposition="scrap", user=inspector, signature_password=PASSWORD)

    # The 500 judged nonconforming are scrapped, the 100 received later stay and are free again.
    assert on_hand(item=rejected.item, lot=rejected.lot) == 100
    assert sum(StockMove.objects.filter(kind="scrap").values_list("quantity", flat=True)) == 500
    rejected.lot.refresh_from_db()
    assert rejected.lot.status == Lot.Status.AVAILABLE
    assert ledger_discrepancies() == []


@pytest.mark.parametrize("password", [None, "", "guess"])
def test_a_disposition_without_the_signers_password_changes_nothing(rejected, inspector, password):
    with pytest.raises(SignatureRefused) as refused:
        services.nonconformance_disposition(ncr=rejected, disposition="scrap", user=inspector, signature_password=password)

    assert (refused.value.status, refused.value.field) == (403, "signature_password")
    rejected.refresh_from_db()
    assert (rejected.status, rejected.disposition) == ("open", "")
    assert rejected.lot.status == Lot.Status.ON_HOLD and rejected.holds.get().status == "active"
    assert not StockMove.objects.filter(kind="scrap").exists()
    assert not ElectronicSignature.objects.exists()
    assert not Event.objects.filter(type="nonconformance.dispositioned").exists()


def test_the_disposition_is_signed_with_the_ncr_and_the_decision(rejected, inspector):
    ncr = services.nonconformance_disposition(
        ncr=rejected, disposition="scrap", note="Dim", user=inspector, signature_password=PASSWORD, signature_meaning="Approved"
    )

    signature = ElectronicSignature.objects.get()
    assert (signature.user, signature.meaning, signature.record_type, signature.record_id) == (
        inspector, "Approved", "nonconformance", str(ncr.pk)
    )
    assert len(signature.record_hash) == 64
    # The holds the disposition released are covered by the same signature, not signed again.
    hold = ncr.holds.get()
    assert hold.status == "released"
    released = Event.objects.get(type="lot.released")
    assert released.payload["signature"] == signature.pk
    assert ncr.events.last().details["signature"] == signature.pk


def test_use_as_is_releases_the_hold(rejected, displays, receiving, inspector):
    ncr = services.nonconformance_disposition(ncr=rejected, disposition="use_as_is", note="Within customer deviation", user=inspector, signature_password=PASSWORD)

    assert ncr.status == "closed"
    lot = Lot.objects.get(pk=ncr.lot_id)
    assert lot.status == Lot.Status.AVAILABLE
    assert ncr.holds.get().status == "released"
    inventory.issue(item=displays, location=receiving, quantity=10, lot=lot, user=inspector)
    assert on_hand(item=displays, lot=lot) == 490


def test_return_to_supplier_moves_the_material_to_the_supplier_location(rejected, supplier, receiving, inspector):
    ncr = services.nonconformance_disposition(ncr=rejected, disposition="return_to_supplier", user=inspector, signature_password=PASSWORD)

    assert (ncr.status, ncr.returned_to) == ("closed", supplier)
    balance = StockBalance.objects.get(lot=ncr.lot, location=supplier)
    assert balance.quantity == 500
    assert on_hand(item=ncr.item, lot=ncr.lot, location=receiving) == 0
    move = StockMove.objects.get(kind="transfer", lot=ncr.lot)
    assert (move.from_location_id, move.to_location_id, move.reference) == (receiving.pk, supplier.pk, ncr.number)
    # Returned stock stays held so it never counts as available.
    assert Lot.objects.get(pk=ncr.lot_id).status == Lot.Status.ON_HOLD
    assert ledger_discrepancies() == []


def test_return_needs_a_supplier_location(rejected, stores, inspector):
    with pytest.raises(ApplicationError) as no_supplier:
        services.nonconformance_disposition(ncr=rejected, disposition="return_to_supplier", user=inspector, signature_password=PASSWORD)
    assert (no_supplier.value.status, no_supplier.value.code) == (409, "no_supplier_location")
    with pytest.raises(InvalidInput) as not_a_supplier:
        services.nonconformance_disposition(ncr=rejected, disposition="return_to_supplier", location=stores, user=inspector, signature_password=PASSWORD)
    assert (not_a_supplier.value.field, not_a_supplier.value.code) == ("location", "not_a_supplier_location")
    rejected.refresh_from_db()
    assert rejected.status == "open"


def test_rework_keeps_the_hold_until_the_ncr_is_closed(rejected, displays, receiving, inspector):
    ncr = services.nonconformance_disposition(ncr=rejected, disposition="rework", note="Re-laminate", user=inspector, signature_password=PASSWORD)
    assert ncr.status == "dispositioned"
    assert Lot.objects.get(pk=ncr.lot_id).status == Lot.Status.ON_HOLD

    ncr = services.nonconformance_close(ncr=ncr, note="Re-laminated and retested", user=inspector, signature_password=PASSWORD)

    assert (ncr.status, ncr.closed_by) == ("closed", inspector)
    assert Lot.objects.get(pk=ncr.lot_id).status == Lot.Status.AVAILABLE
    assert list(ncr.events.values_list("to_status", flat=True)) == ["open", "dispositioned", "closed"]


def test_the_state_machine_refuses_a_second_disposition_and_an_early_close(rejected, inspector):
    with pytest.raises(ApplicationError) as early:
        services.nonconformance_close(ncr=rejected, user=inspector, signature_password=PASSWORD)
    assert (early.value.status, early.value.code) == (409, "disposition_required")

    services.nonconformance_disposition(ncr=rejected, disposition="use_as_is", user=inspector, signature_password=PASSWORD)
    with pytest.raises(ApplicationError) as twice:
        services.nonconformance_disposition(ncr=rejected, disposition="scrap", user=inspector, signature_password=PASSWORD)
    assert (twice.value.status, twice.value.code) == (409, "invalid_transition")
    assert not StockMove.objects.filter(kind="scrap").exists()

    with pytest.raises(InvalidInput) as unknown:
        services.nonconformance_disposition(ncr=rejected, disposition="burn", user=inspector, signature_password=PASSWORD)
    assert unknown.value.field == "disposition"


def test_scrapping_a_batch_of_held_serials(receiving, inspector):
    phones = ItemFactory(code="PH", tracking=Item.Tracking.SERIAL)
    inventory.receive(item=phones, location=receiving, quantity=4, serial_codes=["A1", "A2", "A3", "A4"], user=inspector)
    serials = list(SerialNumber.objects.filter(item=phones, code__in=["A1", "A2", "A3"]))
    ncr = services.nonconformance_open(item=phones, serials=serials, description="Cracked glass", user=inspector)
    assert ncr.quantity == 3 and ncr.holds.count() == 3

    services.nonconformance_disposition(ncr=ncr, disposition="scrap", user=inspector, signature_password=PASSWORD)

    statuses = dict(SerialNumber.objects.filter(item=phones).values_list("code", "status"))
    assert statuses == {"A1": "scrapped", "A2": "scrapped", "A3": "scrapped", "A4": "available"}
    assert on_hand(item=phones) == 1
    assert ledger_discrepancies() == []


def test_an_ncr_by_hand_needs_a_description_and_a_positive_quantity(displays, receiving, inspector):
    lot = receive_lot(displays, receiving, code="L-1", quantity=50)
    with pytest.raises(InvalidInput) as blank:
        services.nonconformance_open(lot=lot, description="  ", user=inspector)
    assert blank.value.field == "description"
    with pytest.raises(InvalidInput) as zero:
        services.nonconformance_open(lot=lot, quantity="0", description="Scratches", user=inspector)
    assert zero.value.field == "quantity"

    ncr = services.nonconformance_open(lot=lot, quantity="5", description="Scratches", user=inspector)
    assert (ncr.number, ncr.quantity, ncr.status) == (f"NCR-{ncr.pk:06d}", Decimal("5.000"), "open")
    lot.refresh_from_db()
    assert lot.status == Lot.Status.ON_HOLD


def test_an_untracked_item_is_dispositioned_at_its_location(receiving, inspector):
    screws = ItemFactory(code="SCREW", tracking=Item.Tracking.NONE)
    inventory.receive(item=screws, location=receiving, quantity=1000, user=inspector)
    ncr = services.nonconformance_open(item=screws, location=receiving, quantity=200, description="Wrong thread", user=inspector)
    assert not ncr.holds.exists()

    services.nonconformance_disposition(ncr=ncr, disposition="scrap", user=inspector, signature_password=PASSWORD)

    assert on_hand(item=screws, location=receiving) == 800
    assert ledger_discrepancies() == []
