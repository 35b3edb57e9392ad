"""Reads of the quality app: inspection and nonconformance lists, control charts."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Prefetch, QuerySet

from inventory.models import Hold, SerialNumber
from quality.models import (
    Characteristic,
    Inspection,
    InspectionPlan,
    Measurement,
    Nonconformance,
    SpcSignal,
)
from quality.spc import (
    Capability,
    ControlChart,
    RuleViolation,
    capability,
    individuals_chart,
    western_electric_violations,
    xbar_r_chart,
)

DEFAULT_CHART_POINTS = 100
MAX_CHART_POINTS = 500


def inspection_plan_list() -> QuerySet[InspectionPlan]:
    return (
        InspectionPlan.objects.select_related("item")
        .prefetch_related(
            Prefetch("characteristics", queryset=Characteristic.objects.order_by("position", "id")),
            "sampling_states",
        )
        .order_by("pk")
    )


def inspection_list() -> QuerySet[Inspection]:
    return (
        Inspection.objects.select_related("plan", "item", "lot", "serial", "created_by", "decided_by")
        .prefetch_related(
            Prefetch("serials", queryset=SerialNumber.objects.only("id", "code")),
            Prefetch("nonconformances", queryset=Nonconformance.objects.only("id", "number", "inspection_id")),
        )
        .annotate(measurement_count=Count("measurements", distinct=True))
        .order_by("-pk")
    )


def inspection_detail() -> QuerySet[Inspection]:
    return inspection_list().prefetch_related(
        Prefetch(
            "measurements",
            queryset=Measurement.objects.select_related("characteristic", "recorded_by").order_by(
                "sample_index", "characteristic__position", "characteristic_id"
            ),
        )
    )


def nonconformance_list() -> QuerySet[Nonconformance]:
    return (
        Nonconformance.objects.select_related(
            "item", "lot", "serial", "location", "returned_to", "opened_by", "dispositioned_by", "closed_by"
        )
        .prefetch_related(
            Prefetch("serials", queryset=SerialNumber.objects.only("id", "code")),
            Prefetch("holds", queryset=Hold.objects.select_related("lot", "serial").order_by("pk")),
        )
        .order_by("-pk")
    )


def nonconformance_detail() -> QuerySet[Nonconformance]:
    return nonconformance_list().prefetch_related("events__user")


@dataclass
class ChartPoint:
    """One plotted point: a subgroup mean or an individual value, with the measurements behind it.

    ``spread`` is the subgroup range (X̄–R) or the moving range to the previous point (I-MR).
    """

    index: int
    value: float
    measurement_ids: list[int]
    inspection_ids: list[int]
    recorded_at: datetime
    values: list[float] = field(default_factory=list)
    spread: float | None = None

    @property
    def key(self) -> int:
        return self.measurement_ids[-1]


@dataclass
class SpcSeries:
    """The points of a chart, the limits they are judged against, and what breaks the rules.

    ``chart`` holds the centre line and control limits, computed from the ``baseline_size``
    points of the baseline (see ``spc_series``); ``violations`` are over all points.
    """

    characteristic: Characteristic
    points: list[ChartPoint]
    chart: ControlChart | None
    violations: list[RuleViolation]
    capability: Capability | None
    baseline_size: int = 0
    note: str = ""


# Fewer baseline points than this give limits too loose to judge by; then all points are used.
MIN_BASELINE_POINTS = 5


def _rows(characteristic: Characteristic, *, max_points: int) -> list[list[dict]]:
    """The measurements of the last ``max_points`` points, grouped per point, oldest first.

    Points follow the order measurements were recorded. X̄–R subgroups are consecutive runs of
    ``subgroup_size`` measurements counted from the first one, so a subgroup never changes once
    complete; the incomplete last run waits for more measurements.
    """
    measured = Measurement.objects.filter(characteristic=characteristic, value__isnull=False)
    fields = ("id", "value", "inspection_id", "recorded_at")
    if characteristic.chart_type == Characteristic.Chart.IMR:
        rows = list(measured.order_by("-id").values(*fields)[:max_points])
        return [[row] for row in reversed(rows)]
    size = characteristic.subgroup_size
    complete = measured.count() // size
    first = max(0, complete - max_points)
    rows = list(measured.order_by("id").values(*fields)[first * size : complete * size])
    return [rows[start : start + size] for start in range(0, len(rows), size)]


def _points(characteristic: Characteristic, *, max_points: int) -> list[ChartPoint]:
    points: list[ChartPoint] = []
    for index, group in enumerate(_rows(characteristic, max_points=max(1, min(max_points, MAX_CHART_POINTS)))):
        values = [float(row["value"]) for row in group]
        point = ChartPoint(
            index=index,
            value=sum(values) / len(values),
            measurement_ids=[row["id"] for row in group],
            inspection_ids=sorted({row["inspection_id"] for row in group}),
            recorded_at=group[-1]["recorded_at"],
            values=values,
        )
        if characteristic.chart_type == Characteristic.Chart.IMR:
            point.spread = abs(point.value - points[-1].value) if points else None
        else:
            point.spread = max(values) - min(values)
        points.append(point)
    return points


def _limits(characteristic: Characteristic, points: list[ChartPoint]) -> ControlChart:
    if characteristic.chart_type == Characteristic.Chart.IMR:
        return individuals_chart([point.value for point in points])
    return xbar_r_chart([point.values for point in points])


def spc_series(
    *,
    characteristic: Characteristic,
    max_points: int = DEFAULT_CHART_POINTS,
    baseline_through: int | None = None,
    exclude_keys: frozenset[int] | set[int] = frozenset(),
) -> SpcSeries:
    """Control chart of a variable characteristic over its last ``max_points`` points.

    The centre line and limits come from the baseline: the points up to measurement id
    ``baseline_through`` (those already judged), less ``exclude_keys`` (points that signalled an
    assignable cause). New points are then judged against limits they did not shift. With fewer
    than ``MIN_BASELINE_POINTS`` baseline points, every point is used (trial limits). The Western
    Electric rules run over all points of the location chart; capability uses all values.
    """
    points = _points(characteristic, max_points=max_points)
    if len(points) < 2:
        return SpcSeries(characteristic, points, None, [], None, note="At least two points are needed for a chart.")
    baseline = [
        point
        for point in points
        if (baseline_through is None or point.key <= baseline_through) and point.key not in exclude_keys
    ]
    if len(baseline) < MIN_BASELINE_POINTS:
        baseline = points
    chart = _limits(characteristic, baseline)
    note = ""
    violations: list[RuleViolation] = []
    sigma = chart.location.statistic_sigma
    if sigma > 0 and math.isfinite(sigma):
        violations = western_electric_violations(
            [point.value for point in points], centre=chart.location.centre, sigma=sigma
        )
    else:
        note = "The baseline shows no variation: no rule can be judged."
    data = (
        [point.value for point in points]
        if characteristic.chart_type == Characteristic.Chart.IMR
        else [point.values for point in points]
    )
    return SpcSeries(
        characteristic,
        points,
        chart,
        violations,
        _capability(characteristic, data, chart),
        baseline_size=len(baseline),
        note=note,
    )


def spc_series_as_judged(*, characteristic: Characteristic, max_points: int = DEFAULT_CHART_POINTS) -> SpcSeries:
    """The chart as the SPC job judges it: limits from the points already judged, less those
    that signalled."""
    signalled = set(SpcSignal.objects.filter(characteristic=characteristic).values_list("point_key", flat=True))
    return spc_series(
        characteristic=characteristic,
        max_points=max_points,
        baseline_through=characteristic.spc_evaluated_through,
        exclude_keys=signalled,
    )


def _capability(characteristic: Characteristic, data, chart: ControlChart) -> Capability | None:
    lsl = float(characteristic.lsl) if characteristic.lsl is not None else None
    usl = float(characteristic.usl) if characteristic.usl is not None else None
    if lsl is None and usl is None:
        return None
    try:
        return capability(data, lsl=lsl, usl=usl, sigma_within=chart.sigma if chart.sigma > 0 else None)
    except ValueError:
        return None


def spc_signals(*, characteristic: Characteristic, limit: int = 50) -> list[SpcSignal]:
    return list(
        SpcSignal.objects.filter(characteristic=characteristic)
        .prefetch_related(Prefetch("nonconformances", queryset=Nonconformance.objects.only("id", "number", "spc_signal_id")))
        .order_by("-pk")[:limit]
    )


def _f(value) -> float | None:
    return float(value) if value is not None else None


def spc_chart(*, characteristic: Characteristic, max_points: int = DEFAULT_CHART_POINTS) -> dict:
    """Everything a control chart page shows: points, centre line and limits of both charts,
    the rules broken, Cp/Cpk/Pp/Ppk, and the signals the SPC job recorded."""
    series = spc_series_as_judged(characteristic=characteristic, max_points=max_points)
    chart = series.chart
    broken: dict[int, list[int]] = {}
    for violation in series.violations:
        broken.setdefault(violation.index, []).append(violation.rule)
    points = []
    for point in series.points:
        points.append(
            {
                "index": point.index,
                "value": point.value,
                "spread": point.spread,
                "measurement_ids": point.measurement_ids,
                "inspections": point.inspection_ids,
                "recorded_at": point.recorded_at,
                "rules_broken": broken.get(point.index, []),
            }
        )
    found = series.capability
    return {
        "characteristic": characteristic.pk,
        "name": characteristic.name,
        "plan": characteristic.plan_id,
        "item": characteristic.plan.item_id,
        "unit": characteristic.unit,
        "chart_type": characteristic.chart_type,
        "subgroup_size": characteristic.subgroup_size if characteristic.chart_type == Characteristic.Chart.XBAR_R else 1,
        "nominal": _f(characteristic.nominal),
        "lsl": _f(characteristic.lsl),
        "usl": _f(characteristic.usl),
        "points": points,
        "centre_line": chart.location.centre if chart else None,
        "upper_control_limit": chart.location.ucl if chart else None,
        "lower_control_limit": chart.location.lcl if chart else None,
        "spread_chart": (
            {
                "centre_line": chart.spread.centre,
                "upper_control_limit": chart.spread.ucl,
                "lower_control_limit": chart.spread.lcl,
            }
            if chart
            else None
        ),
        "sigma": chart.sigma if chart else None,
        "limits_from_points": series.baseline_size,
        "violations": [
            {"rule": v.rule, "index": v.index, "description": v.description} for v in series.violations
        ],
        "cp": found.cp if found else None,
        "cpk": found.cpk if found else None,
        "pp": found.pp if found else None,
        "ppk": found.ppk if found else None,
        "mean": found.mean if found else (sum(p.value for p in series.points) / len(series.points) if series.points else None),
        "sigma_overall": found.sigma_overall if found else None,
        "signals": spc_signals(characteristic=characteristic),
        "note": series.note,
    }
