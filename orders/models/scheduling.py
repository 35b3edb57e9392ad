"""Schedule runs: one finite-capacity scheduling job, its inputs, its figures and its outcome.

A run is started by a planner (API or admin) and done by a Celery job; see
:mod:`orders.services.scheduling` for what it reads and writes.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from orders.models.work_orders import WorkOrderOperation

MAX_TIME_LIMIT_SECONDS = 600
DEFAULT_TIME_LIMIT_SECONDS = 60


class ScheduleObjective(models.TextChoices):
    WEIGHTED_TARDINESS = "weighted_tardiness", "Weighted tardiness, then makespan"
    MAKESPAN = "makespan", "Makespan"
    HEURISTIC = "heuristic", "Dispatching rule only"


class ScheduleRunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done (published)"
    FAILED = "failed", "Failed"
    STALE = "stale", "Stale (not published)"


class SolverStatus(models.TextChoices):
    OPTIMAL = "optimal", "Optimal (proven)"
    FEASIBLE = "feasible", "Feasible (time limit reached)"
    HEURISTIC = "heuristic", "Dispatching rule"
    INFEASIBLE = "infeasible", "Infeasible"


R = ScheduleRunStatus

# Every allowed move of a run. A run found ``running`` again was interrupted (its worker was
# lost) and starts over; done, failed and stale are final.
SCHEDULE_RUN_TRANSITIONS: dict[str, frozenset[str]] = {
    R.QUEUED: frozenset({R.RUNNING, R.FAILED}),
    R.RUNNING: frozenset({R.RUNNING, R.DONE, R.FAILED, R.STALE}),
    R.DONE: frozenset(),
    R.FAILED: frozenset(),
    R.STALE: frozenset(),
}
FINISHED_RUN_STATUSES = frozenset({R.DONE, R.FAILED, R.STALE})


class ScheduleRun(models.Model):
    """One scheduling job. Times of the plan are minutes from ``planned_from``."""

    # Inputs
    horizon_start = models.DateTimeField(
        null=True, blank=True, help_text="Earliest time to plan work at; empty = when the job starts."
    )
    time_limit_seconds = models.PositiveIntegerField(
        default=DEFAULT_TIME_LIMIT_SECONDS,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_TIME_LIMIT_SECONDS)],
    )
    objective = models.CharField(
        max_length=20, choices=ScheduleObjective.choices, default=ScheduleObjective.WEIGHTED_TARDINESS
    )
    # Outcome
    status = models.CharField(max_length=8, choices=ScheduleRunStatus.choices, default=ScheduleRunStatus.QUEUED)
    solver_status = models.CharField(max_length=10, choices=SolverStatus.choices, blank=True)
    planned_from = models.DateTimeField(null=True, blank=True, help_text="Minute zero of the plan (the horizon start used).")
    horizon_end = models.DateTimeField(null=True, blank=True, help_text="How far the work centers' calendars were read.")
    work_orders_count = models.PositiveIntegerField(default=0)
    operations_count = models.PositiveIntegerField(default=0, help_text="Operations placed (frozen ones included).")
    frozen_operations_count = models.PositiveIntegerField(default=0, help_text="Running or paused: kept where they are.")
    objective_value = models.BigIntegerField(null=True, blank=True, help_text="The primary criterion of the objective.")
    makespan_minutes = models.PositiveIntegerField(null=True, blank=True)
    weighted_tardiness = models.BigIntegerField(null=True, blank=True, help_text="Σ weight × minutes late.")
    late_orders = models.PositiveIntegerField(null=True, blank=True, help_text="Work orders finishing after their due date.")
    late_work_orders = models.JSONField(
        default=list, blank=True, help_text="[{work_order, number, due_at, planned_end, minutes_late, weight}]"
    )
    lower_bound = models.BigIntegerField(null=True, blank=True, help_text="Proven bound on the primary criterion, when known.")
    wall_seconds = models.FloatField(null=True, blank=True, help_text="Solver time.")
    heuristic_makespan_minutes = models.PositiveIntegerField(null=True, blank=True)
    heuristic_weighted_tardiness = models.BigIntegerField(null=True, blank=True)
    heuristic_late_orders = models.PositiveIntegerField(null=True, blank=True)
    input_fingerprint = models.CharField(
        max_length=64, blank=True, help_text="Digest of the orders, operations and calendars the run read."
    )
    plan = models.JSONField(
        default=dict, blank=True, help_text='{"<operation id>": [start minute, end minute]} from planned_from.'
    )
    published_operations = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "schedule run"
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in ScheduleRunStatus]), name="schedule_run_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(objective__in=[o.value for o in ScheduleObjective]), name="schedule_run_objective_valid"
            ),
            models.CheckConstraint(
                condition=Q(solver_status="") | Q(solver_status__in=[s.value for s in SolverStatus]),
                name="schedule_run_solver_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(time_limit_seconds__gte=1, time_limit_seconds__lte=MAX_TIME_LIMIT_SECONDS),
                name="schedule_run_time_limit_range",
            ),
        ]
        indexes = [models.Index(fields=["status", "-id"], name="schedule_run_status_idx")]

    def __str__(self) -> str:
        return f"schedule run #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_RUN_STATUSES

    @property
    def gap_percent(self) -> float | None:
        """Distance of the objective value from the proven bound, in percent."""
        if self.objective_value is None or self.lower_bound is None:
            return None
        if self.objective_value == 0:
            return 0.0
        return round(100.0 * (self.objective_value - self.lower_bound) / self.objective_value, 2)


class PlannedOperation(WorkOrderOperation):
    """The operations as the schedule placed them: the admin shows them as a Gantt chart."""

    class Meta:
        proxy = True
        verbose_name = "planned operation"
        verbose_name_plural = "schedule (Gantt chart)"
