"""Schedule runs: finite-capacity scheduling of the released work, published to the operations.

``schedule_run_start`` records a :class:`~orders.models.ScheduleRun` and queues the Celery job
after the commit; ``schedule_run_execute`` (what the job calls) does three steps, each callable
on its own:

1. :func:`orders.selectors.scheduling.schedule_build` reads the released work into the engine's
   problem, with a digest of every row it read (see that module for the rules);
2. :func:`schedule_solve` runs the engine (CP-SAT seeded with the dispatching rule, or the rule
   alone for ``objective=heuristic``) within the run's time limit, on every core;
3. :func:`schedule_publish` locks the orders and operations (orders by pk, then operations by
   pk, as the execution services do), reads them again and compares the digest: when anything
   changed underneath, the run is marked ``stale`` and nothing is written; otherwise every placed
   operation's ``planned_start``/``planned_end`` is written in that one transaction and the event
   ``schedule.published`` recorded. Dispatch lists order by ``planned_start``, so they follow.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from mes.errors import ApplicationError, InvalidInput, InvalidTransition
from mes.pause import pause_point
from orders.models import (
    SCHEDULE_RUN_TRANSITIONS,
    ScheduleObjective,
    ScheduleRun,
    ScheduleRunStatus,
    WorkOrder,
    WorkOrderOperation,
)
from orders.models.scheduling import DEFAULT_TIME_LIMIT_SECONDS, MAX_TIME_LIMIT_SECONDS
from orders.scheduling import Solution, solve
from orders.selectors.scheduling import (
    SCHEDULED_ORDER_STATUSES,
    ScheduleInput,
    read_operations,
    schedule_build,
    schedule_fingerprint,
)

logger = logging.getLogger(__name__)

LATE_LIST_LIMIT = 1000
MAX_HORIZON_START_AHEAD = dt.timedelta(days=3 * 366)

__all__ = [
    "schedule_build",
    "schedule_publish",
    "schedule_run_claim",
    "schedule_run_execute",
    "schedule_run_start",
    "schedule_solve",
]


def _user(user):
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def schedule_solve(*, schedule_input: ScheduleInput, objective: str, time_limit_seconds: float, workers: int = 0) -> Solution:
    """Run the engine on the problem (``workers=0``: every core; seeded, so repeatable).

    The dispatching rule has already placed every operation (``schedule_build`` extends the
    calendars until it does), so a plan always exists: should the engine nevertheless answer
    ``infeasible``, the rule's plan is returned, with status ``heuristic``."""
    solution = solve(
        schedule_input.problem, objective=objective, time_limit_seconds=time_limit_seconds, workers=workers, seed=0
    )
    if solution.status != "infeasible" or not schedule_input.heuristic.ends:
        return solution
    logger.warning("the solver reported no schedule where the dispatching rule found one; using the rule's plan")
    return _rule_solution(schedule_input, objective, solution)


def _rule_solution(schedule_input: ScheduleInput, objective: str, solution: Solution) -> Solution:
    rule = schedule_input.heuristic
    late = _late_orders(schedule_input, rule.ends, limit=10**9)
    makespan = max(rule.ends.values(), default=0)
    tardiness = sum(row["minutes_late"] * row["weight"] for row in late)
    return Solution(
        status="heuristic",
        starts=dict(rule.starts),
        ends=dict(rule.ends),
        makespan=makespan,
        weighted_tardiness=tardiness,
        late_jobs=[row["work_order"] for row in late],
        lower_bound=None,
        objective_value={"makespan": makespan, "weighted_tardiness": tardiness}.get(objective),
        wall_seconds=solution.wall_seconds,
        heuristic_makespan=makespan,
        heuristic_weighted_tardiness=tardiness,
    )


def _check_inputs(*, horizon_start, time_limit_seconds, objective) -> None:
    if objective not in ScheduleObjective.values:
        raise InvalidInput(f"objective must be one of {', '.join(ScheduleObjective.values)}.", field="objective", code="invalid_choice")
    if not isinstance(time_limit_seconds, int) or not 1 <= time_limit_seconds <= MAX_TIME_LIMIT_SECONDS:
        raise InvalidInput(
            f"time_limit_seconds must be a whole number from 1 to {MAX_TIME_LIMIT_SECONDS}.", field="time_limit_seconds", code="out_of_range"
        )
    if horizon_start is not None and (horizon_start.tzinfo is None or horizon_start.utcoffset() is None):
        raise InvalidInput("horizon_start must have a time zone.", field="horizon_start", code="naive_datetime")
    if horizon_start is not None and horizon_start > timezone.now() + MAX_HORIZON_START_AHEAD:
        raise InvalidInput(
            f"horizon_start may be at most {MAX_HORIZON_START_AHEAD.days} days ahead.", field="horizon_start", code="out_of_range"
        )


@transaction.atomic
def schedule_run_start(
    *,
    horizon_start: dt.datetime | None = None,
    time_limit_seconds: int = DEFAULT_TIME_LIMIT_SECONDS,
    objective: str = ScheduleObjective.WEIGHTED_TARDINESS,
    user=None,
) -> ScheduleRun:
    """Record a run and queue its job for after the commit."""
    from orders.tasks import run_schedule

    _check_inputs(horizon_start=horizon_start, time_limit_seconds=time_limit_seconds, objective=objective)
    run = ScheduleRun.objects.create(
        horizon_start=horizon_start, time_limit_seconds=time_limit_seconds, objective=objective, created_by=_user(user)
    )
    transaction.on_commit(lambda: run_schedule.delay(run_id=run.pk))
    return run


def schedule_run_claim(*, run_id: int) -> ScheduleRun | None:
    """Move the run to ``running`` under a row lock; ``None`` when it has already finished.

    A run found running was interrupted (its worker died): it starts over."""
    with transaction.atomic():
        run = ScheduleRun.objects.select_for_update().get(pk=run_id)
        if run.is_finished:
            return None
        if ScheduleRunStatus.RUNNING not in SCHEDULE_RUN_TRANSITIONS[run.status]:
            raise InvalidTransition(entity=f"Schedule run #{run.pk}", current=run.status, target=ScheduleRunStatus.RUNNING)
        run.status = ScheduleRunStatus.RUNNING
        run.started_at = timezone.now()
        run.error = ""
        run.save(update_fields=["status", "started_at", "error"])
        return run


def _late_orders(schedule_input: ScheduleInput, ends: dict, *, limit: int = LATE_LIST_LIMIT) -> list[dict]:
    finish: dict[int, int] = {}
    for task in schedule_input.problem.tasks:
        finish[task.job_id] = max(finish.get(task.job_id, 0), ends[task.id])
    due = {job.id: job.due for job in schedule_input.problem.jobs}
    late = []
    for order_id, end in finish.items():
        if due[order_id] is not None and end > due[order_id]:
            order = schedule_input.orders[order_id]
            late.append(
                {
                    "work_order": order_id,
                    "number": order.number,
                    "due_at": order.due_at.isoformat() if order.due_at else None,
                    "planned_end": schedule_input.at(end).isoformat(),
                    "minutes_late": end - due[order_id],
                    "weight": order.weight,
                }
            )
    late.sort(key=lambda row: (-row["minutes_late"] * row["weight"], row["number"]))
    return late[:limit]


def _figures(run: ScheduleRun, schedule_input: ScheduleInput, solution: Solution) -> list[str]:
    """Copy the solution's figures onto the run; returns the names of the fields set."""
    late = _late_orders(schedule_input, solution.ends) if solution.ends else []
    heuristic_late = _late_orders(schedule_input, schedule_input.heuristic.ends, limit=10**9)
    run.solver_status = solution.status
    run.planned_from = schedule_input.planned_from
    run.horizon_end = schedule_input.horizon_end
    run.work_orders_count = len(schedule_input.orders)
    run.operations_count = len(schedule_input.operations)
    run.frozen_operations_count = sum(1 for op in schedule_input.operations.values() if op.frozen)
    run.objective_value = solution.objective_value
    run.makespan_minutes = solution.makespan if solution.ends else None
    run.weighted_tardiness = solution.weighted_tardiness if solution.ends else None
    run.late_orders = len(solution.late_jobs) if solution.ends else None
    run.late_work_orders = late
    run.lower_bound = solution.lower_bound
    run.wall_seconds = round(solution.wall_seconds, 3)
    run.heuristic_makespan_minutes = solution.heuristic_makespan
    run.heuristic_weighted_tardiness = solution.heuristic_weighted_tardiness
    run.heuristic_late_orders = len(heuristic_late)
    run.input_fingerprint = schedule_input.fingerprint
    run.plan = {str(task_id): [solution.starts[task_id], solution.ends[task_id]] for task_id in solution.starts}
    return [
        "solver_status", "planned_from", "horizon_end", "work_orders_count", "operations_count", "frozen_operations_count",
        "objective_value", "makespan_minutes", "weighted_tardiness", "late_orders", "late_work_orders", "lower_bound",
        "wall_seconds", "heuristic_makespan_minutes", "heuristic_weighted_tardiness", "heuristic_late_orders",
        "input_fingerprint", "plan",
    ]


def _lock_inputs(schedule_input: ScheduleInput) -> None:
    """Lock the orders read and any order released since (by pk), then their operations (by pk)."""
    order_ids = list(
        WorkOrder.objects.select_for_update(of=("self",))
        .filter(Q(pk__in=schedule_input.order_ids) | Q(status__in=SCHEDULED_ORDER_STATUSES))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    list(
        WorkOrderOperation.objects.select_for_update(of=("self",))
        .filter(work_order_id__in=order_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _write_plan(schedule_input: ScheduleInput, solution: Solution) -> int:
    """``planned_start``/``planned_end`` of every placed operation, one parameterised UPDATE run
    for all rows. A frozen operation keeps its actual start as its planned start."""
    now = timezone.now()
    rows = []
    for op_id, op in schedule_input.operations.items():
        start = schedule_input.at(solution.starts[op_id])
        if op.frozen and op.actual_start is not None:
            start = op.actual_start
        rows.append((start, schedule_input.at(solution.ends[op_id]), now, op_id))
    table = WorkOrderOperation._meta.db_table
    quote = connection.ops.quote_name
    sql = (
        f"UPDATE {quote(table)} SET {quote('planned_start')} = %s, {quote('planned_end')} = %s, "
        f"{quote('updated_at')} = %s WHERE {quote('id')} = %s"
    )
    field_of = WorkOrderOperation._meta.get_field
    prepared = [
        [field_of(name).get_db_prep_save(value, connection) for name, value in zip(("planned_start", "planned_end", "updated_at"), row[:3], strict=True)]
        + [row[3]]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, prepared)
    return len(rows)


def schedule_publish(*, run: ScheduleRun, schedule_input: ScheduleInput, solution: Solution) -> ScheduleRun:
    """Write the plan in one transaction if nothing it read has changed; else mark the run stale."""
    with transaction.atomic():
        run = ScheduleRun.objects.select_for_update().get(pk=run.pk)
        if run.status != ScheduleRunStatus.RUNNING:
            raise InvalidTransition(entity=f"Schedule run #{run.pk}", current=run.status, target=ScheduleRunStatus.DONE)
        fields = _figures(run, schedule_input, solution)
        run.finished_at = timezone.now()
        fields.append("finished_at")
        if solution.status == "infeasible" or (schedule_input.operations and not solution.ends):
            run.status = ScheduleRunStatus.FAILED
            run.error = "The solver found no schedule that fits the calendars."
            run.save(update_fields=[*fields, "status", "error"])
            return run
        _lock_inputs(schedule_input)
        if schedule_fingerprint(read_operations()) != schedule_input.fingerprint:
            run.status = ScheduleRunStatus.STALE
            run.error = (
                "Orders, operations or calendars changed while the schedule was computed; nothing was published. "
                "Start a new run."
            )
            run.save(update_fields=[*fields, "status", "error"])
            return run
        run.published_operations = _write_plan(schedule_input, solution)
        run.status = ScheduleRunStatus.DONE
        run.save(update_fields=[*fields, "published_operations", "status"])
        record_published(run)
        return run


def record_published(run: ScheduleRun) -> None:
    from mes.events import record_event

    record_event(
        type="schedule.published",
        aggregate_type="schedule_run",
        aggregate_id=run.pk,
        payload={
            "schedule_run": run.pk,
            "objective": run.objective,
            "solver_status": run.solver_status,
            "planned_from": run.planned_from,
            "makespan_minutes": run.makespan_minutes,
            "weighted_tardiness": run.weighted_tardiness,
            "late_orders": run.late_orders,
            "operations": run.published_operations,
        },
        actor=run.created_by,
    )


def _fail(run_id: int, message: str) -> ScheduleRun:
    with transaction.atomic():
        run = ScheduleRun.objects.select_for_update().get(pk=run_id)
        if run.is_finished:
            return run
        run.status = ScheduleRunStatus.FAILED
        run.error = message[:4000]
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        return run


def schedule_run_execute(*, run_id: int) -> ScheduleRun:
    """Do a run: build, solve, publish. A finished run is left as it is."""
    run = schedule_run_claim(run_id=run_id)
    if run is None:
        return ScheduleRun.objects.get(pk=run_id)
    try:
        schedule_input = schedule_build(horizon_start=run.horizon_start)
        solution = schedule_solve(
            schedule_input=schedule_input, objective=run.objective, time_limit_seconds=run.time_limit_seconds
        )
        pause_point("schedule.solved")
        return schedule_publish(run=run, schedule_input=schedule_input, solution=solution)
    except ApplicationError as exc:
        return _fail(run_id, exc.message)
    except Exception as exc:
        logger.exception("schedule run failed", extra={"schedule_run": run_id})
        return _fail(run_id, f"{type(exc).__name__}: {exc}")

