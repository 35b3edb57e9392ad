"""Statistical process control: Shewhart X̄-R and individuals (I-MR) charts, capability indices
and the Western Electric run rules.

Control chart constants are the published values for subgroup sizes 2 to 25 (Montgomery,
"Introduction to Statistical Quality Control", Appendix VI; ASTM E2587), with E2 = 3/d2 for the
individuals chart. Limits follow the usual formulas:

* X̄ chart: x̄̄ ± A2·R̄; R chart: D3·R̄ to D4·R̄; σ̂ = R̄/d2.
* Individuals chart: x̄ ± E2·MR̄; moving range chart: 0 to D4(2)·MR̄; σ̂ = MR̄/d2(2).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class ControlConstants:
    n: int
    A2: float
    A3: float
    d2: float
    d3: float
    D3: float
    D4: float
    B3: float
    B4: float
    c4: float
    E2: float


_CONSTANTS_TABLE = """
 n   A2     A3     d2     d3     D3     D4     B3     B4     c4      E2
 2   1.880  2.659  1.128  0.853  0      3.267  0      3.267  0.7979  2.660
 3   1.023  1.954  1.693  0.888  0      2.574  0      2.568  0.8862  1.772
 4   0.729  1.628  2.059  0.880  0      2.282  0      2.266  0.9213  1.457
 5   0.577  1.427  2.326  0.864  0      2.114  0      2.089  0.9400  1.290
 6   0.483  1.287  2.534  0.848  0      2.004  0.030  1.970  0.9515  1.184
 7   0.419  1.182  2.704  0.833  0.076  1.924  0.118  1.882  0.9594  1.109
 8   0.373  1.099  2.847  0.820  0.136  1.864  0.185  1.815  0.9650  1.054
 9   0.337  1.032  2.970  0.808  0.184  1.816  0.239  1.761  0.9693  1.010
10   0.308  0.975  3.078  0.797  0.223  1.777  0.284  1.716  0.9727  0.975
11   0.285  0.927  3.173  0.787  0.256  1.744  0.321  1.679  0.9754  0.945
12   0.266  0.886  3.258  0.778  0.283  1.717  0.354  1.646  0.9776  0.921
13   0.249  0.850  3.336  0.770  0.307  1.693  0.382  1.618  0.9794  0.899
14   0.235  0.817  3.407  0.763  0.328  1.672  0.406  1.594  0.9810  0.881
15   0.223  0.789  3.472  0.756  0.347  1.653  0.428  1.572  0.9823  0.864
16   0.212  0.763  3.532  0.750  0.363  1.637  0.448  1.552  0.9835  0.849
17   0.203  0.739  3.588  0.744  0.378  1.622  0.466  1.534  0.9845  0.836
18   0.194  0.718  3.640  0.739  0.391  1.608  0.482  1.518  0.9854  0.824
19   0.187  0.698  3.689  0.734  0.403  1.597  0.497  1.503  0.9862  0.813
20   0.180  0.680  3.735  0.729  0.415  1.585  0.510  1.490  0.9869  0.803
21   0.173  0.663  3.778  0.724  0.425  1.575  0.523  1.477  0.9876  0.794
22   0.167  0.647  3.819  0.720  0.434  1.566  0.534  1.466  0.9882  0.786
23   0.162  0.633  3.858  0.716  0.443  1.557  0.545  1.455  0.9887  0.778
24   0.157  0.619  3.895  0.712  0.451  1.548  0.555  1.445  0.9892  0.770
25   0.153  0.606  3.931  0.708  0.459  1.541  0.565  1.435  0.9896  0.763
"""

MIN_SUBGROUP_SIZE = 2
MAX_SUBGROUP_SIZE = 25


@cache
def _constants_by_size() -> dict[int, ControlConstants]:
    header, *rows = _CONSTANTS_TABLE.strip().splitlines()
    names = header.split()
    table = {}
    for row in rows:
        values = dict(zip(names, row.split(), strict=True))
        n = int(values.pop("n"))
        table[n] = ControlConstants(n=n, **{name: float(value) for name, value in values.items()})
    return table


def control_constants(n: int) -> ControlConstants:
    """The chart constants for subgroups of ``n`` (2 to 25)."""
    try:
        return _constants_by_size()[n]
    except KeyError:
        raise ValueError(
            f"control chart constants cover subgroup sizes"
            f" {MIN_SUBGROUP_SIZE} to {MAX_SUBGROUP_SIZE}, not {n}"
        ) from None


@dataclass(frozen=True)
class Limits:
    """Centre line and control limits of one chart."""

    centre: float
    ucl: float
    lcl: float

    @property
    def statistic_sigma(self) -> float:
        """Standard deviation of the plotted statistic implied by the limits: (UCL − centre)/3."""
        return (self.ucl - self.centre) / 3


@dataclass(frozen=True)
class ControlChart:
    """A pair of charts: location (X̄ or individuals) and spread (R or moving range).

    ``sigma`` is the estimate of the process standard deviation (R̄/d2 or MR̄/d2).
    """

    kind: str
    subgroup_size: int
    location: Limits
    spread: Limits
    location_points: tuple[float, ...]
    spread_points: tuple[float, ...]
    sigma: float

    def location_violations(self) -> list[RuleViolation]:
        """Western Electric rule violations on the location chart."""
        return western_electric_violations(
            self.location_points, centre=self.location.centre, sigma=self.location.statistic_sigma
        )


def _finite(values: Sequence[float], what: str) -> list[float]:
    numbers = [float(value) for value in values]
    if not all(math.isfinite(value) for value in numbers):
        raise ValueError(f"{what} must be finite numbers")
    return numbers


def _checked_subgroups(subgroups: Sequence[Sequence[float]]) -> list[list[float]]:
    if not subgroups:
        raise ValueError("at least one subgroup is needed")
    groups = [_finite(group, "measurements") for group in subgroups]
    sizes = {len(group) for group in groups}
    if len(sizes) != 1:
        raise ValueError(f"all subgroups must have the same size, got sizes {sorted(sizes)}")
    control_constants(sizes.pop())
    return groups


def xbar_r_chart(subgroups: Sequence[Sequence[float]]) -> ControlChart:
    """X̄ and R charts from rational subgroups of equal size n (2 to 25)."""
    groups = _checked_subgroups(subgroups)
    n = len(groups[0])
    constants = control_constants(n)
    means = tuple(statistics.fmean(group) for group in groups)
    ranges = tuple(max(group) - min(group) for group in groups)
    grand_mean = statistics.fmean(means)
    mean_range = statistics.fmean(ranges)
    return ControlChart(
        kind="xbar-r",
        subgroup_size=n,
        location=Limits(
            centre=grand_mean,
            ucl=grand_mean + constants.A2 * mean_range,
            lcl=grand_mean - constants.A2 * mean_range,
        ),
        spread=Limits(centre=mean_range, ucl=constants.D4 * mean_range, lcl=constants.D3 * mean_range),
        location_points=means,
        spread_points=ranges,
        sigma=mean_range / constants.d2,
    )


def moving_ranges(values: Sequence[float]) -> tuple[float, ...]:
    """|x_i − x_(i−1)| for consecutive values (span 2)."""
    return tuple(abs(current - previous) for previous, current in zip(values, values[1:], strict=False))


def individuals_chart(values: Sequence[float]) -> ControlChart:
    """Individuals and moving range (I-MR) charts; the moving range spans 2 observations."""
    points = _finite(values, "values")
    if len(points) < 2:
        raise ValueError("an individuals chart needs at least two values")
    constants = control_constants(2)
    ranges = moving_ranges(points)
    mean = statistics.fmean(points)
    mean_moving_range = statistics.fmean(ranges)
    return ControlChart(
        kind="i-mr",
        subgroup_size=1,
        location=Limits(
            centre=mean,
            ucl=mean + constants.E2 * mean_moving_range,
            lcl=mean - constants.E2 * mean_moving_range,
        ),
        spread=Limits(centre=mean_moving_range, ucl=constants.D4 * mean_moving_range, lcl=0.0),
        location_points=tuple(points),
        spread_points=ranges,
        sigma=mean_moving_range / constants.d2,
    )


@dataclass(frozen=True)
class Capability:
    """Process capability (Cp, Cpk from the within-subgroup σ) and performance (Pp, Ppk, overall σ).

    With one specification limit only, Cp and Pp are None and Cpk, Ppk are the one-sided indices.
    """

    cp: float | None
    cpk: float
    pp: float | None
    ppk: float
    mean: float
    sigma_within: float
    sigma_overall: float
    cpu: float | None = None
    cpl: float | None = None
    ppu: float | None = None
    ppl: float | None = None


def _split(data: Sequence[float] | Sequence[Sequence[float]]) -> tuple[list[float], list[list[float]] | None]:
    """All values, and the subgroups when the data are subgrouped (None for individual values)."""
    nested = [isinstance(item, Sequence) and not isinstance(item, str) for item in data]
    if any(nested) and not all(nested):
        raise TypeError("data must be either all individual values or all subgroups")
    if nested and all(nested):
        groups = [_finite(group, "measurements") for group in data if isinstance(group, Sequence)]
        return [value for group in groups for value in group], groups
    return _finite([value for value in data if not isinstance(value, Sequence)], "values"), None


def _within_sigma(values: list[float], groups: list[list[float]] | None) -> float:
    """R̄/d2 for subgroups (the mean of R_i/d2(n_i) when sizes differ), MR̄/d2(2) for individuals."""
    if groups is not None:
        return statistics.fmean(
            (max(group) - min(group)) / control_constants(len(group)).d2 for group in groups
        )
    return statistics.fmean(moving_ranges(values)) / control_constants(2).d2


def _indices(
    mean: float, sigma: float, lsl: float | None, usl: float | None
) -> tuple[float | None, float, float | None, float | None]:
    """(two-sided index, minimum one-sided index, upper index, lower index) for one sigma."""
    upper = (usl - mean) / (3 * sigma) if usl is not None else None
    lower = (mean - lsl) / (3 * sigma) if lsl is not None else None
    spread = (usl - lsl) / (6 * sigma) if usl is not None and lsl is not None else None
    return spread, min(index for index in (upper, lower) if index is not None), upper, lower


def capability(
    data: Sequence[float] | Sequence[Sequence[float]],
    *,
    lsl: float | None = None,
    usl: float | None = None,
    sigma_within: float | None = None,
) -> Capability:
    """Capability of a process from subgroups or individual values against specification limits.

    The within sigma is R̄/d2 for subgroups and MR̄/1.128 for individual values unless given; the
    overall sigma is the sample standard deviation of all values.
    """
    if lsl is None and usl is None:
        raise ValueError("at least one specification limit is needed")
    if lsl is not None and usl is not None and lsl >= usl:
        raise ValueError("the lower specification limit must be below the upper one")
    values, groups = _split(data)
    if len(values) < 2:
        raise ValueError("at least two values are needed")
    within = sigma_within if sigma_within is not None else _within_sigma(values, groups)
    overall = statistics.stdev(values)
    if within <= 0 or overall <= 0:
        raise ValueError("the data show no variation, so capability indices are undefined")
    mean = statistics.fmean(values)
    cp, cpk, cpu, cpl = _indices(mean, within, lsl, usl)
    pp, ppk, ppu, ppl = _indices(mean, overall, lsl, usl)
    return Capability(
        cp=cp,
        cpk=cpk,
        pp=pp,
        ppk=ppk,
        mean=mean,
        sigma_within=within,
        sigma_overall=overall,
        cpu=cpu,
        cpl=cpl,
        ppu=ppu,
        ppl=ppl,
    )


@dataclass(frozen=True)
class RuleViolation:
    """A Western Electric rule broken at ``index``, the point that completes the pattern."""

    rule: int
    index: int
    description: str


def _side(value: float, centre: float, distance: float) -> int:
    """+1 above centre + distance, −1 below centre − distance, 0 otherwise (on the line is not beyond)."""
    if value > centre + distance:
        return 1
    if value < centre - distance:
        return -1
    return 0


def _word(side: int) -> str:
    return "above" if side > 0 else "below"


def _zone_rule(
    points: Sequence[float], *, centre: float, sigma: float, sigmas: int, needed: int, window: int, rule: int
) -> list[RuleViolation]:
    """``needed`` of ``window`` consecutive points beyond ``sigmas``·σ on the same side.

    Windows at the start of the series are shorter: the first ``needed`` points already match.
    """
    sides = [_side(point, centre, sigmas * sigma) for point in points]
    found = []
    for index, side in enumerate(sides):
        recent = sides[max(0, index - window + 1) : index + 1]
        if side and recent.count(side) >= needed:
            found.append(
                RuleViolation(
                    rule=rule,
                    index=index,
                    description=(
                        f"{needed} of {window} consecutive points beyond {sigmas}σ {_word(side)} the centre"
                    ),
                )
            )
    return found


def western_electric_violations(
    points: Sequence[float], *, centre: float, sigma: float
) -> list[RuleViolation]:
    """Western Electric rules on a plotted series with its centre line and the σ of the plotted statistic.

    1. One point beyond 3σ.
    2. Two of three consecutive points beyond 2σ on the same side.
    3. Four of five consecutive points beyond 1σ on the same side.
    4. Eight consecutive points on the same side of the centre line.

    Every point that completes a pattern is reported, sorted by index then rule.
    """
    values = _finite(points, "points")
    if not (math.isfinite(sigma) and sigma > 0):
        raise ValueError("sigma must be a positive number")
    found = [
        RuleViolation(rule=1, index=index, description=f"point beyond 3σ {_word(side)} the centre")
        for index, side in enumerate(_side(value, centre, 3 * sigma) for value in values)
        if side
    ]
    found += _zone_rule(values, centre=centre, sigma=sigma, sigmas=2, needed=2, window=3, rule=2)
    found += _zone_rule(values, centre=centre, sigma=sigma, sigmas=1, needed=4, window=5, rule=3)
    found += _run_rule(values, centre=centre, length=8)
    return sorted(found, key=lambda violation: (violation.index, violation.rule))


def _run_rule(points: Sequence[float], *, centre: float, length: int) -> list[RuleViolation]:
    sides = [_side(point, centre, 0.0) for point in points]
    return [
        RuleViolation(
            rule=4, index=index, description=f"{length} consecutive points {_word(sides[index])} the centre"
        )
        for index in range(length - 1, len(sides))
        if sides[index] and all(side == sides[index] for side in sides[index - length + 1 : index + 1])
    ]
