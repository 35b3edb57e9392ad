"""Schema, health, events outbox and the Celery round trip."""

import pytest
from django.db import transaction
from django.test import override_settings
from openapi_spec_validator import validate

from mes.events import OutsideTransaction, record_event
from mes.models import Event


@pytest.mark.django_db
def test_schema_is_valid_openapi_3(anonymous_client):
    response = anonymous_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    validate(schema)
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/items/by-external-id/{external_id}/" in schema["paths"]
    post_items = schema["paths"]["/api/v1/items/"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in post_items["parameters"])


@pytest.mark.django_db
def test_docs_page_is_served(anonymous_client):
    assert anonymous_client.get("/api/docs/").status_code == 200


@pytest.mark.django_db
def test_health_reports_database_and_eager_broker(anonymous_client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    response = anonymous_client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "eager"}


@pytest.mark.django_db
def test_health_is_503_when_the_broker_is_down(anonymous_client, settings, monkeypatch):
    from mes.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    previous = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = anonymous_client.get("/health/")
    finally:
        app.conf.broker_url = previous
    assert response.status_code == 503
    assert response.json()["broker"] == "down"
    assert response.json()["database"] == "ok"


@pytest.mark.django_db(transaction=True)
def test_event_is_recorded_only_inside_a_transaction():
    with pytest.raises(OutsideTransaction):
        record_event(type="x.happened", aggregate_type="x", aggregate_id=1, payload={})
    with transaction.atomic():
        event = record_event(type="x.happened", aggregate_type="x", aggregate_id=1, payload={"n": 1})
    assert Event.objects.get().pk == event.pk


@pytest.mark.django_db
def test_rolled_back_change_leaves_no_event():
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with transaction.atomic():
            record_event(type="x.happened", aggregate_type="x", aggregate_id=1, payload={})
            raise Boom
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_event_feed_is_cursor_paginated_and_filterable(operator_client):
    with transaction.atomic():
        for n in range(5):
            record_event(type="a.b" if n % 2 else "c.d", aggregate_type="x", aggregate_id=n, payload={"n": n})
    response = operator_client.get("/api/v1/events/?page_size=2")
    body = response.json()
    assert [e["payload"]["n"] for e in body["results"]] == [0, 1]
    assert body["next"]
    rest = operator_client.get(body["next"]).json()
    assert [e["payload"]["n"] for e in rest["results"]] == [2, 3]
    only = operator_client.get("/api/v1/events/?type=a.b").json()["results"]
    assert [e["payload"]["n"] for e in only] == [1, 3]
    after = operator_client.get(f"/api/v1/events/?after_sequence={body['results'][1]['sequence']}").json()
    assert [e["payload"]["n"] for e in after["results"]] == [2, 3, 4]


def test_ping_runs_eagerly_without_a_broker():
    from mes.celery import ping

    assert ping.delay(value="here").get(timeout=5) == "here"


@pytest.mark.integration
def test_ping_round_trips_through_the_real_worker():
    from mes.celery import app, ping

    assert not app.conf.task_always_eager
    result = ping.apply_async(kwargs={"value": "through-redis"})
    assert result.get(timeout=60) == "through-redis"


@pytest.mark.django_db
def test_reactions_run_inside_the_events_transaction():
    from mes.events import _reactions, react_to

    seen = []

    def reaction(event):
        seen.append(event.type)
        if event.payload.get("fail"):
            raise RuntimeError("refused")

    react_to("test.reacted", reaction)
    try:
        with transaction.atomic():
            record_event(type="test.reacted", aggregate_type="x", aggregate_id=1, payload={})
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                record_event(type="test.reacted", aggregate_type="x", aggregate_id=2, payload={"fail": True})
    finally:
        _reactions["test.reacted"].remove(reaction)
    assert seen == ["test.reacted", "test.reacted"]
    assert list(Event.objects.values_list("aggregate_id", flat=True)) == ["1"]
