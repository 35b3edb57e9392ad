"""The planner's dashboard beside the admin: orders by status, late orders, OEE of the last
shifts as an inline SVG chart; staff only, linked from the admin index."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from orders.models import WorkCenter
from tests.factories import WorkOrderFactory

URL = "/admin/performance/plannerdashboard/"


@pytest.fixture
def staff_planner(make_user):
    return make_user("planner", is_staff=True)


@pytest.fixture
def dashboard_data(floor, berlin_calendar):
    now = timezone.now()
    press = WorkCenter.objects.create(code="PRESS", name="Press", calendar=berlin_calendar)
    WorkCenter.objects.create(code="IDLE", name="Idle cell")
    late = WorkOrderFactory(number="WO-LATE-1", status="in_progress", due_at=now - dt.timedelta(days=2))
    WorkOrderFactory(number="WO-FUTURE-1", status="released", due_at=now + dt.timedelta(days=2))
    WorkOrderFactory(number="WO-DONE-LATE", status="completed", due_at=now - dt.timedelta(days=3))
    WorkOrderFactory(number="WO-DRAFT-1")
    op = floor.operation(press, run_minutes="2", quantity="500", number="WO-RUN-1", due_at=now + dt.timedelta(days=5))
    for hours in range(6, 60, 4):
        floor.report(op, now - dt.timedelta(hours=hours), 150, 3, floor.reasons.solder)
    return {"late": late, "press": press}


def test_staff_see_statuses_late_orders_and_the_oee_chart(staff_planner, dashboard_data):
    client = Client()
    client.force_login(staff_planner)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    counts = dict(re.findall(r'data-status="(\w+)"><strong>(\d+)</strong>', html))
    assert counts == {"draft": "1", "released": "1", "in_progress": "2", "on_hold": "0", "completed": "1", "closed": "0", "cancelled": "0"}
    assert "Late orders (1)" in html and "WO-LATE-1" in html and "WO-DONE-LATE" not in html
    assert "PRESS · OEE of the last shifts" in html
    chart = html.split("PRESS · OEE of the last shifts")[1].split("</section>")[0]
    assert "<svg" in chart and chart.count('<rect class="bar') >= 4
    assert "IDLE · OEE of the last shifts" in html


def test_the_admin_index_links_to_the_dashboard(staff_planner):
    client = Client()
    client.force_login(staff_planner)
    assert URL in client.get("/admin/").content.decode()


def test_non_staff_are_sent_to_the_admin_login(make_user):
    client = Client()
    client.force_login(make_user("operator"))
    response = client.get(URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Client().get(URL).status_code == 302


def test_nobody_adds_or_changes_roll_ups_in_the_admin(staff_planner, db):
    client = Client()
    client.force_login(staff_planner)
    assert client.get("/admin/performance/shiftperformance/").status_code == 200
    assert client.get("/admin/performance/shiftperformance/add/").status_code == 403
