"""The operator's page: who gets in, what it shows, and that its actions go through the API
with the session, the CSRF token and an idempotency key."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from orders import services
from orders.models import DowntimeEvent, OperationEvent, WorkCenter
from tests.orders.execution_setup import *  # the plant and released fixtures


def _client(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


@pytest.fixture
def board_order(plant, released):
    return released(plant.items.board, 3)


def test_anonymous_visitors_are_sent_to_the_floor_login(db):
    response = Client().get("/floor/work-centers/1/")
    assert response.status_code == 302
    assert response["Location"] == "/floor/login/?next=/floor/work-centers/1/"


@pytest.mark.parametrize("role", ["quality", "integration"])
def test_other_roles_are_refused(role, make_user, board_order, plant):
    client = _client(make_user(role))
    for url in ("/floor/", f"/floor/work-centers/{plant.centers.smt.pk}/"):
        response = client.get(url)
        assert response.status_code == 403
        assert b"for operators and planners" in response.content


def test_a_user_without_a_role_is_refused(make_user):
    assert _client(make_user()).get("/floor/").status_code == 403


@pytest.mark.parametrize("role", ["operator", "planner"])
def test_operators_and_planners_get_in(role, make_user, board_order, plant):
    client = _client(make_user(role))
    home = client.get("/floor/")
    assert home.status_code == 200
    assert b'data-code="SMT"' in home.content and b"1 operation waiting" in home.content


def test_logging_in_on_the_floor_page(make_user):
    user = make_user("operator", username="op-1")
    user.set_password("a-long-floor-pass")
    user.save()
    client = Client()
    response = client.post("/floor/login/", {"username": "op-1", "password": "a-long-floor-pass", "next": "/floor/"})
    assert response.status_code == 302 and response["Location"] == "/floor/"
    wrong = Client().post("/floor/login/", {"username": "op-1", "password": "nope"})
    assert wrong.status_code == 200 and b"do not match" in wrong.content


def test_the_station_shows_the_dispatch_list_the_operation_and_the_reason_codes(make_user, board_order, plant):
    client = _client(make_user("operator"))
    smt = plant.centers.smt
    response = client.get(f"/floor/work-centers/{smt.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    operation = board_order.operations.get()
    assert board_order.number in html
    assert f'data-operation="{operation.pk}"' in html and 'data-status="ready"' in html
    assert '<button type="button" class="btn primary" data-action="start" >Start</button>' in html
    assert '<option value="BREAKDOWN">BREAKDOWN · Machine breakdown</option>' in html
    assert 'id="report-form"' not in html and "Start the operation to report." in html
    materials = json.loads(html.split('<script id="materials" type="application/json">')[1].split("</script>")[0])
    assert {m["code"] for m in materials} == {"PCB", "CHIP", "PASTE"}
    partial = client.get(f"/floor/work-centers/{smt.pk}/?partial=1&operation={operation.pk}")
    assert partial.status_code == 200 and b"<html" not in partial.content and board_order.number.encode() in partial.content


def test_buttons_follow_the_operations_transition_table(make_user, board_order, plant):
    client = _client(make_user("operator"))
    operation = board_order.operations.get()
    services.operation_start(operation=operation, user=None)
    html = client.get(f"/floor/work-centers/{plant.centers.smt.pk}/").content.decode()
    assert '<button type="button" class="btn primary" data-action="start" disabled>' in html
    assert '<button type="button" class="btn" data-action="pause" >' in html
    assert '<button type="button" class="btn done" data-action="complete" >' in html
    assert 'id="report-form"' in html and 'id="produced_serials"' in html
    assert '<option value="SOLDER">SOLDER · Solder defect</option>' in html
    assert "Retired code" not in html  # a retired scrap reason is not offered


def test_a_completed_operation_can_still_be_shown(make_user, board_order, plant):
    operation = board_order.operations.get()
    services.operation_start(operation=operation, user=None)
    services.operation_complete(operation=operation, user=None)
    html = _client(make_user("operator")).get(f"/floor/work-centers/{plant.centers.smt.pk}/?operation={operation.pk}").content.decode()
    assert 'data-status="done"' in html and "Nothing to run here." in html


def test_an_unknown_or_inactive_work_center_is_404(make_user, db):
    client = _client(make_user("operator"))
    assert client.get("/floor/work-centers/999999/").status_code == 404
    idle = WorkCenter.objects.create(code="IDLE", name="Idle", is_active=False)
    assert client.get(f"/floor/work-centers/{idle.pk}/").status_code == 404


def _csrf(client: Client, url: str) -> str:
    html = client.get(url).content.decode()
    return html.split('<meta name="csrf-token" content="')[1].split('"')[0]


def test_the_pages_actions_go_through_the_api_with_the_session_and_are_idempotent(make_user, board_order, plant):
    """What the page's script sends: session cookie, X-CSRFToken, Idempotency-Key."""
    client = _client(make_user("operator"))
    station = f"/floor/work-centers/{plant.centers.smt.pk}/"
    token = _csrf(client, station)
    operation = board_order.operations.get()
    url = f"/api/v1/operations/{operation.pk}/start/"
    body = json.dumps({"recorded_at": timezone.now().isoformat()})
    headers = {"HTTP_X_CSRFTOKEN": token, "HTTP_IDEMPOTENCY_KEY": "6f1c3a52-5a1e-4c55-9d2f-3b2f7d1e0a01"}
    first = client.post(url, body, content_type="application/json", **headers)
    assert first.status_code == 200, first.content
    again = client.post(url, body, content_type="application/json", **headers)
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert OperationEvent.objects.filter(operation=operation, action="start").count() == 1
    without_csrf = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="another-key")
    assert without_csrf.status_code == 403


@pytest.mark.parametrize(
    ("case", "code", "words"),
    [
        ("held lot", "lot_on_hold", ["PCB-L1", "on hold", "supplier complaint"]),
        ("wrong item", "wrong_item", ["is not a component of"]),
        ("over quantity", "over_report", ["is for 3", "too many"]),
    ],
)
def test_refusals_come_back_as_problems_the_page_shows(case, code, words, make_user, board_order, plant):
    """What the page shows is the problem document's ``detail``: each refusal says what is wrong."""
    from inventory.models import Lot
    from inventory.services import place_hold

    client = _client(make_user("operator"))
    token = _csrf(client, f"/floor/work-centers/{plant.centers.smt.pk}/")
    operation = board_order.operations.get()
    services.operation_start(operation=operation, user=None)
    pcb = Lot.objects.get(code="PCB-L1")
    body = {"quantity_good": "1", "quantity_scrap": "0", "consumed": [{"item": pcb.item_id, "lot": "PCB-L1", "quantity": "1"}], "produced_serials": ["B-1"]}
    if case == "held lot":
        place_hold(lot=pcb, reason="supplier complaint", user=None)
    elif case == "wrong item":
        battery = Lot.objects.get(code="BAT-L1")
        body["consumed"] = [{"item": battery.item_id, "lot": "BAT-L1", "quantity": "1"}]
    else:
        body.update(quantity_good="4", produced_serials=["B-1", "B-2", "B-3", "B-4"])
    response = client.post(
        f"/api/v1/operations/{operation.pk}/reports/", json.dumps(body), content_type="application/json",
        HTTP_X_CSRFTOKEN=token, HTTP_IDEMPOTENCY_KEY=f"refusal-{code}",
    )
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code
    for word in words:
        assert word in problem["detail"]
    operation.refresh_from_db()
    assert operation.quantity_good == 0


def test_the_station_shows_an_open_downtime_and_the_shift_figures(make_user, board_order, plant):
    smt = plant.centers.smt
    services.downtime_open(work_center=smt, reason="BREAKDOWN", started_at=timezone.now() - dt.timedelta(minutes=12), user=None)
    html = _client(make_user("planner")).get(f"/floor/work-centers/{smt.pk}/").content.decode()
    assert "data-downtime-open" in html and "BREAKDOWN Machine breakdown" in html
    assert f'data-close-downtime="{DowntimeEvent.objects.get().pk}"' in html
    assert "min down" in html and "OEE" in html
    home = _client(make_user("operator")).get("/floor/").content.decode()
    assert "DOWN" in home


def test_logout_goes_back_to_the_login(make_user):
    client = Client()
    client.force_login(make_user("operator"))
    response = client.post("/floor/logout/")
    assert response.status_code == 302 and response["Location"] == "/floor/login/"
    assert client.get("/floor/").status_code == 302
