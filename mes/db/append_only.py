"""Append-only tables enforced by the database itself (PostgreSQL): a row trigger that refuses
every UPDATE and DELETE, whoever sends them. Row triggers only: TRUNCATE, as a test database's flush
uses, is not refused. On SQLite (the embedded mode) nothing is done.

Used by migrations: ``RunPython(forwards, backwards)`` from :func:`operations`.
"""

from __future__ import annotations


def operations(*, function: str, message: str, tables: tuple[tuple[str, str], ...]):
    """The forward and backward functions for ``migrations.RunPython``: ``function`` is the
    trigger function's name, ``message`` ends the error (after "UPDATE on <table>: "), ``tables``
    are (app label, model name) pairs."""

    def trigger(table: str) -> str:
        return f"{table}_append_only"

    def create(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(
            f"""
            CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% on %: {message}', TG_OP, TG_TABLE_NAME;
            END
            $$
            """,
            None,  # no parameters: the % of RAISE stay as written
        )
        for app_label, model_name in tables:
            table = apps.get_model(app_label, model_name)._meta.db_table
            schema_editor.execute(f'DROP TRIGGER IF EXISTS "{trigger(table)}" ON "{table}"')
            schema_editor.execute(
                f'CREATE TRIGGER "{trigger(table)}" BEFORE UPDATE OR DELETE ON "{table}" '
                f"FOR EACH ROW EXECUTE FUNCTION {function}()"
            )

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for app_label, model_name in tables:
            table = apps.get_model(app_label, model_name)._meta.db_table
            schema_editor.execute(f'DROP TRIGGER IF EXISTS "{trigger(table)}" ON "{table}"')
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}()")

    return create, drop
