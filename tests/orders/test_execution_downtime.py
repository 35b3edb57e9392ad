"""Downtime per work center with reason codes: open, close, list, and the refusals."""

import pytest

from mes.models import Event
from orders.models import DowntimeEvent
from tests.orders.execution_setup import *  # noqa: F403

pytestmark = pytest.mark.django_db


def test_an_operator_opens_and_closes_a_downtime(plant, operator_client, quality_client):
    smt = plant.centers.smt
    opened = operator_client.post(
        "/api/v1/downtime/", {"work_center": smt.pk, "reason": "BREAKDOWN", "started_at": "2026-11-25T08:00:00Z", "note": "feeder jam"}, format="json"
    )
    assert opened.status_code == 201, opened.content
    body = opened.json()
    assert (body["work_center_code"], body["reason"], body["ended_at"], body["opened_by"]) == ("SMT", "BREAKDOWN", None, operator_client.user.username)
    again = operator_client.post("/api/v1/downtime/", {"work_center": smt.pk, "reason": "BREAKDOWN", "started_at": "2026-11-25T08:05:00Z"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "downtime_already_open"
    assert quality_client.post(f"/api/v1/downtime/{body['id']}/close/", {"ended_at": "2026-11-25T08:30:00Z"}, format="json").status_code == 403
    early = operator_client.post(f"/api/v1/downtime/{body['id']}/close/", {"ended_at": "2026-11-25T07:30:00Z"}, format="json")
    assert early.status_code == 400 and early.json()["code"] == "ends_before_start"
    closed = operator_client.post(f"/api/v1/downtime/{body['id']}/close/", {"ended_at": "2026-11-25T08:30:00Z"}, format="json")
    assert closed.status_code == 200, closed.content
    assert closed.json()["duration_minutes"] == 30.0 and closed.json()["closed_by"] == operator_client.user.username
    twice = operator_client.post(f"/api/v1/downtime/{body['id']}/close/", {"ended_at": "2026-11-25T09:00:00Z"}, format="json")
    assert twice.status_code == 409 and twice.json()["code"] == "downtime_closed"
    types = list(Event.objects.filter(type__startswith="downtime.").values_list("type", flat=True).order_by("id"))
    assert types == ["downtime.opened", "downtime.closed"]


def test_a_past_downtime_is_recorded_closed_and_lists_filter(plant, operator_client, quality_client):
    smt, assy = plant.centers.smt, plant.centers.assy
    payload = {"work_center": smt.pk, "reason": "BREAKDOWN", "started_at": "2026-11-24T10:00:00Z", "ended_at": "2026-11-24T10:45:00Z"}
    assert operator_client.post("/api/v1/downtime/", payload, format="json").status_code == 201
    assert operator_client.post("/api/v1/downtime/", {**payload, "work_center": assy.pk, "ended_at": None, "started_at": "2026-11-25T06:00:00Z"}, format="json").status_code == 201
    listed = quality_client.get("/api/v1/downtime/", {"open": "true"}).json()
    assert [(row["work_center_code"], row["ended_at"]) for row in listed["results"]] == [("ASSY", None)]
    assert quality_client.get("/api/v1/downtime/", {"work_center": smt.pk}).json()["count"] == 1
    assert quality_client.get("/api/v1/downtime/", {"reason": "BREAKDOWN", "started_after": "2026-11-25T00:00:00Z"}).json()["count"] == 1
    assert DowntimeEvent.objects.count() == 2


@pytest.mark.parametrize(
    "change, code",
    [({"reason": "COFFEE"}, "unknown_downtime_reason"), ({"ended_at": "2026-11-25T07:00:00Z"}, "ends_before_start")],
)
def test_a_bad_downtime_is_refused(change, code, plant, operator_client):
    payload = {"work_center": plant.centers.smt.pk, "reason": "BREAKDOWN", "started_at": "2026-11-25T08:00:00Z", **change}
    response = operator_client.post("/api/v1/downtime/", payload, format="json")
    assert response.status_code == 400 and response.json()["code"] == code
    assert not DowntimeEvent.objects.exists()


def test_reason_codes_are_listed_for_the_tablets(plant, operator_client):
    scrap = operator_client.get("/api/v1/scrap-reasons/", {"is_active": "true"}).json()["results"]
    assert [row["code"] for row in scrap] == ["SOLDER"]
    downtime = operator_client.get("/api/v1/downtime-reasons/").json()["results"]
    assert [(row["code"], row["is_planned"]) for row in downtime] == [("BREAKDOWN", False)]
