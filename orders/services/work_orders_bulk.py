"""Work orders upserted by the ERP's key in one batch, all or none.

The outcome is the one :func:`work_order_upsert_by_external_id` gives record after record in one
transaction — the same checks and refusals, numbers, audit trail and ``created`` status events —
written in a few set-wise statements instead of a dozen queries per work order:

* the existing orders are locked in one query, the units (and pinned BOMs and routings) their
  checks need are read in one query each;
* each record is checked as the per-record service checks it (field rules, draft-only,
  quantity decimals, pinned revisions), the first refused record is reported and nothing is
  applied;
* numbers are settled record by record as the per-record service settles them: a record sees
  the numbers taken and freed by the records before it, and a generated number (``WO-<id>``)
  needs the row's id, so the new rows are inserted first and a refusal rolls them back;
* the rows, the audit trail (one ``INSERT … SELECT`` per kind of change) and the status events
  are written in one statement each.

Whatever the database alone can refuse (a racing insert of the same ``external_id``, numbers
exchanged between orders of the batch) sends the batch through the per-record service instead,
in the same transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory.models import Item, UnitOfMeasure
from mes.bulk import BulkRejected, RecordError, bulk_upsert_each, record_history, record_validation_errors
from mes.errors import ApplicationError
from mes.rows import update_rows, update_rows_touched
from orders.models import BillOfMaterials, Routing, WorkOrder, WorkOrderEvent, WorkOrderStatus
from orders.services.work_orders import (
    WORK_ORDER_FIELDS,
    require_draft,
    unchanged,
    validate_draft,
    work_order_upsert_by_external_id,
)

# Relations checked when the record was validated (its serializer looked them up); the
# per-record service asks the database once more for each, the batch trusts the foreign keys.
RELATIONS = ("item", "bom", "routing", "released_by")


@dataclass
class _Record:
    index: int
    external_id: str
    work_order: WorkOrder
    created: bool
    data: dict[str, Any] = field(default_factory=dict)
    unchanged: bool = False  # a released order sent again as it is: left alone
    number: str | None = None  # the number the record asks for (None: generated, or kept)
    old_number: str | None = None  # an existing order's number before the batch
    refusal: ApplicationError | None = None  # not a draft
    field_errors: dict[str, list] = field(default_factory=dict)
    draft_error: ApplicationError | None = None

    @property
    def fails_alone(self) -> bool:
        return bool(self.refusal or self.field_errors or self.draft_error)

    def errors(self, *, number_taken: bool) -> list[RecordError] | None:
        """What the per-record service would report for this record (None: nothing)."""
        if self.refusal is not None:
            return [_application_error(self.index, self.external_id, self.refusal)]
        problems = {name: list(messages) for name, messages in self.field_errors.items()}
        if number_taken:
            problems.setdefault("number", []).append(self.work_order.unique_error_message(WorkOrder, ("number",)))
        if problems:
            return record_validation_errors(self.index, self.external_id, ValidationError(problems))
        if self.draft_error is not None:
            return [_application_error(self.index, self.external_id, self.draft_error)]
        return None


def _application_error(index: int, external_id: str, exc: ApplicationError) -> RecordError:
    return RecordError(index, external_id, exc.field or "non_field_errors", exc.code, exc.message)


def _prepare(index: int, external_id: str, data: dict[str, Any], existing: WorkOrder | None) -> _Record:
    data = {k: v for k, v in data.items() if k in WORK_ORDER_FIELDS and k != "external_id"}
    if existing is not None:
        record = _Record(index, external_id, existing, created=False, old_number=existing.number)
        if existing.status != WorkOrderStatus.DRAFT:
            if unchanged(existing, data):
                record.unchanged = True
                return record
            try:
                require_draft(existing, "changed")
            except ApplicationError as exc:
                record.refusal = exc
            return record
        if "number" in data and not data["number"]:
            data.pop("number")
        record.number = data.get("number")
    else:
        record = _Record(index, external_id, WorkOrder(status=WorkOrderStatus.DRAFT), created=True)
        data["external_id"] = external_id
        record.number = data.get("number") or None
        if record.number is None:
            data["number"] = _placeholder()
    record.data = data
    work_order = record.work_order
    for name, value in data.items():
        setattr(work_order, name, value)
    checked_elsewhere = {
        f.name for f in (work_order._meta.get_field(n) for n in RELATIONS) if getattr(work_order, f.attname) is not None
    }
    problems: dict[str, list] = {}
    try:
        work_order.clean_fields(exclude=checked_elsewhere)
    except ValidationError as exc:
        problems = exc.update_error_dict(problems)
    try:
        work_order.clean()
    except ValidationError as exc:
        problems = exc.update_error_dict(problems)
    record.field_errors = problems
    return record


def _placeholder() -> str:
    return f"new-{uuid.uuid4().hex[:24]}"


def _load_relations(records: list[_Record]) -> None:
    """The unit of every item, and pinned BOMs and routings not at hand, in one query each."""
    work_orders = [r.work_order for r in records if not r.unchanged and not r.refusal and not r.field_errors]
    unit = Item._meta.get_field("unit")
    items = [wo.item for wo in work_orders if not unit.is_cached(wo.item)]
    units = UnitOfMeasure.objects.in_bulk({item.unit_id for item in items})
    for item in items:
        if item.unit_id in units:
            item.unit = units[item.unit_id]
    for name, model in (("bom", BillOfMaterials), ("routing", Routing)):
        relation = WorkOrder._meta.get_field(name)
        missing = [wo for wo in work_orders if getattr(wo, relation.attname) and not relation.is_cached(wo)]
        found = model.objects.in_bulk({getattr(wo, relation.attname) for wo in missing})
        for wo in missing:
            if getattr(wo, relation.attname) in found:
                setattr(wo, name, found[getattr(wo, relation.attname)])


class _Numbers:
    """Who holds which number, as the records before the current one left it."""

    def __init__(self, records: list[_Record]):
        asked = {r.number for r in records if r.number} | {f"WO-{r.work_order.pk:06d}" for r in records if r.created and r.work_order.pk}
        self.held: dict[str, int | None] = dict.fromkeys(asked)
        self.held.update(WorkOrder.objects.filter(number__in=asked).values_list("number", "pk"))
        for r in records:
            if r.old_number is not None:
                self.held[r.old_number] = r.work_order.pk

    def holder(self, number: str) -> int | None:
        if number not in self.held:
            self.held[number] = WorkOrder.objects.filter(number=number).values_list("pk", flat=True).first()
        return self.held[number]

    def move(self, pk: int, old: str | None, new: str) -> None:
        if old is not None and old != new:
            self.held[old] = None
        self.held[new] = pk

    def generate(self, pk: int) -> str:
        """``_next_number`` of the per-record service."""
        number, suffix = f"WO-{pk:06d}", 1
        while self.holder(number) is not None:
            suffix += 1
            number = f"WO-{pk:06d}-{suffix}"
        return number


def _settle_numbers(records: list[_Record], failing: _Record | None) -> dict[int, str]:
    """Each record's number in turn; raises for the first record refused. Returns the generated
    numbers by record index."""
    book = _Numbers([*records, *([failing] if failing else [])])
    generated: dict[int, str] = {}
    for record in records:
        if record.unchanged:
            continue
        pk = record.work_order.pk
        if record.created and record.number is None:
            generated[record.index] = book.generate(pk)
            book.move(pk, None, generated[record.index])
            continue
        target = record.number or record.old_number
        if target != record.old_number and book.holder(target) not in (None, pk):
            raise BulkRejected(record.errors(number_taken=True))
        book.move(pk, record.old_number, target)
    if failing is not None:
        taken = (
            failing.refusal is None
            and "number" not in failing.field_errors
            and failing.number is not None
            and failing.number != failing.old_number
            and book.holder(failing.number) not in (None, failing.work_order.pk)
        )
        raise BulkRejected(failing.errors(number_taken=taken))
    return generated


def _write(records: list[_Record], generated: dict[int, str], *, user, reason: str) -> None:
    author = user if getattr(user, "is_authenticated", False) else None
    updated = [r for r in records if not r.created and not r.unchanged]
    if updated:
        touched = sorted({name for r in updated for name in r.data})
        update_rows_touched(WorkOrder, [r.work_order for r in updated], touched)
    created = [r for r in records if r.created]
    given = [r for r in created if r.number is not None]
    for r in given:
        r.work_order.number = r.number
    update_rows(WorkOrder, [r.work_order for r in given], ["number"])
    record_history(WorkOrder, [r.work_order.pk for r in created], change="+", user=author, reason=reason)
    record_history(WorkOrder, [r.work_order.pk for r in updated], change="~", user=author, reason=reason)
    numbered = [r for r in created if r.index in generated]
    for r in numbered:
        r.work_order.number = generated[r.index]
    update_rows(WorkOrder, [r.work_order for r in numbered], ["number"])
    record_history(WorkOrder, [r.work_order.pk for r in numbered], change="~", user=author, reason=reason)
    now = timezone.now()
    WorkOrderEvent.objects.bulk_create(
        WorkOrderEvent(work_order=r.work_order, from_status="", to_status=WorkOrderStatus.DRAFT, reason="created", user=author, occurred_at=now)
        for r in created
    )


def _upsert_batch(external_ids: list[str], records: list[dict[str, Any]], *, user, reason: str) -> list[dict[str, Any]]:
    existing = {
        wo.external_id: wo
        for wo in WorkOrder.objects.select_for_update(of=("self",))
        .select_related("item__unit")
        .filter(external_id__in=external_ids)
        .order_by("pk")
    }
    prepared = [
        _prepare(index, external_id, data, existing.get(external_id))
        for index, (external_id, data) in enumerate(zip(external_ids, records, strict=True))
    ]
    _load_relations(prepared)
    for record in prepared:
        if not (record.unchanged or record.refusal or record.field_errors):
            try:
                validate_draft(record.work_order)
            except ApplicationError as exc:
                record.draft_error = exc
    failing = next((r for r in prepared if r.fails_alone), None)
    applied = prepared if failing is None else prepared[: failing.index]
    new = [r for r in applied if r.created]
    for r in new:
        if r.number is not None:
            r.work_order.number = _placeholder()  # a given number is written once every record is settled
    WorkOrder.objects.bulk_create([r.work_order for r in new])
    generated = _settle_numbers(applied, failing)
    _write(applied, generated, user=user, reason=reason)
    return [
        {"index": r.index, "external_id": r.external_id, "created": r.created, "instance": r.work_order} for r in prepared
    ]


@transaction.atomic
def work_orders_bulk_upsert(*, records: list[dict[str, Any]], user=None, reason: str = "") -> list[dict[str, Any]]:
    """Create or update many ERP orders (each record with its ``external_id``), all or none, as
    :func:`work_order_upsert_by_external_id` would one by one. Returns ``{index, external_id,
    created, instance}`` per record; raises :class:`mes.bulk.BulkRejected` with the first refused
    record's errors and applies nothing. ``reason`` goes to the audit trail."""
    external_ids = [record.get("external_id") for record in records]
    data = [{k: v for k, v in record.items() if k != "external_id"} for record in records]
    if all(isinstance(e, str) and e for e in external_ids) and len(set(external_ids)) == len(external_ids):
        try:
            with transaction.atomic():
                return _upsert_batch(external_ids, data, user=user, reason=reason)
        except IntegrityError:
            pass
    return bulk_upsert_each(external_ids=external_ids, records=data, upsert=work_order_upsert_by_external_id, user=user)
