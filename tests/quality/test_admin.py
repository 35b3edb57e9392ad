"""The quality engineer's admin: pages render, a plan is saved with its characteristics through
the plan service, and the disposition action asks for a signature and carries out the same service
as the API."""

import pytest
from django.contrib.auth import get_user_model

from inventory.models import Lot
from mes.models import ElectronicSignature
from quality.models import Inspection, InspectionPlan, Nonconformance
from tests.quality.conftest import characteristics, receive_lot

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("qa-admin", "qa@example.com", "admin-pass-123")
    client.force_login(user)
    return client


def test_every_quality_admin_page_renders(admin_client, receipt_plan, displays, receiving):
    receive_lot(displays, receiving, code="L-1")
    inspection = Inspection.objects.get()
    for url in (
        "/admin/quality/inspectionplan/",
        "/admin/quality/inspectionplan/add/",
        f"/admin/quality/inspectionplan/{receipt_plan.pk}/change/",
        "/admin/quality/inspection/",
        f"/admin/quality/inspection/{inspection.pk}/change/",
        "/admin/quality/nonconformance/",
        "/admin/quality/spcsignal/",
        "/admin/quality/samplingstate/",
    ):
        assert admin_client.get(url).status_code == 200, url


def test_a_plan_is_saved_with_its_characteristics_and_refused_when_wrong(admin_client, displays):
    form = {
        "item": displays.pk, "name": "Incoming", "revision": "A", "description": "", "trigger": "receipt",
        "aql": "1.000", "inspection_level": "II", "is_active": "on",
        "characteristics-TOTAL_FORMS": "1", "characteristics-INITIAL_FORMS": "0",
        "characteristics-MIN_NUM_FORMS": "0", "characteristics-MAX_NUM_FORMS": "1000",
        "characteristics-0-position": "0", "characteristics-0-name": "Brightness", "characteristics-0-kind": "variable",
        "characteristics-0-lsl": "550", "characteristics-0-usl": "650", "characteristics-0-unit": "nits",
        "characteristics-0-chart_type": "imr", "characteristics-0-subgroup_size": "5",
    }
    refused = admin_client.post("/admin/quality/inspectionplan/add/", {**form, "characteristics-0-usl": "500"})
    assert refused.status_code == 200 and not InspectionPlan.objects.exists()

    saved = admin_client.post("/admin/quality/inspectionplan/add/", form)
    assert saved.status_code == 302, [str(e) for e in saved.context["errors"]] if saved.context else saved.content[:200]
    plan = InspectionPlan.objects.get()
    assert list(plan.characteristics.values_list("name", "lsl")) == [("Brightness", 550)]


def test_the_disposition_action_calls_the_service(admin_client, receipt_plan, displays, receiving, inspector):
    from quality import services

    lot = receive_lot(displays, receiving, code="L-BAD")
    brightness, _ = characteristics(receipt_plan)
    services.measurements_record(
        inspection=Inspection.objects.get(lot=lot),
        measurements=[{"characteristic": brightness.pk, "sample_index": i, "value": "500"} for i in (1, 2)],
        user=inspector,
    )
    ncr = Nonconformance.objects.get()

    action = {"action": "disposition_use_as_is", "_selected_action": [ncr.pk]}

    page = admin_client.post("/admin/quality/nonconformance/", action)
    assert page.status_code == 200 and b'name="signature_password"' in page.content and ncr.number.encode() in page.content
    unsigned = admin_client.post("/admin/quality/nonconformance/", {**action, "apply": "1", "note": "Within deviation"})
    assert unsigned.status_code == 200 and b"This field is required" in unsigned.content
    wrong = admin_client.post(
        "/admin/quality/nonconformance/", {**action, "apply": "1", "note": "Within deviation", "signature_password": "guess"}
    )
    assert wrong.status_code == 200 and b"does not match" in wrong.content
    ncr.refresh_from_db()
    assert ncr.status == "open" and Lot.objects.get(pk=lot.pk).status == "on_hold"
    assert not ElectronicSignature.objects.exists()

    response = admin_client.post(
        "/admin/quality/nonconformance/",
        {**action, "apply": "1", "note": "Within deviation", "signature_password": "admin-pass-123", "signature_meaning": "Approved"},
    )

    assert response.status_code == 302
    ncr.refresh_from_db()
    assert (ncr.status, ncr.disposition, ncr.disposition_note) == ("closed", "use_as_is", "Within deviation")
    assert Lot.objects.get(pk=lot.pk).status == "available"
    signature = ElectronicSignature.objects.get()
    assert (signature.signer_name, signature.meaning, signature.record_id) == ("qa-admin", "Approved", str(ncr.pk))
