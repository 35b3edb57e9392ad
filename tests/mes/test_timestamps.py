"""mes.db.timestamps: PostgreSQL timestamps read by datetime.fromisoformat give what Django gives."""

import datetime as dt

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import BaseTzLoader

from mes.db.timestamps import UTC, utc_timestamp_loader

pytestmark = pytest.mark.django_db

VALUES = [
    dt.datetime(2026, 12, 6, 21, 33, 51, 123450, tzinfo=UTC),
    dt.datetime(2026, 12, 6, 21, 33, 51, tzinfo=UTC),
    dt.datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=UTC),
    dt.datetime(1, 1, 1, tzinfo=UTC),
    dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
]


def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")


def read(value_sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {value_sql}", params)
        return cursor.fetchone()[0]


def test_each_postgresql_connection_reads_timestamps_with_the_iso_loader():
    postgres_only()
    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(connection.connection.adapters.types["timestamptz"].oid, 0)
    assert loader is utc_timestamp_loader()


@pytest.mark.parametrize("value", VALUES, ids=str)
def test_a_timestamp_comes_back_equal_aware_and_in_utc(value):
    postgres_only()
    loaded = read("%s::timestamptz", [value])
    assert loaded == value
    assert loaded.tzinfo is UTC


def test_the_iso_loader_gives_what_djangos_loader_gives_for_every_text_postgresql_writes():
    class DjangoUtcLoader(BaseTzLoader):
        timezone = UTC

    texts = [b"2026-12-06 21:33:51.12345+00", b"2026-12-06 21:33:51+00", b"2026-12-06 21:33:51.1+00", b"0001-01-01 00:00:00+00", b"2026-07-01 06:30:00+05:30"]
    postgres_only()
    connection.ensure_connection()
    oid = connection.connection.adapters.types["timestamptz"].oid
    ours, django = utc_timestamp_loader()(oid, connection.connection), DjangoUtcLoader(oid, connection.connection)
    for text in texts:
        assert ours.load(text) == django.load(text)
        assert ours.load(memoryview(text)).tzinfo is UTC


def test_values_iso_8601_cannot_hold_go_to_djangos_loader():
    postgres_only()
    with pytest.raises(Exception, match="(?i)infinity|too large|out of range|BC"):
        read("'infinity'::timestamptz")
    with pytest.raises(Exception, match="(?i)BC|out of range|too small"):
        read("'0044-03-15 12:00:00 BC'::timestamptz")
