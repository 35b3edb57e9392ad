"""The floor page in a real browser (Debian's chromium, headless, driven by Playwright): an
operator logs in, runs the first demo order's SMT operation from start to completion with a
scanned lot, and is refused a held lot. Screenshots go to tests/artifacts/.

Skipped (not failed) only where /usr/bin/chromium is not installed; CI installs it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.management import call_command

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TABLET = {"width": 1280, "height": 800}  # a 10-inch tablet, landscape

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


@pytest.fixture
def demo_plant(transactional_db):
    from inventory.models import Lot
    from inventory.services import place_hold
    from orders.models import WorkOrder

    call_command("load_demo_factory")
    held = Lot.objects.get(item__code="PCB-100", code="PCB-2611-002")
    place_hold(lot=held, reason="supplier complaint 4711", user=None)
    order = WorkOrder.objects.get(number="WO-DEMO-0001")
    return order


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_an_operator_runs_an_operation_on_the_floor_page(live_server, demo_plant, monkeypatch):
    from playwright.sync_api import expect, sync_playwright

    order = demo_plant
    operation_id = order.operations.get().pk
    # Playwright's driver runs an event loop in this thread; the database is only touched
    # before it starts and after it stops, and by the live server's own thread.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=TABLET)
            page.set_default_timeout(15_000)
            page.goto(f"{live_server.url}/floor/")
            expect(page.get_by_role("heading", name="Log in")).to_be_visible()
            _shot(page, "floor-1-login.png")
            page.fill("#id_username", "operator")
            page.fill("#id_password", "operator-demo-pass")
            page.click("button[type=submit]")

            expect(page.get_by_role("heading", name="Pick your work center")).to_be_visible()
            _shot(page, "floor-2-work-centers.png")
            page.click("a[data-code=SMT]")
            page.click(f"a[data-operation-link='{operation_id}']")
            expect(page.locator("#operation-status")).to_have_text("Ready")

            page.click("button[data-action=start]")
            expect(page.locator("#message")).to_contain_text("Started")
            expect(page.locator("#operation-status")).to_have_text("Running")

            # the held lot: scanned, reported, refused with the API's sentence
            page.fill("#quantity_good", "2")
            page.fill("#scan", "PCB-2611-002")
            page.press("#scan", "Enter")
            expect(page.locator("#scanned")).to_contain_text("PCB-2611-002 (lot)")
            page.fill("[data-scan-quantity='0']", "2")
            page.fill("#produced_serials", "MBD-FLOOR-0001\nMBD-FLOOR-0002")
            page.click("#report-form button[type=submit]")
            message = page.locator("#message.error")
            expect(message).to_contain_text("on hold")
            expect(message).to_contain_text("PCB-2611-002")
            _shot(page, "floor-3-held-lot-refused.png")

            # the right lot
            page.click("[data-remove-scan='0']")
            page.fill("#scan", "PCB-2611-001")
            page.click("#scan-add")
            expect(page.locator("#scanned")).to_contain_text("PCB-2611-001 (lot)")
            page.fill("[data-scan-quantity='0']", "2")
            page.click("#report-form button[type=submit]")
            expect(page.locator("#message.ok")).to_contain_text("Reported 2 good, 0 scrap on WO-DEMO-0001")
            expect(page.locator("#quantity-good")).to_have_text("2")
            _shot(page, "floor-4-reported.png")

            # an unknown code is said so, and nothing is sent
            page.fill("#scan", "NO-SUCH-LOT")
            page.press("#scan", "Enter")
            expect(page.locator("#message.error")).to_contain_text("No lot or serial number NO-SUCH-LOT")

            # a pause whose answer is lost on the way back: the server recorded it, the tablet
            # does not know; "Send again" repeats it with the same key and gets the first answer
            def lose_the_answer(route):
                route.fetch()
                route.abort()

            page.route("**/api/v1/operations/*/pause/", lose_the_answer)
            page.click("button[data-action=pause]")
            expect(page.locator("#retry")).to_be_visible()
            _shot(page, "floor-5-answer-lost.png")
            page.unroute("**/api/v1/operations/*/pause/")
            page.click("button[data-retry]")
            expect(page.locator("#message.ok")).to_contain_text("Paused")
            expect(page.locator("#message.ok")).to_contain_text("recorded before")
            expect(page.locator("#operation-status")).to_have_text("Paused")
            page.click("button[data-action=resume]")
            expect(page.locator("#operation-status")).to_have_text("Running")

            page.click("button[data-action=complete]")
            expect(page.locator("#message.ok")).to_contain_text("Completed")
            expect(page.locator("#operation-status")).to_have_text("Done")
            _shot(page, "floor-6-completed.png")

            # a stop of the line, and the line running again
            page.select_option("#downtime-reason", "BREAKDOWN")
            page.select_option("#downtime-minutes", "10")
            page.click("#downtime-form button[type=submit]")
            expect(page.locator("#message.ok")).to_contain_text("Work center down: BREAKDOWN")
            expect(page.locator("[data-downtime-open]")).to_contain_text("BREAKDOWN Machine breakdown")
            _shot(page, "floor-7-down.png")
            page.click("button[data-close-downtime]")
            expect(page.locator("#message.ok")).to_contain_text("Running again after")
            expect(page.locator("#downtime-form")).to_be_visible()
        finally:
            browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)

    from inventory.models import Lot
    from orders.models import (
        DowntimeEvent,
        OperationEvent,
        OperationStatus,
        ProductionReport,
        ReportConsumption,
        WorkOrderStatus,
    )

    order.refresh_from_db()
    assert order.status == WorkOrderStatus.COMPLETED
    operation = order.operations.get()
    assert operation.status == OperationStatus.DONE and operation.quantity_good == 2
    report = ProductionReport.objects.get(operation=operation)
    consumed = ReportConsumption.objects.filter(report=report, lot__isnull=False)
    assert [(c.lot.code, c.quantity) for c in consumed] == [("PCB-2611-001", 2)]
    assert sorted(report.outputs.values_list("serial__code", flat=True)) == ["MBD-FLOOR-0001", "MBD-FLOOR-0002"]
    assert not ReportConsumption.objects.filter(lot=Lot.objects.get(code="PCB-2611-002")).exists()
    actions = list(OperationEvent.objects.filter(operation=operation).values_list("action", flat=True))
    assert actions == ["start", "pause", "resume", "complete"]  # the pause sent twice counted once
    stop = DowntimeEvent.objects.get(work_center=operation.work_center)
    assert stop.reason.code == "BREAKDOWN" and stop.ended_at is not None
    assert 9 <= stop.duration_minutes <= 15
