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


def test_a_batched_block_writes_its_events_in_one_insert_when_it_ends_and_reacts_then():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from mes.events import _reactions, events_batched, react_to

    seen = []
    react_to("test.batched", lambda event: seen.append((event.pk, Event.objects.filter(pk=event.pk).exists())))
    try:
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            with events_batched():
                first = record_event(type="test.batched", aggregate_type="thing", aggregate_id=1, payload={"n": 1})
                with events_batched():  # nested: written with the outer block
                    record_events([{"type": "test.other", "aggregate_type": "thing", "aggregate_id": 2, "payload": {}}])
                assert first.pk is None and seen == [] and not Event.objects.exists()
                inside = len(queries.captured_queries)
            assert len(queries.captured_queries) == inside + 1 + 1  # the insert, then the reaction's read
    finally:
        _reactions.pop("test.batched")
    assert list(Event.objects.order_by("pk").values_list("type", flat=True)) == ["test.batched", "test.other"]
    assert seen == [(first.pk, True)]


def test_a_failed_batched_block_writes_nothing():
    from mes.events import events_batched

    with pytest.raises(RuntimeError), transaction.atomic(), events_batched():
        record_event(type="test.failed", aggregate_type="thing", aggregate_id=1, payload={})
        raise RuntimeError
    with transaction.atomic():
        record_event(type="test.after", aggregate_type="thing", aggregate_id=2, payload={})
    assert list(Event.objects.values_list("type", flat=True)) == ["test.after"]


def test_writes_sent_with_a_blocks_events_go_in_the_events_insert_before_the_reactions():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inventory.models import Location
    from mes import sql
    from mes.events import _reactions, events_batched, react_to, write_with_events

    seen = []
    react_to("test.with_writes", lambda event: seen.append(Location.objects.filter(code="WRITTEN-WITH").exists()))
    try:
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            with events_batched():
                record_event(type="test.with_writes", aggregate_type="thing", aggregate_id=1, payload={})
                write_with_events(sql.insert_statement(Location, [sql.new_row(Location, code="WRITTEN-WITH", name="w")]))
                assert not Location.objects.filter(code="WRITTEN-WITH").exists()
                inside = len(queries.captured_queries)
            written = len(queries.captured_queries) - inside - 1  # less the reaction's read
    finally:
        _reactions.pop("test.with_writes")
    assert written == (1 if connection.vendor == "postgresql" else 2)
    assert seen == [True]
    assert Location.objects.filter(code="WRITTEN-WITH").exists()


def test_writes_sent_with_events_outside_a_batched_block_are_written_at_once():
    from inventory.models import Location
    from mes import sql
    from mes.events import write_with_events

    with transaction.atomic():
        write_with_events(sql.insert_statement(Location, [sql.new_row(Location, code="AT-ONCE", name="a")]))
        assert Location.objects.filter(code="AT-ONCE").exists()


def test_writes_sent_with_a_block_that_records_no_event_are_written_when_it_ends():
    from inventory.models import Location
    from mes import sql
    from mes.events import events_batched, write_with_events

    with transaction.atomic():
        with events_batched():
            write_with_events(sql.insert_statement(Location, [sql.new_row(Location, code="NO-EVENTS", name="n")]))
        assert Location.objects.filter(code="NO-EVENTS").exists()
