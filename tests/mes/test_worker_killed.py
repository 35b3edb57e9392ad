"""A worker killed (SIGKILL) in the middle of a job: the job is delivered again to a fresh worker
and completes exactly once. Jobs are acknowledged late, so the killed worker's message goes back
to the queue after the broker's visibility timeout (two seconds here); the job then notices what
the first delivery already did. A pause point (``mes/pause.py``) holds the first worker at a
known place, so the kill does not race the job. Own Redis and workers: the shared ones are not
disturbed."""

import datetime as dt
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import connection

from inventory.models import Hold, Item, RecallJob, SerialNumber
from mes.models import Event
from orders.models import ScheduleRun, WorkOrderOperation
from tests.factories import ItemFactory, LocationFactory, WorkCenterFactory
from tests.inventory.test_recall import build_plant
from tests.orders.scheduling_setup import MONDAY, release_order
from tests.private_worker import (
    free_port,
    kill,
    publishing_to,
    start_redis,
    start_worker,
    stop,
    wait_for,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]

VISIBILITY_TIMEOUT = 2


class Pauses:
    """The test's side of the pause points: hold one, see who reached it, let go."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def hold(self, point: str) -> None:
        (self.directory / f"{point}.hold").touch()

    def release(self, point: str) -> None:
        (self.directory / f"{point}.hold").unlink()

    def reached_by(self, point: str) -> list[int]:
        """Process ids of the workers that reached the point, in order."""
        path = self.directory / f"{point}.reached"
        return [int(line) for line in path.read_text().split()] if path.exists() else []


@pytest.fixture
def celery(monkeypatch, tmp_path):
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    redis = start_redis(port)
    workers = []

    def fresh_worker():
        worker = start_worker(
            broker, hostname=f"kill-test-{port}-{len(workers)}", visibility_timeout=VISIBILITY_TIMEOUT,
            env={"MES_PAUSE_DIR": str(tmp_path)},
        )
        workers.append(worker)
        return worker

    try:
        with publishing_to(monkeypatch, broker):
            yield SimpleNamespace(fresh_worker=fresh_worker, pauses=Pauses(tmp_path))
    finally:
        for worker in workers:
            stop(worker)
        redis.kill()
        redis.wait()
        connection.close()


def kill_at(celery, point: str, start_job, check_paused):
    """Start a worker and the job; when the worker reaches ``point``, ``check_paused(job_id)``,
    kill the worker and start a fresh one. Returns the job's id and both workers."""
    celery.pauses.hold(point)
    first = celery.fresh_worker()
    job_id = start_job()
    assert wait_for(lambda: celery.pauses.reached_by(point) == [first.pid]), "the job never reached the pause point"
    check_paused(job_id)
    kill(first)
    celery.pauses.release(point)
    second = celery.fresh_worker()
    return job_id, first, second


def recall_plant(make_user):
    clerk = make_user("planner")
    chips = ItemFactory(code="CHIP", tracking=Item.Tracking.LOT)
    boards = ItemFactory(code="BOARD", tracking=Item.Tracking.SERIAL)
    phones = ItemFactory(code="PHONE", tracking=Item.Tracking.SERIAL)
    build_plant(chips, boards, phones, LocationFactory(code="LINE"), clerk)
    return chips


def start_recall(client, chips):
    def start() -> int:
        body = {"lot": "C1", "item": chips.pk, "reason": "Die cracks", "place_holds": True}
        response = client.post("/api/v1/recalls/", body, format="json")
        assert response.status_code == 202, response.content
        return response.json()["id"]

    return start


def recall_finished(job_id: int) -> bool:
    return RecallJob.objects.get(pk=job_id).status in ("done", "failed")


def hold_events(job_id: int):
    return Event.objects.filter(type__in=["lot.held", "serial.held"], payload__source_id=job_id)


def test_a_recall_whose_worker_is_killed_after_placing_its_holds_completes_once(celery, make_user, api_client_for):
    chips = recall_plant(make_user)
    # Given a recall with holds whose worker is killed once the holds are committed, before the report
    def holds_placed_no_report(job_id):
        job = RecallJob.objects.get(pk=job_id)
        assert (job.status, job.report, job.finished_at) == ("running", "", None)
        assert Hold.objects.filter(source_type="recall", source_id=job_id).count() == 3

    job_id, first, second = kill_at(celery, "recall.held", start_recall(api_client_for("quality"), chips), holds_placed_no_report)
    # Then the fresh worker does the job again, to the end
    assert wait_for(lambda: recall_finished(job_id))
    job = RecallJob.objects.get(pk=job_id)
    assert job.status == "done", job.error
    assert celery.pauses.reached_by("recall.held") == [first.pid, second.pid]
    # And every hold is placed once, the result stored once
    holds = Hold.objects.filter(source_type="recall", source_id=job_id)
    assert sorted(h.lot.code if h.lot else h.serial.code for h in holds) == ["B3", "C1", "P1"]
    assert Hold.objects.count() == 3 and hold_events(job_id).count() == 3
    assert (job.holds_placed, job.affected_count, job.progress) == (3, 3, 100)
    assert sorted(line.split(",")[2] for line in job.report.splitlines()[1:]) == ["B3", "P1", "P2"]
    assert Event.objects.filter(type="recall.completed", aggregate_id=str(job_id)).count() == 1
    assert RecallJob.objects.count() == 1
    assert SerialNumber.objects.get(code="P1").status == "on_hold"


def test_a_recall_whose_worker_is_killed_before_acknowledging_is_not_done_twice(celery, make_user, api_client_for):
    chips = recall_plant(make_user)
    # Given a recall whose worker is killed after the job committed, before the broker heard of it
    def done(job_id):
        assert RecallJob.objects.get(pk=job_id).status == "done"

    start = start_recall(api_client_for("quality"), chips)
    job_id, first, second = kill_at(celery, "inventory.run_recall.returned", start, done)
    finished = RecallJob.objects.get(pk=job_id)
    # When the fresh worker gets the job again
    assert wait_for(lambda: len(celery.pauses.reached_by("inventory.run_recall.returned")) == 2)
    assert celery.pauses.reached_by("inventory.run_recall.returned") == [first.pid, second.pid]
    # Then it leaves the finished job as it was
    job = RecallJob.objects.get(pk=job_id)
    assert (job.status, job.finished_at, job.report) == ("done", finished.finished_at, finished.report)
    assert Hold.objects.count() == 3 and hold_events(job_id).count() == 3
    assert Event.objects.filter(type="recall.completed", aggregate_id=str(job_id)).count() == 1


def test_a_schedule_run_whose_worker_is_killed_before_publishing_is_published_once(celery, api_client_for):
    press, paint = WorkCenterFactory(code="PRESS"), WorkCenterFactory(code="PAINT", capacity=2)
    for hours in (1, 2, 8):
        release_order([(press, 10, 5), (paint, 0, 30)], quantity="4", due_at=MONDAY + dt.timedelta(hours=hours))
    client = api_client_for("planner")

    def start_run() -> int:
        body = {"horizon_start": MONDAY.isoformat(), "time_limit_seconds": 2}
        response = client.post("/api/v1/schedule-runs/", body, format="json")
        assert response.status_code == 202, response.content
        return response.json()["id"]

    # Given a run whose worker is killed once the plan is solved, before it is published
    def solved_not_published(run_id):
        assert ScheduleRun.objects.get(pk=run_id).status == "running"
        assert not WorkOrderOperation.objects.exclude(planned_start=None).exists()
        assert not Event.objects.filter(type="schedule.published").exists()

    job_id, first, second = kill_at(celery, "schedule.solved", start_run, solved_not_published)
    # Then the fresh worker solves and publishes it
    assert wait_for(lambda: ScheduleRun.objects.get(pk=job_id).is_finished)
    run = ScheduleRun.objects.get(pk=job_id)
    assert run.status == "done", run.error
    assert celery.pauses.reached_by("schedule.solved") == [first.pid, second.pid]
    # And once: one run, one publication, every operation planned
    assert ScheduleRun.objects.count() == 1
    assert Event.objects.filter(type="schedule.published", aggregate_id=str(job_id)).count() == 1
    assert run.published_operations == run.operations_count == WorkOrderOperation.objects.count() == 6
    assert not WorkOrderOperation.objects.filter(planned_start=None).exists()
    assert run.finished_at is not None and run.makespan_minutes == 270
