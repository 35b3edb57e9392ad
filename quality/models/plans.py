"""Inspection plans, their characteristics, and where each plan stands in the switching rules."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from quality.sampling import AQL_VALUES, INSPECTION_LEVELS, Severity, SwitchingState

SPEC_DIGITS = 18
SPEC_PLACES = 6


class Trigger(models.TextChoices):
    RECEIPT = "receipt", "Receipt of a lot"
    OPERATION = "operation", "Report on a routing operation"
    FINAL = "final", "Finished lot or serials"


class InspectionPlan(models.Model):
    """What to inspect on an item, when, and how many: ISO 2859-1 sampling at ``aql`` and
    ``inspection_level``.

    A plan with trigger ``operation`` applies to production reports on the work order operations
    with ``routing_operation_sequence`` of work orders for ``item``.
    """

    item = models.ForeignKey("inventory.Item", on_delete=models.PROTECT, related_name="inspection_plans")
    name = models.CharField(max_length=100)
    revision = models.CharField(max_length=16, default="A")
    description = models.TextField(blank=True)
    trigger = models.CharField(max_length=12, choices=Trigger.choices)
    routing_operation_sequence = models.PositiveIntegerField(
        null=True, blank=True, help_text="For trigger 'operation': the routing operation (10, 20, …) it inspects."
    )
    aql = models.DecimalField(
        max_digits=7,
        decimal_places=3,
        choices=[(value, str(value)) for value in AQL_VALUES],
        help_text="Acceptance quality limit, one of the preferred values of ISO 2859-1 (0.010 … 1000).",
    )
    inspection_level = models.CharField(
        max_length=4, choices=[(level, level) for level in INSPECTION_LEVELS], default="II"
    )
    reduced_inspection_allowed = models.BooleanField(
        default=False,
        help_text="The responsible authority approves switching to reduced inspection (ISO 2859-1 9.3.3).",
    )
    hold_on_spc_violation = models.BooleanField(
        default=False, help_text="Hold the material produced since the last good point when an SPC rule is broken."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["item_id", "name", "revision"]
        constraints = [
            models.UniqueConstraint(fields=["item", "name", "revision"], name="inspection_plan_unique_revision"),
            models.CheckConstraint(
                condition=Q(trigger__in=[t.value for t in Trigger]), name="inspection_plan_trigger_valid"
            ),
            models.CheckConstraint(
                condition=~Q(trigger="operation") | Q(routing_operation_sequence__isnull=False),
                name="inspection_plan_operation_has_sequence",
            ),
            models.CheckConstraint(
                condition=Q(inspection_level__in=list(INSPECTION_LEVELS)), name="inspection_plan_level_valid"
            ),
        ]
        indexes = [models.Index(fields=["item", "trigger", "is_active"], name="inspection_plan_trigger_idx")]

    def __str__(self) -> str:
        return f"{self.name} rev {self.revision}"

    def clean(self) -> None:
        if self.trigger == Trigger.OPERATION and self.routing_operation_sequence is None:
            raise ValidationError(
                {"routing_operation_sequence": "A plan triggered by an operation names the routing operation."}
            )
        if self.trigger != Trigger.OPERATION and self.routing_operation_sequence is not None:
            raise ValidationError(
                {"routing_operation_sequence": "Only a plan triggered by an operation names a routing operation."}
            )


class Characteristic(models.Model):
    """One thing measured on each sampled unit: a variable against its limits, or an attribute."""

    class Kind(models.TextChoices):
        VARIABLE = "variable", "Variable (measured value)"
        ATTRIBUTE = "attribute", "Attribute (pass/fail)"

    class Chart(models.TextChoices):
        XBAR_R = "xbar_r", "X̄–R (subgroups)"
        IMR = "imr", "Individuals – moving range"

    plan = models.ForeignKey(InspectionPlan, on_delete=models.CASCADE, related_name="characteristics")
    position = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    nominal = models.DecimalField(max_digits=SPEC_DIGITS, decimal_places=SPEC_PLACES, null=True, blank=True)
    lsl = models.DecimalField(
        max_digits=SPEC_DIGITS, decimal_places=SPEC_PLACES, null=True, blank=True, help_text="Lower specification limit."
    )
    usl = models.DecimalField(
        max_digits=SPEC_DIGITS, decimal_places=SPEC_PLACES, null=True, blank=True, help_text="Upper specification limit."
    )
    unit = models.CharField(max_length=16, blank=True)
    chart_type = models.CharField(max_length=8, choices=Chart.choices, default=Chart.IMR)
    subgroup_size = models.PositiveSmallIntegerField(
        default=5, help_text="Measurements per subgroup on an X̄–R chart (2 to 25)."
    )
    # The last measurement id the SPC job has evaluated (its points are not re-judged).
    spc_evaluated_through = models.BigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["plan_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "name"], name="characteristic_unique_name"),
            models.CheckConstraint(condition=Q(kind__in=["variable", "attribute"]), name="characteristic_kind_valid"),
            models.CheckConstraint(condition=Q(chart_type__in=["xbar_r", "imr"]), name="characteristic_chart_valid"),
            models.CheckConstraint(
                condition=Q(lsl__isnull=True) | Q(usl__isnull=True) | Q(lsl__lt=models.F("usl")),
                name="characteristic_lsl_below_usl",
            ),
            models.CheckConstraint(
                condition=Q(kind="variable") | (Q(lsl__isnull=True) & Q(usl__isnull=True) & Q(nominal__isnull=True)),
                name="characteristic_attribute_has_no_limits",
            ),
            models.CheckConstraint(
                condition=Q(kind="attribute") | Q(lsl__isnull=False) | Q(usl__isnull=False),
                name="characteristic_variable_has_a_limit",
            ),
            models.CheckConstraint(
                condition=Q(subgroup_size__gte=2, subgroup_size__lte=25), name="characteristic_subgroup_size_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.kind == self.Kind.VARIABLE:
            if self.lsl is None and self.usl is None:
                errors["usl"] = "A variable characteristic needs at least one specification limit."
            if self.lsl is not None and self.usl is not None and self.lsl >= self.usl:
                errors["usl"] = "The upper specification limit must be above the lower one."
            if self.nominal is not None and (
                (self.lsl is not None and self.nominal < self.lsl) or (self.usl is not None and self.nominal > self.usl)
            ):
                errors["nominal"] = "The nominal value lies outside the specification limits."
        elif self.kind == self.Kind.ATTRIBUTE:
            for name in ("nominal", "lsl", "usl"):
                if getattr(self, name) is not None:
                    errors[name] = "An attribute characteristic is pass/fail and has no limits."
        if errors:
            raise ValidationError(errors)

    def conforms(self, *, value=None, passed=None) -> bool:
        """Whether one measured unit is within specification."""
        if self.kind == self.Kind.ATTRIBUTE:
            return bool(passed)
        if self.lsl is not None and value < self.lsl:
            return False
        return not (self.usl is not None and value > self.usl)


class SamplingState(models.Model):
    """Where one item's stream of lots stands in the ISO 2859-1 switching rules for one plan."""

    item = models.ForeignKey("inventory.Item", on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(InspectionPlan, on_delete=models.CASCADE, related_name="sampling_states")
    severity = models.CharField(
        max_length=10, choices=[(s.value, s.value.capitalize()) for s in Severity], default=Severity.NORMAL.value
    )
    consecutive_accepted = models.PositiveIntegerField(default=0)
    recent_results = models.CharField(
        max_length=5, blank=True, help_text="The last lots on normal inspection, oldest first: A accepted, R not."
    )
    switching_score = models.PositiveIntegerField(default=0)
    tightened_rejected_count = models.PositiveIntegerField(default=0)
    discontinued = models.BooleanField(default=False)
    lots_inspected = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["plan_id", "item_id"]
        constraints = [
            models.UniqueConstraint(fields=["item", "plan"], name="sampling_state_unique"),
            models.CheckConstraint(
                condition=Q(severity__in=[s.value for s in Severity]), name="sampling_state_severity_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} / {self.item_id}: {self.severity}"

    def as_switching_state(self) -> SwitchingState:
        return SwitchingState(
            severity=Severity(self.severity),
            consecutive_accepted=self.consecutive_accepted,
            recent_results=tuple(mark == "A" for mark in self.recent_results),
            switching_score=self.switching_score,
            tightened_rejected_count=self.tightened_rejected_count,
            discontinued=self.discontinued,
        )

    def take(self, state: SwitchingState) -> None:
        self.severity = state.severity.value
        self.consecutive_accepted = state.consecutive_accepted
        self.recent_results = "".join("A" if accepted else "R" for accepted in state.recent_results)
        self.switching_score = state.switching_score
        self.tightened_rejected_count = state.tightened_rejected_count
        self.discontinued = state.discontinued
