"""The inventory admin (read-only ledger, holds and recalls as actions), the demo stock, check_ledger."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import Client

from inventory import demo, services
from inventory.models import Hold, Lot, RecallJob, SerialNumber, StockBalance, StockMove
from inventory.selectors import ledger_discrepancies
from mes.models import ElectronicSignature
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def quality_admin(make_user):
    user = make_user("quality", is_staff=True)
    Group.objects.get(name="quality").permissions.add(*Permission.objects.filter(content_type__app_label="inventory"))
    client = Client()
    client.force_login(user)
    return client


def messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_ledger_pages_are_read_only(quality_admin, chips, stores, clerk):
    (move,) = services.receive(item=chips, location=stores, quantity=5, lot_code="L1", user=clerk)
    for page in ("stockmove", "stockbalance", "genealogylink", "lot", "serialnumber", "hold", "reservation", "recalljob"):
        assert quality_admin.get(f"/admin/inventory/{page}/").status_code == 200, page
    assert quality_admin.get(f"/admin/inventory/stockmove/{move.pk}/change/").status_code == 200
    assert quality_admin.get("/admin/inventory/stockmove/add/").status_code == 403
    assert quality_admin.post(f"/admin/inventory/stockmove/{move.pk}/delete/", {"post": "yes"}).status_code == 403
    assert quality_admin.post(f"/admin/inventory/stockmove/{move.pk}/change/", {"quantity": "9"}).status_code == 403
    assert StockMove.objects.get().quantity == 5


def test_hold_and_release_through_admin_actions(quality_admin, chips, stores, clerk):
    services.receive(item=chips, location=stores, quantity=5, lot_code="L1", user=clerk)
    lot = Lot.objects.get(code="L1")
    no_reason = quality_admin.post("/admin/inventory/lot/", {"action": "place_hold", "_selected_action": [lot.pk], "reason": ""}, follow=True)
    assert any("reason is required" in m for m in messages(no_reason))
    assert not Hold.objects.exists()
    quality_admin.post("/admin/inventory/lot/", {"action": "place_hold", "_selected_action": [lot.pk], "reason": "Incoming inspection failed"})
    hold = Hold.objects.get()
    assert (hold.reason, Lot.objects.get(pk=lot.pk).status) == ("Incoming inspection failed", "on_hold")

    # Releasing asks for the reason and the signer's password on a page of its own
    action = {"action": "release", "_selected_action": [hold.pk], "reason": "Re-inspected: fine"}
    page = quality_admin.post("/admin/inventory/hold/", action)
    assert page.status_code == 200 and b'name="signature_password"' in page.content and b"Re-inspected: fine" in page.content
    wrong = quality_admin.post("/admin/inventory/hold/", {**action, "apply": "1", "signature_password": "guess"})
    assert wrong.status_code == 200 and b"does not match" in wrong.content
    assert Hold.objects.get().status == "active" and not ElectronicSignature.objects.exists()

    signed = quality_admin.post("/admin/inventory/hold/", {**action, "apply": "1", "signature_password": PASSWORD})
    assert signed.status_code == 302
    hold.refresh_from_db()
    assert (hold.status, hold.release_reason, Lot.objects.get(pk=lot.pk).status) == ("released", "Re-inspected: fine", "available")
    signature = ElectronicSignature.objects.get()
    assert (signature.record_type, signature.record_id, signature.meaning) == ("hold", str(hold.pk), "Released from hold")


def test_recall_from_the_admin(quality_admin, chips, stores, clerk, django_capture_on_commit_callbacks):
    services.receive(item=chips, location=stores, quantity=5, lot_code="L1", user=clerk)
    lot = Lot.objects.get(code="L1")
    with django_capture_on_commit_callbacks(execute=True):
        quality_admin.post("/admin/inventory/lot/", {"action": "start_recall", "_selected_action": [lot.pk], "reason": "Supplier alert"})
    job = RecallJob.objects.get()
    assert (job.status, job.affected_count) == ("done", 1)
    assert quality_admin.get(f"/admin/inventory/recalljob/{job.pk}/change/").status_code == 200


def test_demo_stock_is_received_once(clerk):
    with transaction.atomic():
        demo.load()
    moves = StockMove.objects.count()
    with transaction.atomic():
        demo.load()
    assert StockMove.objects.count() == moves > 0
    assert Lot.objects.filter(code="SOC-A1-L2611A").exists()
    assert SerialNumber.objects.filter(item__code="DSP-61", status="available").count() == 20
    assert StockBalance.objects.get(item__code="SCR-M1").quantity == 5000
    assert ledger_discrepancies() == []
    call_command("check_ledger")


def test_check_ledger_reports_a_tampered_balance(screws, stores, clerk):
    services.receive(item=screws, location=stores, quantity=5, user=clerk)
    StockBalance.objects.update(quantity=4)
    assert ledger_discrepancies()[0]["check"] == "balance_vs_ledger"
    with pytest.raises(CommandError):
        call_command("check_ledger")
