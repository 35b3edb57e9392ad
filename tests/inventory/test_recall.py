"""Recall jobs: trace a bad component lot forward to every affected end product, hold what is in stock."""

import csv
import io
import time

import pytest
from django.db import connection

from inventory import services
from inventory.models import Hold, Item, Lot, RecallJob, SerialNumber
from inventory.services.recall import report_as_dicts
from mes.models import Event
from tests.factories import ItemFactory, LocationFactory


def build_plant(chips, boards, phones, line, clerk):
    """Chip lot C1 → boards B1, B2 → phones P1 (in finished goods), P2 (still on the line, where
    B2's phone is being built); B3 from C1 is still in stock unbuilt; C1 has stock left."""
    fg = LocationFactory(code="FG")
    services.receive(item=chips, location=line, quantity=10, lot_code="C1", user=clerk)
    lot = Lot.objects.get(code="C1")
    for board in ("B1", "B2", "B3"):
        services.issue(item=chips, location=line, quantity=2, lot=lot, user=clerk)
        services.produce(item=boards, location=line, quantity=1, serial_codes=[board], consumed=[(lot, 2)], user=clerk)
    for phone, board, where in (("P1", "B1", fg), ("P2", "B2", line)):
        services.issue(item=boards, location=line, quantity=1, serials=[board], user=clerk)
        services.produce(
            item=phones, location=where, quantity=1, serial_codes=[phone],
            consumed=[(SerialNumber.objects.get(code=board), 1)], user=clerk,
        )
    services.issue(item=phones, location=line, quantity=1, serials=["P2"], user=clerk)  # P2 shipped in a kit
    return lot


def rows_by_code(job):
    return {row["code"]: row for row in report_as_dicts(job.report)}


@pytest.mark.django_db
def test_recall_job_lists_every_affected_end_product(chips, boards, phones, line, clerk, django_capture_on_commit_callbacks):
    lot = build_plant(chips, boards, phones, line, clerk)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.recall_start(lot=lot, reason="Supplier 8D: die cracks", user=clerk)
    job.refresh_from_db()
    assert (job.status, job.progress, job.affected_count, job.holds_placed) == ("done", 100, 3, 0)
    rows = rows_by_code(job)
    assert set(rows) == {"P1", "P2", "B3"}
    assert (rows["P1"]["status"], rows["P1"]["location_code"], rows["P1"]["item_code"]) == ("available", "FG", "PHONE")
    assert (rows["P2"]["status"], rows["P2"]["location_code"]) == ("consumed", None)
    assert rows["B3"]["location_code"] == "LINE"
    assert Event.objects.filter(type="recall.completed", aggregate_id=str(job.pk)).count() == 1
    assert not Hold.objects.exists()


@pytest.mark.django_db
def test_recall_with_holds_holds_everything_still_in_stock_once(chips, boards, phones, line, clerk, django_capture_on_commit_callbacks):
    lot = build_plant(chips, boards, phones, line, clerk)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.recall_start(lot=lot, reason="Die cracks", place_holds=True, user=clerk)
    job.refresh_from_db()
    held = {(h.lot.code if h.lot else h.serial.code) for h in Hold.objects.select_related("lot", "serial")}
    # The lot itself (4 left), board B3 and phone P1 are in stock; B1, B2 and P2 are not.
    assert held == {"C1", "B3", "P1"} and job.holds_placed == 3
    assert Lot.objects.get(pk=lot.pk).status == "on_hold"
    assert SerialNumber.objects.get(code="P1").status == "on_hold"
    assert rows_by_code(job)["P1"]["status"] == "on_hold"
    assert set(Hold.objects.values_list("source_type", "source_id").distinct()) == {("recall", job.pk)}
    # Running the job again (a redelivered task) changes nothing.
    services.recall_run(job_id=job.pk)
    assert Hold.objects.count() == 3
    RecallJob.objects.filter(pk=job.pk).update(status="running")
    services.recall_run(job_id=job.pk)
    assert Hold.objects.count() == 3 and RecallJob.objects.get(pk=job.pk).status == "done"


@pytest.mark.django_db
def test_of_two_deliveries_of_a_recall_at_once_only_the_first_to_finish_completes_it(chips, boards, phones, line, clerk, monkeypatch):
    from inventory.services import recall as recall_module

    lot = build_plant(chips, boards, phones, line, clerk)
    job = services.recall_start(lot=lot, reason="Die cracks", place_holds=True, user=clerk)
    report = recall_module.affected_report_csv

    def overtaken(**kwargs):
        # A second delivery (the broker's visibility timeout ran out) runs the job to the end meanwhile.
        monkeypatch.setattr(recall_module, "affected_report_csv", report)
        assert services.recall_run(job_id=job.pk).status == "done"
        return report(**kwargs)

    monkeypatch.setattr(recall_module, "affected_report_csv", overtaken)
    finished = services.recall_run(job_id=job.pk)
    assert finished.status == "done" and finished.holds_placed == 3
    assert Hold.objects.count() == 3
    assert Event.objects.filter(type="recall.completed", aggregate_id=str(job.pk)).count() == 1


@pytest.mark.django_db
def test_recall_of_a_serial(chips, boards, phones, line, clerk, django_capture_on_commit_callbacks):
    build_plant(chips, boards, phones, line, clerk)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.recall_start(serial=SerialNumber.objects.get(code="B1"), reason="Rework escape", user=clerk)
    job.refresh_from_db()
    assert list(rows_by_code(job)) == ["P1"]


@pytest.mark.django_db
def test_recall_api_202_job_json_and_csv(chips, boards, phones, line, clerk, quality_client, operator_client, django_capture_on_commit_callbacks):
    build_plant(chips, boards, phones, line, clerk)
    body = {"lot": "C1", "item": chips.pk, "reason": "Die cracks"}
    assert operator_client.post("/api/v1/recalls/", body, format="json").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = quality_client.post("/api/v1/recalls/", body, format="json")
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    assert response["Location"] == f"/api/v1/recalls/{job_id}/"
    detail = operator_client.get(f"/api/v1/recalls/{job_id}/").json()
    assert detail["status"] == "done" and detail["affected_count"] == 3 and detail["lot_code"] == "C1"
    assert {row["code"] for row in detail["affected"]} == {"P1", "P2", "B3"}
    report = operator_client.get(f"/api/v1/recalls/{job_id}/report.csv")
    assert report.status_code == 200 and report["Content-Type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(report.content.decode())))
    assert {line["code"]: line["location_code"] for line in lines} == {"P1": "FG", "P2": "", "B3": "LINE"}
    listed = operator_client.get("/api/v1/recalls/").json()["results"]
    assert [job["id"] for job in listed] == [job_id] and "affected" not in listed[0]


@pytest.mark.django_db
def test_recall_api_refusals(chips, quality_client, clerk):
    def post(body):
        return quality_client.post("/api/v1/recalls/", body, format="json")

    missing = post({"lot": "NOPE", "item": chips.pk, "reason": "x"})
    assert missing.status_code == 404 and missing["Content-Type"].startswith("application/problem+json")
    both = post({"lot": "A", "serial": "B", "reason": "x"})
    assert both.status_code == 400 and both.json()["errors"][0]["field"] == "lot"
    no_reason = post({"serial": "B"})
    assert no_reason.status_code == 400 and "reason" in {e["field"] for e in no_reason.json()["errors"]}
    lot = Lot.objects.create(item=chips, code="Q1")
    job = RecallJob.objects.create(lot=lot, reason="queued one")
    not_done = quality_client.get(f"/api/v1/recalls/{job.pk}/report.csv")
    assert not_done.status_code == 409 and not_done.json()["code"] == "recall_not_done"
    assert not RecallJob.objects.exclude(pk=job.pk).exists()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_recall_end_to_end_through_the_real_worker(api_client_for, make_user):
    # Given a plant built through the services and committed (the worker reads committed rows)
    clerk = make_user("planner")
    line = LocationFactory(code="LINE")
    chips = ItemFactory(code="CHIP", tracking=Item.Tracking.LOT)
    boards = ItemFactory(code="BOARD", tracking=Item.Tracking.SERIAL)
    phones = ItemFactory(code="PHONE", tracking=Item.Tracking.SERIAL)
    build_plant(chips, boards, phones, line, clerk)
    client = api_client_for("quality")
    # When quality starts a recall with holds
    response = client.post("/api/v1/recalls/", {"lot": "C1", "item": chips.pk, "reason": "Die cracks", "place_holds": True}, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["status"] in ("queued", "running", "done")
    job_id = response.json()["id"]
    # Then the worker finishes it
    deadline = time.monotonic() + 60
    job = RecallJob.objects.get(pk=job_id)
    while job.status not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)
        job = RecallJob.objects.get(pk=job_id)
    assert job.status == "done", job.error
    assert job.affected_count == 3 and job.holds_placed == 3
    assert {row["code"] for row in client.get(f"/api/v1/recalls/{job_id}/").json()["affected"]} == {"P1", "P2", "B3"}
    assert SerialNumber.objects.get(code="P1").status == "on_hold"
    connection.close()
