"""Events recorded together: one insert for several, in order, and one relay kick per transaction."""

import pytest
from django.db import transaction

from mes.events import record_event, record_events
from mes.models import Event

pytestmark = pytest.mark.django_db


def test_several_events_are_written_in_order_and_kick_the_relay_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        record_event(type="test.one", aggregate_type="thing", aggregate_id=1, payload={"n": 1})
        rows = record_events(
            [{"type": "test.two", "aggregate_type": "thing", "aggregate_id": 2, "payload": {"n": 2}},
             {"type": "test.three", "aggregate_type": "thing", "aggregate_id": 3, "payload": {"n": 3}}]
        )
        record_event(type="test.four", aggregate_type="thing", aggregate_id=4, payload={"n": 4})
    assert [e.pk for e in rows] == sorted(e.pk for e in rows)
    assert list(Event.objects.order_by("pk").values_list("type", "payload")) == [
        ("test.one", {"n": 1}), ("test.two", {"n": 2}), ("test.three", {"n": 3}), ("test.four", {"n": 4})
    ]
    assert len(callbacks) == 1


def test_a_kick_lost_with_a_rolled_back_savepoint_is_added_again(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        try:
            with transaction.atomic():
                record_event(type="test.gone", aggregate_type="thing", aggregate_id=1, payload={})
                raise RuntimeError
        except RuntimeError:
            pass
        record_event(type="test.kept", aggregate_type="thing", aggregate_id=2, payload={})
    assert list(Event.objects.values_list("type", flat=True)) == ["test.kept"]
    assert len(callbacks) == 1
