"""Timestamps read from PostgreSQL without parsing them in Python code.

Django loads every ``timestamptz`` value through psycopg's pure-Python loader (a subclass that
attaches Django's time zone), which takes each value apart with a regular expression. A production
report reads some forty timestamps, and that parsing was a twentieth of the web process's work.
When the connection's time zone is UTC (``USE_TZ`` and no ``TIME_ZONE`` on the database, as here),
PostgreSQL writes them as ISO 8601 with a ``+00`` offset, which ``datetime.fromisoformat`` reads in C
to the same value Django gives (aware, ``datetime.timezone.utc``). Values it cannot read (infinity,
years BC) go to Django's loader. Nothing changes on SQLite or in another time zone.
"""

from __future__ import annotations

import datetime

from django.db.backends.signals import connection_created

UTC = datetime.timezone.utc
_loader: type | None = None


def utc_timestamp_loader() -> type:
    """The loader class: Django's UTC loader with an ISO 8601 fast path."""
    global _loader
    if _loader is None:
        from django.db.backends.postgresql.psycopg_any import BaseTzLoader

        class UtcTimestampLoader(BaseTzLoader):
            timezone = UTC  # what Django compares before registering its own loader on a cursor

            def load(self, data):
                try:
                    value = datetime.datetime.fromisoformat(str(data, "ascii"))
                except ValueError:
                    return super().load(data)
                return value if value.tzinfo is UTC else value.astimezone(UTC)

        _loader = UtcTimestampLoader
    return _loader


def use_iso_loader(sender, connection, **kwargs) -> None:
    if connection.vendor != "postgresql" or connection.timezone is not UTC:
        return
    info = connection.connection.info
    if info.parameter_status("TimeZone") != "UTC" or not (info.parameter_status("DateStyle") or "").startswith("ISO"):
        return
    connection.connection.adapters.register_loader("timestamptz", utc_timestamp_loader())


def connect() -> None:
    connection_created.connect(use_iso_loader, dispatch_uid="mes.db.timestamps")
