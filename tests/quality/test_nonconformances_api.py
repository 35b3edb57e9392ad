"""Nonconformances over the API: a rejected lot dispositioned (signed) through the stock services,
refusals that name the field, an NCR opened by hand and closed after rework."""

from __future__ import annotations

import pytest

from inventory.models import Lot, StockMove
from inventory.selectors import ledger_discrepancies
from mes.models import ElectronicSignature
from quality import services
from quality.models import (
    Inspection,
    Nonconformance,
)
from tests.factories import PASSWORD
from tests.quality.conftest import PROBLEM, characteristics, field_errors, receive_lot

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_lot(receipt_plan, displays, receiving, inspector):
    lot = receive_lot(displays, receiving, code="L-BAD")
    brightness, _ = characteristics(receipt_plan)
    services.measurements_record(
        inspection=Inspection.objects.get(lot=lot),
        measurements=[{"characteristic": brightness.pk, "sample_index": i, "value": "500"} for i in (1, 2)],
        user=inspector,
    )
    return lot


def test_quality_scraps_a_rejected_lot_through_the_api(quality_client, failed_lot):
    ncr = Nonconformance.objects.get()
    listed = quality_client.get("/api/v1/nonconformances/?status=open").json()
    assert [row["number"] for row in listed["results"]] == [ncr.number]
    assert listed["results"][0]["holds"][0]["lot_code"] == "L-BAD"

    response = quality_client.post(
        f"/api/v1/nonconformances/{ncr.pk}/disposition/",
        {"disposition": "scrap", "note": "dim", "signature_password": PASSWORD},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["disposition"], body["disposition_note"]) == ("closed", "scrap", "dim")
    assert [e["to_status"] for e in body["events"]] == ["open", "closed"]
    assert [(s["signer"], s["meaning"]) for s in body["signatures"]] == [(quality_client.user.username, "Dispositioned: scrap")]
    assert body["events"][-1]["details"]["signature"] == body["signatures"][0]["id"]
    assert StockMove.objects.filter(kind="scrap", lot=failed_lot).exists()
    assert ledger_discrepancies() == []
    again = quality_client.post(
        f"/api/v1/nonconformances/{ncr.pk}/disposition/", {"disposition": "scrap", "signature_password": PASSWORD}, format="json"
    )
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


def test_a_disposition_is_refused_naming_the_field(quality_client, operator_client, failed_lot):
    ncr = Nonconformance.objects.get()
    url = f"/api/v1/nonconformances/{ncr.pk}/disposition/"

    unknown = quality_client.post(url, {"disposition": "burn"}, format="json")
    assert unknown.status_code == 400 and "disposition" in field_errors(unknown)
    assert operator_client.post(url, {"disposition": "use_as_is"}, format="json").status_code == 403
    for unsigned in ({"disposition": "scrap"}, {"disposition": "scrap", "signature_password": "guess"}):
        refused = quality_client.post(url, unsigned, format="json")
        assert refused.status_code == 403 and refused["Content-Type"].startswith(PROBLEM)
        assert refused.json()["code"] == "signature_refused" and "signature_password" in field_errors(refused)
    ncr.refresh_from_db()
    assert ncr.status == "open"
    assert Lot.objects.get(pk=failed_lot.pk).status == "on_hold"
    assert not StockMove.objects.filter(kind="scrap").exists() and not ElectronicSignature.objects.exists()


def test_quality_opens_an_ncr_by_hand_and_closes_a_rework(quality_client, displays, receiving):
    lot = receive_lot(displays, receiving, code="L-7", quantity=40)
    response = quality_client.post(
        "/api/v1/nonconformances/", {"lot": lot.pk, "quantity": "4", "description": "Bezel scratches"}, format="json"
    )
    assert response.status_code == 201, response.content
    ncr_id = response.json()["id"]
    assert Lot.objects.get(pk=lot.pk).status == "on_hold"

    rework = quality_client.post(
        f"/api/v1/nonconformances/{ncr_id}/disposition/", {"disposition": "rework", "signature_password": PASSWORD}, format="json"
    )
    assert rework.json()["status"] == "dispositioned"
    unsigned = quality_client.post(f"/api/v1/nonconformances/{ncr_id}/close/", {"note": "Polished"}, format="json")
    assert unsigned.status_code == 403 and "signature_password" in field_errors(unsigned)
    assert Lot.objects.get(pk=lot.pk).status == "on_hold"
    closed = quality_client.post(
        f"/api/v1/nonconformances/{ncr_id}/close/", {"note": "Polished", "signature_password": PASSWORD}, format="json"
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert [s["meaning"] for s in closed.json()["signatures"]] == ["Dispositioned: rework", "Closed: rework done, holds released"]
    assert Lot.objects.get(pk=lot.pk).status == "available"

    blank = quality_client.post("/api/v1/nonconformances/", {"lot": lot.pk, "description": ""}, format="json")
    assert blank.status_code == 400 and "description" in field_errors(blank)
