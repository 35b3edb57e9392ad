"""The scheduling API: planners start runs (202, a background job), everyone reads them; the
finished run carries its figures and the operations their planned times."""

from __future__ import annotations

import datetime as dt

import pytest

from orders.models import ScheduleRun, WorkOrderOperation
from tests.factories import WorkCenterFactory
from tests.orders.scheduling_setup import MONDAY, overlaps_per_center, release_order

pytestmark = pytest.mark.django_db
URL = "/api/v1/schedule-runs/"


@pytest.fixture
def shop(db):
    press, paint = WorkCenterFactory(code="PRESS"), WorkCenterFactory(code="PAINT", capacity=2)
    orders = [
        release_order([(press, 10, 5), (paint, 0, 30)], quantity="4", due_at=MONDAY + dt.timedelta(hours=h), priority=p)
        for h, p in ((1, 90), (2, 50), (8, 10))
    ]
    return press, paint, orders


def test_a_planner_starts_a_run_and_reads_its_figures(planner_client, shop, django_capture_on_commit_callbacks):
    press, paint, orders = shop
    # When a planner posts a run (the job runs when the request commits)
    with django_capture_on_commit_callbacks(execute=True):
        response = planner_client.post(
            URL, {"horizon_start": MONDAY.isoformat(), "time_limit_seconds": 5, "objective": "weighted_tardiness"}, format="json"
        )
    # Then the answer is 202 with the queued run and where to poll
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued" and body["solver_status"] is None
    assert response["Location"] == f"{URL}{body['id']}/"
    assert body["objective"] == "weighted_tardiness" and body["time_limit_seconds"] == 5
    assert body["created_by"] == planner_client.user.username
    # And the finished run has its figures
    run = planner_client.get(response["Location"]).json()
    assert run["status"] == "done", run["error"]
    assert run["solver_status"] in ("optimal", "feasible")
    # Press: 10 + 4 × 5 = 30 min each, in a row; painting: 4 × 30 = 120 min each on two units, so
    # the third waits for the first (30–150) and ends at 270
    assert run["makespan_minutes"] == 270
    assert isinstance(run["late_orders"], int) and run["late_orders"] == len(run["late_work_orders"])
    assert run["weighted_tardiness"] == sum(r["minutes_late"] * r["weight"] for r in run["late_work_orders"])
    for key in ("lower_bound", "wall_seconds", "heuristic_makespan_minutes", "heuristic_weighted_tardiness", "input_fingerprint"):
        assert key in run
    assert run["operations_count"] == 6 and run["published_operations"] == 6
    # And the operations carry the plan
    operations = planner_client.get("/api/v1/operations/", {"page_size": 50}).json()["results"]
    assert all(op["planned_start"] and op["planned_end"] for op in operations)
    rows = list(WorkOrderOperation.objects.all())
    assert overlaps_per_center(rows) == {press.pk: 1, paint.pk: 2}


def test_defaults_are_now_a_minute_limit_and_weighted_tardiness(planner_client, shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = planner_client.post(URL, {}, format="json")
    assert response.status_code == 202
    body = response.json()
    assert (body["horizon_start"], body["time_limit_seconds"], body["objective"]) == (None, 60, "weighted_tardiness")
    assert len(callbacks) == 1  # the job is queued once the request commits


def test_the_dispatching_rule_is_selectable(planner_client, shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = planner_client.post(URL, {"objective": "heuristic", "horizon_start": MONDAY.isoformat()}, format="json")
    run = planner_client.get(response["Location"]).json()
    assert run["status"] == "done" and run["solver_status"] == "heuristic"
    assert run["makespan_minutes"] == run["heuristic_makespan_minutes"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"objective": "fastest"}, "objective"),
        ({"time_limit_seconds": 0}, "time_limit_seconds"),
        ({"time_limit_seconds": 601}, "time_limit_seconds"),
        ({"time_limit_seconds": "soon"}, "time_limit_seconds"),
        ({"horizon_start": "next monday"}, "horizon_start"),
        ({"horizon_start": "9999-12-31T23:59:00Z"}, "horizon_start"),
    ],
)
def test_bad_inputs_are_field_errors_and_start_nothing(planner_client, body, field):
    response = planner_client.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in {error["field"] for error in response.json()["errors"]}
    assert not ScheduleRun.objects.exists()


@pytest.mark.parametrize("role", ["operator", "quality", "integration"])
def test_only_planners_start_runs_and_everyone_reads_them(api_client_for, role, planner_client, django_capture_on_commit_callbacks):
    client = api_client_for(role)
    assert client.post(URL, {}, format="json").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        run_id = planner_client.post(URL, {"time_limit_seconds": 1}, format="json").json()["id"]
    assert client.get(URL).status_code == 200
    assert client.get(f"{URL}{run_id}/").json()["status"] == "done"


def test_anonymous_callers_get_nothing(anonymous_client):
    assert anonymous_client.get(URL).status_code in (401, 403)
    assert anonymous_client.post(URL, {}, format="json").status_code in (401, 403)


def test_runs_are_listed_newest_first_and_filtered_by_status(planner_client, shop, django_capture_on_commit_callbacks, django_assert_max_num_queries):
    with django_capture_on_commit_callbacks(execute=True):
        done = planner_client.post(URL, {"horizon_start": MONDAY.isoformat(), "time_limit_seconds": 2}, format="json").json()["id"]
    queued = planner_client.post(URL, {}, format="json").json()["id"]
    with django_assert_max_num_queries(8):
        listing = planner_client.get(URL).json()
    assert [row["id"] for row in listing["results"]] == [queued, done]
    assert "late_work_orders" not in listing["results"][0]
    assert [row["id"] for row in planner_client.get(URL, {"status": "done"}).json()["results"]] == [done]
    assert [row["id"] for row in planner_client.get(URL, {"status": ["queued", "stale"]}).json()["results"]] == [queued]


def test_an_unknown_run_is_404(planner_client):
    response = planner_client.get(f"{URL}999999/")
    assert response.status_code == 404


def test_the_schema_documents_the_endpoint(anonymous_client):
    schema = anonymous_client.get("/api/schema/?format=json").json()
    operations = schema["paths"]["/api/v1/schedule-runs/"]
    assert "202" in operations["post"]["responses"]
    run = schema["components"]["schemas"]["ScheduleRun"]["properties"]
    for name in ("status", "makespan_minutes", "late_orders", "solver_status"):
        assert name in run
