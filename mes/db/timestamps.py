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
    """The loader class: ``datetime.fromisoformat``, and Django's UTC loader for what it cannot read."""
    global _loader
    if _loader is None:
        from django.db.backends.postgresql.psycopg_any import BaseTzLoader
        from psycopg.adapt import Loader

        class DjangoUtcLoader(BaseTzLoader):
            timezone = UTC

        class UtcTimestampLoader(Loader):
            # Django compares this before registering its own loader on a cursor. A plain Loader:
            # psycopg's own timestamp loader looks up the connection's settings each time a
            # cursor creates one, which checking them once per connection here makes needless.
            timezone = UTC
            _django: DjangoUtcLoader | None = None

            def load(self, data):
                try:
                    value = datetime.datetime.fromisoformat(str(data, "ascii"))
                except ValueError:
                    if self._django is None:
                        self._django = DjangoUtcLoader(self.oid, self.connection)
                    return self._django.load(data)
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
