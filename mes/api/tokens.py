"""API token authentication that brings the user's roles along: the token, its user and the
user's groups in one statement, so a request's permission check asks the database nothing more.

The statement and the way its columns become a user are worked out once per process; a request
pays one round trip and the user's ``from_db``, not a query compiled by the ORM twice."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connections, router
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from mes import sql
from mes.api.permissions import remember_roles


@dataclass(frozen=True)
class _Loading:
    sql: str
    attnames: list[str]
    converters: list[tuple[int, list, object]]  # (column index, converters, column expression)


@cache
def _loading(alias: str) -> _Loading:
    connection = connections[alias]
    user_model = get_user_model()
    meta, through = user_model._meta, user_model.groups.through._meta
    q = connection.ops.quote_name
    fields = [*meta.concrete_fields, Token._meta.get_field("created")]
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(field.model._meta.db_table)
        found = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if found:
            converters.append((index, found, column))
    columns = ", ".join(f"u.{q(field.column)}" for field in meta.concrete_fields)
    sql = (
        f"SELECT {columns}, t.{q('created')}, g.{q('name')}"
        f" FROM {q(Token._meta.db_table)} t"
        f" JOIN {q(meta.db_table)} u ON u.{q(meta.pk.column)} = t.{q('user_id')}"
        f" LEFT JOIN {q(through.db_table)} ug ON ug.{q(through.get_field('user').column)} = u.{q(meta.pk.column)}"
        f" LEFT JOIN {q(Group._meta.db_table)} g ON g.{q('id')} = ug.{q(through.get_field('group').column)}"
        f" WHERE t.{q('key')} = %s"
    )
    return _Loading(sql=sql, attnames=[field.attname for field in meta.concrete_fields], converters=converters)


class RoleTokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <key>``, as DRF's token authentication, answered in one statement."""

    def authenticate_credentials(self, key):
        alias = router.db_for_read(Token)
        connection = connections[alias]
        loading = _loading(alias)
        with sql.cursor(connection) as cursor:
            cursor.execute(loading.sql, [key])
            rows = cursor.fetchall()
        if not rows:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        values = list(rows[0][:-1])
        for index, converters, column in loading.converters:
            for convert in converters:
                values[index] = convert(values[index], column, connection)
        user = get_user_model().from_db(alias, loading.attnames, values[:-1])
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        remember_roles(user, (row[-1] for row in rows if row[-1] is not None))
        token = sql.new_row(Token, key=key, user=user, created=values[-1])
        token._state.adding, token._state.db = False, alias
        return user, token
