"""Scheduling in the admin: planners start runs and read their figures (never edit them), and see
the plan as a Gantt chart per work center, from a run and from the admin index."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from orders.models import ScheduleRun, Shift
from tests.factories import CalendarFactory, WorkCenterFactory
from tests.orders.scheduling_setup import MONDAY, planned, release_order, schedule

pytestmark = pytest.mark.django_db


def _admin(make_user, role="planner"):
    user = make_user(role, is_staff=True)
    Group.objects.get(name=role).permissions.add(*Permission.objects.filter(content_type__app_label="orders"))
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def plan(db):
    calendar = CalendarFactory(code="TWO-SHIFT", timezone="UTC")
    for weekday in range(5):
        Shift.objects.create(calendar=calendar, weekday=weekday, start=dt.time(6), end=dt.time(14))
        Shift.objects.create(calendar=calendar, weekday=weekday, start=dt.time(14), end=dt.time(22))
    press = WorkCenterFactory(code="PRESS", calendar=calendar)
    paint = WorkCenterFactory(code="PAINT", capacity=2)
    orders = [
        release_order([(press, 30, 60), (paint, 0, 120)], quantity="5", due_at=MONDAY + dt.timedelta(hours=12), number=f"WO-G{n}")
        for n in range(4)
    ]
    run = schedule(horizon_start=MONDAY)
    assert run.status == "done", run.error
    return run, press, paint, orders


def test_runs_are_listed_with_their_figures_and_cannot_be_edited(plan, make_user):
    run, *_ = plan
    client = _admin(make_user)
    page = client.get("/admin/orders/schedulerun/")
    assert page.status_code == 200
    assert f"/admin/orders/schedulerun/{run.pk}/gantt/".encode() in page.content
    detail = client.get(f"/admin/orders/schedulerun/{run.pk}/change/")
    assert detail.status_code == 200
    content = detail.content.decode()
    assert str(run.makespan_minutes) in content and str(run.input_fingerprint) in content
    assert "WO-G" in content  # the late orders table
    assert 'name="time_limit_seconds"' not in content  # read-only
    assert client.post(f"/admin/orders/schedulerun/{run.pk}/change/", {"time_limit_seconds": 5}).status_code == 403
    assert client.post(f"/admin/orders/schedulerun/{run.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ScheduleRun.objects.filter(pk=run.pk, time_limit_seconds=10).exists()


def test_a_planner_starts_a_run_from_the_admin(plan, make_user, django_capture_on_commit_callbacks):
    client = _admin(make_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/orders/schedulerun/add/",
            {"horizon_start_0": MONDAY.date().isoformat(), "horizon_start_1": "00:00:00", "time_limit_seconds": "5", "objective": "makespan"},
        )
    assert response.status_code == 302, response.content
    run = ScheduleRun.objects.latest("pk")
    assert (run.objective, run.time_limit_seconds, run.status) == ("makespan", 5, "done")
    assert run.created_by == client.user


def test_quality_may_read_runs_but_not_start_them(plan, make_user):
    client = _admin(make_user, "quality")
    assert client.get("/admin/orders/schedulerun/").status_code == 200
    assert client.get("/admin/orders/schedulerun/add/").status_code == 403


def test_the_gantt_chart_of_a_run_has_a_row_per_work_center_and_a_bar_per_operation(plan, make_user):
    run, press, paint, orders = plan
    client = _admin(make_user)
    page = client.get(f"/admin/orders/schedulerun/{run.pk}/gantt/")
    assert page.status_code == 200
    content = page.content.decode()
    assert f'id="wc-{press.pk}"' in content and f'id="wc-{paint.pk}"' in content
    bars = re.findall(r'data-operation="(\d+)"', content)
    assert sorted(map(int, bars)) == sorted(op.pk for order in orders for op in planned(order))
    assert "gantt-closed" in content  # the press's nights are shaded
    # One work center only
    single = client.get(f"/admin/orders/schedulerun/{run.pk}/gantt/", {"work_center": press.pk}).content.decode()
    assert f'id="wc-{paint.pk}"' not in single and len(re.findall(r'data-operation="', single)) == 4


def test_the_current_plan_is_linked_from_the_admin_index(plan, make_user):
    run, press, paint, orders = plan
    client = _admin(make_user)
    index = client.get("/admin/").content.decode()
    assert "/admin/orders/plannedoperation/" in index and "Schedule (Gantt chart)" in index
    page = client.get("/admin/orders/plannedoperation/")
    assert page.status_code == 200
    content = page.content.decode()
    assert f"schedule run #{run.pk}" in content
    assert len(re.findall(r'data-operation="', content)) == 8
    assert client.get("/admin/orders/plannedoperation/", {"work_center": "x"}).status_code == 200


def test_an_empty_plan_renders(make_user):
    client = _admin(make_user)
    page = client.get("/admin/orders/plannedoperation/")
    assert page.status_code == 200 and b"Nothing planned" in page.content
