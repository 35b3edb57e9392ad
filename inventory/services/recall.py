"""Recalls: trace a suspect lot or serial forward to every affected end product, optionally hold.

``recall_start`` records the job and queues the Celery task after the commit; ``recall_run``
(what the task calls) does the work and may run more than once: a finished job is left alone,
an interrupted one starts over, holds already placed by this recall are not placed again, and
of two deliveries running at once only the first to finish stores the report.
"""

from __future__ import annotations

import csv
import io
import logging

from django.db import connection, transaction
from django.utils import timezone

from inventory import errors
from inventory.models import Hold, Lot, RecallJob, SerialNumber
from inventory.models.genealogy import node_key
from inventory.selectors.trace import (
    FORWARD_WALK,
    MAX_DEPTH,
    RECALL_WORK_MEM,
    TABLES,
    recursive_query_cursor,
)
from inventory.services import _common as c
from inventory.services.holds import place_holds
from mes.errors import InvalidTransition
from mes.events import record_event
from mes.pause import pause_point

logger = logging.getLogger(__name__)

HOLD_CHUNK = 500

REPORT_COLUMNS = ["type", "id", "code", "item_id", "item_code", "status", "location_id", "location_code", "lot_code"]

# One row per leaf, in REPORT_COLUMNS order. A lot's place is where it has stock: the first
# location's id and every location's code ({places} is the dialect's ordered string aggregate).
_LEAVES_REPORT_SQL = (
    FORWARD_WALK
    + """
SELECT CASE WHEN lv.node_key < 0 THEN 'serial' ELSE 'lot' END AS type,
       ABS(lv.node_key) AS id,
       COALESCE(s.code, lt.code) AS code,
       i.id AS item_id,
       i.code AS item_code,
       COALESCE(s.status, lt.status) AS status,
       CASE WHEN lv.node_key < 0 THEN s.current_location_id ELSE (
           SELECT MIN(b.location_id) FROM {balances} b WHERE b.lot_id = lt.id AND b.quantity > 0
       ) END AS location_id,
       CASE WHEN lv.node_key < 0 THEN loc.code ELSE (
           SELECT {places} FROM {balances} b JOIN {locations} bl ON bl.id = b.location_id
           WHERE b.lot_id = lt.id AND b.quantity > 0
       ) END AS location_code,
       COALESCE(sl.code, lt.code) AS lot_code
FROM leaves lv
LEFT JOIN {serials} s ON lv.node_key < 0 AND s.id = -lv.node_key
LEFT JOIN {lots} lt ON lv.node_key > 0 AND lt.id = lv.node_key
LEFT JOIN {lots} sl ON sl.id = s.lot_id
LEFT JOIN {locations} loc ON loc.id = s.current_location_id
LEFT JOIN {items} i ON i.id = COALESCE(s.item_id, lt.item_id)
ORDER BY lv.node_key
"""
)
PLACES = {"postgresql": "string_agg(bl.code, ';' ORDER BY bl.code)", "sqlite": "group_concat(bl.code, ';')"}

_IN_STOCK_SQL = (
    FORWARD_WALK
    + """
SELECT DISTINCT d.node_key FROM down d
WHERE (d.node_key < 0 AND EXISTS (
          SELECT 1 FROM {serials} s WHERE s.id = -d.node_key AND s.current_location_id IS NOT NULL))
   OR (d.node_key > 0 AND EXISTS (
          SELECT 1 FROM {balances} b WHERE b.lot_id = d.node_key AND b.quantity > 0))
"""
)


def _start_key(job: RecallJob) -> int:
    return node_key(serial_id=job.serial_id) if job.serial_id else node_key(lot_id=job.lot_id)


def _report_sql() -> str:
    return _LEAVES_REPORT_SQL.format(places=PLACES.get(connection.vendor, PLACES["sqlite"]), **TABLES)


def affected_end_products(*, start_key: int, max_depth: int = MAX_DEPTH) -> list[tuple]:
    """The leaves of the forward tree (end products, or the start itself when it went nowhere) as
    rows of ``REPORT_COLUMNS``, from one recursive query."""
    with recursive_query_cursor(work_mem=RECALL_WORK_MEM) as cursor:
        cursor.execute(_report_sql(), [start_key, max_depth])
        return cursor.fetchall()


def affected_report_csv(*, start_key: int, max_depth: int = MAX_DEPTH) -> tuple[str, int]:
    """The report as CSV text and its row count. On PostgreSQL the database writes the CSV
    (``COPY … TO STDOUT``): a recall of 100,000 serials then costs Python almost nothing."""
    if connection.vendor != "postgresql":
        rows = affected_end_products(start_key=start_key, max_depth=max_depth)
        return report_to_csv(rows), len(rows)
    with recursive_query_cursor(work_mem=RECALL_WORK_MEM) as cursor:
        copy_sql = f"COPY ({_report_sql()}) TO STDOUT WITH (FORMAT csv, HEADER true)"
        with cursor.cursor.copy(copy_sql, [start_key, max_depth]) as copy:
            text = b"".join(bytes(block) for block in copy).decode()
    return text, max(text.count("\n") - 1, 0)


INTEGER_COLUMNS = {"id", "item_id", "location_id"}


def report_to_csv(rows: list[list]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REPORT_COLUMNS)
    writer.writerows(rows)
    return out.getvalue()


def report_as_dicts(report: str) -> list[dict]:
    """The stored CSV report as JSON-ready rows (ids as integers, empty cells as null)."""
    if not report:
        return []
    rows = []
    for row in csv.DictReader(io.StringIO(report)):
        for key, value in row.items():
            if value == "":
                row[key] = None
            elif key in INTEGER_COLUMNS:
                row[key] = int(value)
        rows.append(row)
    return rows


def affected_in_stock(*, start_key: int, max_depth: int = MAX_DEPTH) -> list[int]:
    """Every node of the forward tree (the start included) that still has stock."""
    with recursive_query_cursor(work_mem=RECALL_WORK_MEM) as cursor:
        cursor.execute(_IN_STOCK_SQL.format(**TABLES), [start_key, max_depth])
        return sorted(row[0] for row in cursor.fetchall())


@transaction.atomic
def recall_start(*, lot: Lot | None = None, serial: SerialNumber | None = None, reason: str, place_holds: bool = False, user) -> RecallJob:
    """Record a recall job and queue its work for after the commit."""
    from inventory.tasks import run_recall

    if (lot is None) == (serial is None):
        raise errors.invalid("Recall either a lot or a serial number.", field="lot", code="lot_or_serial")
    reason = c.check_reason(reason, what="a recall")
    job = RecallJob.objects.create(
        lot=lot,
        serial=serial,
        reason=reason,
        place_holds=place_holds,
        started_by=user if getattr(user, "is_authenticated", False) else None,
    )
    target = lot or serial
    record_event(
        type="recall.started",
        aggregate_type="recall",
        aggregate_id=job.pk,
        payload={
            "recall": job.pk,
            "lot": job.lot_id,
            "serial": job.serial_id,
            "code": target.code,
            "item": target.item_id,
            "reason": reason,
            "place_holds": place_holds,
        },
        actor=user,
    )
    transaction.on_commit(lambda: run_recall.delay(job_id=job.pk))
    return job


def _set(job: RecallJob, **fields) -> None:
    for name, value in fields.items():
        setattr(job, name, value)
    RecallJob.objects.filter(pk=job.pk).update(**fields)


def _transition(job_id: int, target: str) -> RecallJob | None:
    """Move the job to ``target`` under a row lock; None when it already finished."""
    with transaction.atomic():
        job = RecallJob.objects.select_for_update().get(pk=job_id)
        if job.status in (RecallJob.Status.DONE, RecallJob.Status.FAILED):
            return None
        if target not in RecallJob.TRANSITIONS[job.status]:
            raise InvalidTransition(entity="Recall", current=job.status, target=target)
        job.status = target
        job.started_at = timezone.now()
        job.progress = 0
        job.error = ""
        job.save(update_fields=["status", "started_at", "progress", "error"])
        return job


def recall_run(*, job_id: int) -> RecallJob:
    """Do a recall job: trace, hold what is in stock (when asked), store the report."""
    job = _transition(job_id, RecallJob.Status.RUNNING)
    if job is None:
        return RecallJob.objects.get(pk=job_id)
    try:
        start = _start_key(job)
        if job.place_holds:
            keys = affected_in_stock(start_key=start)
            _set(job, progress=20)
            _hold_all(job, keys)
        pause_point("recall.held")
        _set(job, progress=60)
        report, count = affected_report_csv(start_key=start)
        with transaction.atomic():
            job = RecallJob.objects.select_for_update().get(pk=job.pk)
            if job.status != RecallJob.Status.RUNNING:
                return job  # another delivery of this job finished it meanwhile
            # Stored as CSV text: it is the download, and text costs the database nothing to parse.
            job.report = report
            job.affected_count = count
            job.holds_placed = Hold.objects.filter(source_type="recall", source_id=job.pk).count()
            job.status = RecallJob.Status.DONE
            job.progress = 100
            job.finished_at = timezone.now()
            job.save(update_fields=["report", "affected_count", "holds_placed", "status", "progress", "finished_at"])
            record_event(
                type="recall.completed",
                aggregate_type="recall",
                aggregate_id=job.pk,
                payload={
                    "recall": job.pk,
                    "lot": job.lot_id,
                    "serial": job.serial_id,
                    "affected_count": job.affected_count,
                    "holds_placed": job.holds_placed,
                },
                actor=job.started_by,
            )
        return job
    except Exception as exc:
        logger.exception("recall failed", extra={"recall": job_id})
        with transaction.atomic():
            job = RecallJob.objects.select_for_update().get(pk=job_id)
            if job.status != RecallJob.Status.RUNNING:
                return job
            job.status = RecallJob.Status.FAILED
            job.error = f"{type(exc).__name__}: {exc}"[:2000]
            job.finished_at = timezone.now()
            job.save(update_fields=["status", "error", "finished_at"])
        return job


def _hold_all(job: RecallJob, keys: list[int]) -> int:
    reason = f"Recall #{job.pk}: {job.reason}"
    placed = 0
    for start in range(0, len(keys), HOLD_CHUNK):
        chunk = keys[start : start + HOLD_CHUNK]
        lots = list(Lot.objects.filter(pk__in=[k for k in chunk if k > 0]))
        serials = list(SerialNumber.objects.filter(pk__in=[-k for k in chunk if k < 0]))
        placed += len(
            place_holds(lots=lots, serials=serials, reason=reason, user=job.started_by, source_type="recall", source_id=job.pk)
        )
        _set(job, progress=20 + int(40 * (start + len(chunk)) / max(len(keys), 1)))
    return placed


def recall_report_csv(job: RecallJob) -> str:
    return job.report or report_to_csv([])
