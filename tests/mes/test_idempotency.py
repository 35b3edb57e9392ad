"""Idempotency-Key: a retry returns the first response and changes nothing."""

import threading

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from inventory.models import Item
from mes.api.idempotency import savepoints_optional
from mes.models import IdempotencyRecord

pytestmark = pytest.mark.django_db

BODY = {"code": "IDEM-1", "name": "Idempotent part", "unit": "pcs"}


def test_retry_with_same_key_returns_first_response_and_creates_once(planner_client):
    first = planner_client.post("/api/v1/items/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = planner_client.post("/api/v1/items/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Item.objects.filter(code="IDEM-1").count() == 1


def test_same_key_with_another_body_is_422_and_changes_nothing(planner_client):
    planner_client.post("/api/v1/items/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    other = planner_client.post(
        "/api/v1/items/", {**BODY, "code": "IDEM-2"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert not Item.objects.filter(code="IDEM-2").exists()


def test_keys_are_per_user(api_client_for):
    a, b = api_client_for("planner"), api_client_for("planner")
    assert a.post("/api/v1/items/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="shared").status_code == 201
    second = b.post("/api/v1/items/", {**BODY, "code": "IDEM-B"}, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert second.status_code == 201
    assert Item.objects.filter(code__in=["IDEM-1", "IDEM-B"]).count() == 2


def test_a_refused_request_is_replayed_as_refused(planner_client):
    bad = {"code": "", "name": "x", "unit": "pcs"}
    first = planner_client.post("/api/v1/items/", bad, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    again = planner_client.post("/api/v1/items/", bad, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert first.status_code == again.status_code == 400
    assert again.json() == first.json()


def test_requests_without_a_key_are_not_recorded(planner_client):
    planner_client.post("/api/v1/items/", BODY, format="json")
    assert IdempotencyRecord.objects.count() == 0


def test_an_overlong_key_is_a_400(planner_client):
    response = planner_client.post("/api/v1/items/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="x" * 300)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
    assert not Item.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_make_one_effect(make_user):
    # Given two tablets retrying the same request at the same moment
    user = make_user("planner")
    token = Token.objects.create(user=user)
    barrier = threading.Barrier(2)
    results = []

    def send():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        barrier.wait()
        try:
            response = client.post("/api/v1/items/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="same-key")
            results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # Then both get the same created item, and only one exists
    assert [status for status, _ in results] == [201, 201]
    assert results[0][1]["id"] == results[1][1]["id"]
    assert Item.objects.filter(code="IDEM-1").count() == 1
    assert IdempotencyRecord.objects.filter(key="same-key").count() == 1


# --- served without savepoints first ------------------------------------------------------------


def _keyed_request(user, key: str):
    from django.test import RequestFactory

    request = RequestFactory().post("/api/v1/items/", BODY, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)
    request.user = user
    return request


def _serve(view, user, key: str):
    """Through the middleware as Django runs it: ``process_view`` with the view, then the view."""
    from mes.api.idempotency import IdempotencyMiddleware

    def get_response(request):
        middleware.process_view(request, view, (), {})
        return view(request)

    middleware = IdempotencyMiddleware(get_response)
    return middleware(_keyed_request(user, key))


def _writing_then_refusing(status: int, savepoints_seen: list):
    """A view whose service writes a row, then refuses (its atomic block fails); it notes
    whether savepoints were allowed on each attempt."""
    from django.db import transaction
    from django.http import JsonResponse

    def view(request):
        savepoints_seen.append(transaction.get_connection()._savepoint_allowed())
        try:
            with transaction.atomic():
                Item.objects.create(code="HALF-DONE", name="Written before the refusal", unit_id="pcs")
                raise ValueError("refused")
        except ValueError:
            return JsonResponse({"code": "refused"}, status=status)

    return view


def test_a_refusal_inside_a_service_is_served_again_with_savepoints_and_keeps_nothing(make_user):
    # Given a marked view whose service writes a row, then refuses (its atomic block fails)
    from django.db import transaction

    user = make_user("planner")
    savepoints_seen = []
    view = savepoints_optional(_writing_then_refusing(409, savepoints_seen))

    # When it is served with a key
    response = _serve(view, user, "refusal-1")

    # Then the first attempt ran without savepoints, the second with them; the refusal is what
    # is answered and stored, and the row written before it is kept by neither attempt
    assert savepoints_seen == [False, True]
    assert response.status_code == 409
    assert not Item.objects.filter(code="HALF-DONE").exists()
    record = IdempotencyRecord.objects.get(key="refusal-1")
    assert record.status_code == 409
    assert "_savepoint_allowed" not in vars(transaction.get_connection())


def test_a_view_that_carries_on_after_a_failed_block_gets_its_savepoint_on_the_second_attempt(make_user):
    # Given a view that catches a failed block and goes on writing (as get_or_create does)
    from django.db import IntegrityError, transaction
    from django.http import JsonResponse

    user = make_user("planner")
    Item.objects.create(code="TAKEN", name="Already there", unit_id="pcs")
    attempts = []

    @savepoints_optional
    def view(request):
        attempts.append(1)
        try:
            with transaction.atomic():
                Item.objects.create(code="TAKEN", name="Duplicate", unit_id="pcs")
        except IntegrityError:
            pass
        item = Item.objects.create(code="AFTER", name="Written after the failed block", unit_id="pcs")
        return JsonResponse({"id": item.pk}, status=201)

    # When it is served with a key
    response = _serve(view, user, "carry-on-1")

    # Then it succeeds on the second attempt, once
    assert len(attempts) == 2
    assert response.status_code == 201
    assert Item.objects.filter(code="AFTER").count() == 1
    assert IdempotencyRecord.objects.get(key="carry-on-1").status_code == 201


def test_a_successful_request_takes_no_savepoint_and_runs_once(make_user):
    from django.db import transaction
    from django.http import JsonResponse
    from django.test.utils import CaptureQueriesContext

    user = make_user("planner")
    attempts = []

    @savepoints_optional
    def view(request):
        attempts.append(1)
        with transaction.atomic():
            item = Item.objects.create(code="ONCE", name="Written once", unit_id="pcs")
        return JsonResponse({"id": item.pk}, status=201)

    with CaptureQueriesContext(transaction.get_connection()) as queries:
        response = _serve(view, user, "once-1")

    assert response.status_code == 201 and len(attempts) == 1
    inner = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" in q["sql"]]
    assert len(inner) <= 2  # at most the test's own transaction's savepoint for the middleware's block
    assert Item.objects.filter(code="ONCE").count() == 1


def test_a_view_not_marked_runs_once_with_its_savepoints_and_its_refusal_is_stored(make_user):
    # Given a view not marked savepoints_optional (its services may count something outside the
    # database, as a wrong signature password is counted), which writes a row, then refuses
    user = make_user("planner")
    attempts = []
    view = _writing_then_refusing(403, attempts)

    # When it is served with a key
    response = _serve(view, user, "not-marked-1")

    # Then it ran once, with savepoints; its refusal is answered and stored, the row is not kept
    assert attempts == [True]
    assert response.status_code == 403
    assert not Item.objects.filter(code="HALF-DONE").exists()
    assert IdempotencyRecord.objects.get(key="not-marked-1").status_code == 403


def test_only_the_marked_action_of_a_viewset_is_optional():
    from mes.api.idempotency import _savepoints_optional
    from orders.api.execution_views import OperationExecutionViewSet

    reports = OperationExecutionViewSet.as_view({"post": "reports"})
    start = OperationExecutionViewSet.as_view({"post": "start"})
    request = type("Request", (), {"method": "POST"})()
    assert _savepoints_optional(reports, request) is True
    assert _savepoints_optional(start, request) is False
