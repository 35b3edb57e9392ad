"""All-or-none bulk upserts keyed by the ERP's ``external_id``.

Two ways to apply a validated batch:

* :func:`bulk_upsert_rows` for flat master data (items, locations, work centers): one query for
  the existing rows, one ``bulk_create`` and one ``bulk_update``; each row's ``clean()`` still
  runs, uniqueness within the batch and against the table is checked set-wise up front.
* a per-record service (``upsert_service``) for objects with nested parts (BOM lines, routing
  operations), called in one transaction. (Work orders have a batch service of their own,
  ``orders.services.work_orders_bulk_upsert``, with the per-record outcome.)

Either way, any error rolls back the whole batch and is reported against its record.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from django.core.exceptions import ValidationError
from django.db import models, transaction

from mes.errors import ApplicationError
from mes.rows import update_rows_touched

MAX_BULK_RECORDS = 1000


@dataclass
class RecordError:
    index: int
    external_id: str | None
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "external_id": self.external_id,
            "field": self.field,
            "code": self.code,
            "message": self.message,
        }


@dataclass
class BulkOutcome:
    results: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)


class BulkRejected(ApplicationError):
    """The batch has errors; nothing was applied (400 with per-record errors)."""

    status = 400
    code = "bulk_rejected"

    def __init__(self, errors: list[RecordError]):
        super().__init__(
            f"{len({e.index for e in errors})} record(s) are invalid; nothing was applied.",
            extra={
                "errors": [
                    {"field": f"records[{e.index}].{e.field}", "code": e.code, "message": e.message} for e in errors
                ],
                "record_errors": [e.as_dict() for e in errors],
            },
        )
        self.record_errors = errors


def unique_fields(model: type[models.Model]) -> list[str]:
    return [
        f.name
        for f in model._meta.concrete_fields
        if f.unique and not f.primary_key and f.name != "external_id"
    ]


def duplicate_errors(model: type[models.Model], records: list[dict[str, Any]], external_ids: list[str]) -> list[RecordError]:
    """Unique values used twice in the batch, or taken by a row with another external id."""
    errors: list[RecordError] = []
    for name in unique_fields(model):
        values = [(i, r[name]) for i, r in enumerate(records) if r.get(name) not in (None, "")]
        counts = Counter(v for _, v in values)
        for index, value in values:
            if counts[value] > 1:
                errors.append(
                    RecordError(index, external_ids[index], name, "duplicate_in_batch", f"{name} '{value}' appears more than once in the batch.")
                )
        taken = dict(
            model.objects.filter(**{f"{name}__in": [v for _, v in values]}).values_list(name, "external_id")
        )
        for index, value in values:
            if value in taken and taken[value] != external_ids[index]:
                errors.append(RecordError(index, external_ids[index], name, "unique", f"{name} '{value}' is already used."))
    return errors


def record_validation_errors(index: int, external_id: str, exc: ValidationError) -> list[RecordError]:
    if hasattr(exc, "error_dict"):
        return [
            RecordError(index, external_id, name if name != "__all__" else "non_field_errors", "invalid", message)
            for name, messages in exc.message_dict.items()
            for message in messages
        ]
    return [RecordError(index, external_id, "non_field_errors", "invalid", m) for m in exc.messages]


@transaction.atomic
def bulk_upsert_rows(
    model: type[models.Model],
    *,
    external_ids: list[str],
    records: list[dict[str, Any]],
    user=None,
    reason: str = "",
) -> list[dict[str, Any]]:
    """Upsert flat rows in a few set-wise statements; raises :class:`BulkRejected` and applies
    nothing on error. An audited model gets its trail rows in one more statement per kind."""
    errors = duplicate_errors(model, records, external_ids)
    existing = {obj.external_id: obj for obj in model.objects.select_for_update().filter(external_id__in=external_ids)}
    to_create, to_update, results, fields_touched = [], [], [], set()
    attnames = {f.name: f.attname for f in model._meta.concrete_fields}
    for index, (external_id, data) in enumerate(zip(external_ids, records)):
        instance = existing.get(external_id) or model(external_id=external_id)
        before = [getattr(instance, attnames.get(name, name), None) for name in data]
        for name, value in data.items():
            setattr(instance, name, value)
            fields_touched.add(name)
        try:
            instance.clean()
        except ValidationError as exc:
            errors.extend(record_validation_errors(index, external_id, exc))
            continue
        if not instance.pk:
            to_create.append(instance)
        elif before != [getattr(instance, attnames.get(name, name), None) for name in data]:
            to_update.append(instance)  # a record sent again unchanged is neither written nor audited
        results.append({"index": index, "external_id": external_id, "created": instance.pk is None, "instance": instance})
    if errors:
        raise BulkRejected(errors)
    model.objects.bulk_create(to_create, batch_size=500)
    if to_update and fields_touched:
        update_rows_touched(model, to_update, sorted(fields_touched))
    author = user if user is not None and getattr(user, "is_authenticated", False) else None
    for rows, change in ((to_create, "+"), (to_update, "~")):
        record_history(model, [row.pk for row in rows], change=change, user=author, reason=reason)
    return results


def record_history(model: type[models.Model], ids: list[int], *, change: str, user=None, reason: str = "") -> None:
    """Audit-trail rows (django-simple-history) for rows just written, copied by the database in
    one ``INSERT … SELECT`` rather than built and sent back row by row. No-op for unaudited models."""
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    history = getattr(model, "history", None)
    if history is None or not ids or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    trail = history.model
    quote = connection.ops.quote_name
    tracked = trail.tracked_fields
    targets = [quote(trail._meta.get_field(f.name).column) for f in tracked]
    targets += [quote(n) for n in ("history_date", "history_user_id", "history_change_reason", "history_type")]
    sources = ", ".join(quote(f.column) for f in tracked)
    pk = quote(model._meta.pk.column)
    if connection.vendor == "postgresql":
        where, id_params = f"{pk} = ANY(%s)", [list(ids)]
    else:
        where, id_params = f"{pk} IN ({', '.join(['%s'] * len(ids))})", list(ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(trail._meta.db_table)} ({', '.join(targets)}) "
            f"SELECT {sources}, %s, %s, %s, %s FROM {quote(model._meta.db_table)} WHERE {where}",
            [timezone.now(), user.pk if user is not None else None, reason, change, *id_params],
        )


@transaction.atomic
def bulk_upsert_each(
    *, external_ids: list[str], records: list[dict[str, Any]], upsert: Callable[..., tuple[models.Model, bool]], user=None
) -> list[dict[str, Any]]:
    """Upsert records one by one through their service, all in one transaction."""
    results = []
    for index, (external_id, data) in enumerate(zip(external_ids, records)):
        try:
            with transaction.atomic():
                instance, created = upsert(external_id=external_id, data=data, user=user)
        except ValidationError as exc:
            raise BulkRejected(record_validation_errors(index, external_id, exc)) from exc
        except ApplicationError as exc:
            raise BulkRejected(
                [RecordError(index, external_id, exc.field or "non_field_errors", exc.code, exc.message)]
            ) from exc
        results.append({"index": index, "external_id": external_id, "created": created, "instance": instance})
    return results
