"""Control charts, capability indices and Western Electric rules.

Published reference: D. C. Montgomery, "Introduction to Statistical Quality Control", 6th ed.,
Wiley 2009, Table 6.3 (Example 6.1): inside diameter (mm) of automobile engine piston rings,
25 samples of 5. Montgomery reports x̄̄ = 74.001, R̄ = 0.023 (ΣR = 0.581), X̄ chart limits
74.014 / 73.988, R chart limits 0.049 / 0, all points in control, and with specifications
74.000 ± 0.05 mm, σ̂ = R̄/d2 = 0.0099 and Cp = 0.10 / (6 · 0.0099) = 1.68. Control chart
constants: the same book, Appendix VI.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quality.spc import (
    RuleViolation,
    capability,
    control_constants,
    individuals_chart,
    western_electric_violations,
    xbar_r_chart,
)

PISTON_RINGS = [
    [74.030, 74.002, 74.019, 73.992, 74.008],
    [73.995, 73.992, 74.001, 74.011, 74.004],
    [73.988, 74.024, 74.021, 74.005, 74.002],
    [74.002, 73.996, 73.993, 74.015, 74.009],
    [73.992, 74.007, 74.015, 73.989, 74.014],
    [74.009, 73.994, 73.997, 73.985, 73.993],
    [73.995, 74.006, 73.994, 74.000, 74.005],
    [73.985, 74.003, 73.993, 74.015, 73.988],
    [74.008, 73.995, 74.009, 74.005, 74.004],
    [73.998, 74.000, 73.990, 74.007, 73.995],
    [73.994, 73.998, 73.994, 73.995, 73.990],
    [74.004, 74.000, 74.007, 74.000, 73.996],
    [73.983, 74.002, 73.998, 73.997, 74.012],
    [74.006, 73.967, 73.994, 74.000, 73.984],
    [74.012, 74.014, 73.998, 73.999, 74.007],
    [74.000, 73.984, 74.005, 73.998, 73.996],
    [73.994, 74.012, 73.986, 74.005, 74.007],
    [74.006, 74.010, 74.018, 74.003, 74.000],
    [73.984, 74.002, 74.003, 74.005, 73.997],
    [74.000, 74.010, 74.013, 74.020, 74.003],
    [73.982, 74.001, 74.015, 74.005, 73.996],
    [74.004, 73.999, 73.990, 74.006, 74.009],
    [74.010, 73.989, 73.990, 74.009, 74.014],
    [74.015, 74.008, 73.993, 74.000, 74.010],
    [73.982, 73.984, 73.995, 74.017, 74.013],
]

# Sample means and ranges as printed next to the data in Table 6.3.
PRINTED_MEANS = [
    74.010, 74.001, 74.008, 74.003, 74.003, 73.996, 74.000, 73.997, 74.004, 73.998, 73.994, 74.001, 73.998,
    73.990, 74.006, 73.997, 74.001, 74.007, 73.998, 74.009, 74.000, 74.002, 74.002, 74.005, 73.998,
]  # fmt: skip
PRINTED_RANGES = [
    0.038, 0.019, 0.036, 0.022, 0.026, 0.024, 0.012, 0.030, 0.014, 0.017, 0.008, 0.011, 0.029,
    0.039, 0.016, 0.021, 0.026, 0.018, 0.021, 0.020, 0.033, 0.019, 0.025, 0.022, 0.035,
]  # fmt: skip


@pytest.mark.parametrize(
    ("n", "published"),
    [
        (2, dict(A2=1.880, A3=2.659, d2=1.128, d3=0.853, D3=0, D4=3.267, B4=3.267, c4=0.7979, E2=2.660)),
        (5, dict(A2=0.577, A3=1.427, d2=2.326, d3=0.864, D3=0, D4=2.114, B3=0, B4=2.089, c4=0.9400)),
        (10, dict(A2=0.308, A3=0.975, d2=3.078, d3=0.797, D3=0.223, D4=1.777, B3=0.284, B4=1.716, c4=0.9727)),
        (25, dict(A2=0.153, A3=0.606, d2=3.931, d3=0.708, D3=0.459, D4=1.541, B3=0.565, B4=1.435, c4=0.9896)),
    ],
)
def test_constants_match_published_values(n, published):
    constants = control_constants(n)
    for name, value in published.items():
        assert getattr(constants, name) == pytest.approx(value, abs=1e-9), name


@given(st.integers(min_value=2, max_value=25))
def test_constants_agree_with_their_defining_formulas(n):
    k = control_constants(n)
    c4 = math.sqrt(2 / (n - 1)) * math.gamma(n / 2) / math.gamma((n - 1) / 2)
    assert k.c4 == pytest.approx(c4, abs=6e-5)
    assert k.A2 == pytest.approx(3 / (k.d2 * math.sqrt(n)), abs=1.5e-3)
    assert k.A3 == pytest.approx(3 / (k.c4 * math.sqrt(n)), abs=1.5e-3)
    # d2 and d3 are published to 3 decimals: bound the rounding error carried into 3·d3/d2, plus
    # one unit in the last digit of D3, D4 (published tables differ there, e.g. 1.608 / 1.609 at n = 18).
    carried = 3 * (0.0005 / k.d2 + k.d3 * 0.0005 / k.d2**2) + 0.001
    assert k.D4 == pytest.approx(1 + 3 * k.d3 / k.d2, abs=carried)
    assert k.D3 == pytest.approx(max(0.0, 1 - 3 * k.d3 / k.d2), abs=carried)
    s = 3 * math.sqrt(1 - k.c4**2) / k.c4
    assert k.B4 == pytest.approx(1 + s, abs=1.5e-3)
    assert k.B3 == pytest.approx(max(0.0, 1 - s), abs=1.5e-3)
    assert k.E2 == pytest.approx(3 / k.d2, abs=6e-4)


@pytest.mark.parametrize("n", [0, 1, 26])
def test_constants_outside_2_to_25_are_refused(n):
    with pytest.raises(ValueError, match="subgroup sizes"):
        control_constants(n)


def test_piston_ring_data_reproduce_the_printed_sample_statistics():
    chart = xbar_r_chart(PISTON_RINGS)
    assert chart.location_points == pytest.approx(PRINTED_MEANS, abs=0.0005)
    assert chart.spread_points == pytest.approx(PRINTED_RANGES, abs=1e-9)
    assert sum(chart.spread_points) == pytest.approx(0.581, abs=1e-9)


def test_xbar_r_chart_of_the_piston_rings_matches_montgomery():
    chart = xbar_r_chart(PISTON_RINGS)
    assert chart.kind == "xbar-r"
    assert chart.subgroup_size == 5
    assert chart.location.centre == pytest.approx(74.001, abs=0.0005)
    assert chart.spread.centre == pytest.approx(0.023, abs=0.0005)
    assert chart.location.ucl == pytest.approx(74.014, abs=0.001)
    assert chart.location.lcl == pytest.approx(73.988, abs=0.001)
    assert chart.spread.ucl == pytest.approx(0.049, abs=0.0005)
    assert chart.spread.lcl == 0
    assert chart.sigma == pytest.approx(0.0099, abs=0.0001)


def test_xbar_r_limits_use_a2_d3_d4_on_the_unrounded_statistics():
    chart = xbar_r_chart(PISTON_RINGS)
    grand_mean = sum(sum(group) for group in PISTON_RINGS) / 125
    mean_range = 0.581 / 25
    assert chart.location.centre == pytest.approx(grand_mean, abs=1e-12)
    assert chart.location.ucl == pytest.approx(grand_mean + 0.577 * mean_range, abs=1e-12)
    assert chart.location.lcl == pytest.approx(grand_mean - 0.577 * mean_range, abs=1e-12)
    assert chart.spread.ucl == pytest.approx(2.114 * mean_range, abs=1e-12)
    assert chart.sigma == pytest.approx(mean_range / 2.326, abs=1e-12)


def test_piston_ring_process_is_in_control():
    chart = xbar_r_chart(PISTON_RINGS)
    assert all(chart.location.lcl <= point <= chart.location.ucl for point in chart.location_points)
    assert all(chart.spread.lcl <= point <= chart.spread.ucl for point in chart.spread_points)
    assert [violation for violation in chart.location_violations() if violation.rule == 1] == []


def test_capability_of_the_piston_rings_matches_montgomery():
    result = capability(PISTON_RINGS, lsl=73.95, usl=74.05)
    assert result.sigma_within == pytest.approx(0.0099, abs=0.0001)
    assert result.cp == pytest.approx(1.68, abs=0.02)
    mean_range = 0.581 / 25
    sigma = mean_range / 2.326
    grand_mean = sum(sum(group) for group in PISTON_RINGS) / 125
    assert result.mean == pytest.approx(grand_mean, abs=1e-12)
    assert result.cp == pytest.approx(0.10 / (6 * sigma), rel=1e-9)
    assert result.cpk == pytest.approx((74.05 - grand_mean) / (3 * sigma), rel=1e-9)
    assert result.cpk < result.cp


def test_performance_indices_use_the_overall_standard_deviation():
    values = [value for group in PISTON_RINGS for value in group]
    mean = sum(values) / len(values)
    overall = math.sqrt(sum((value - mean) ** 2 for value in values) / (len(values) - 1))
    result = capability(PISTON_RINGS, lsl=73.95, usl=74.05)
    assert result.sigma_overall == pytest.approx(overall, rel=1e-9)
    assert result.pp == pytest.approx(0.10 / (6 * overall), rel=1e-9)
    assert result.ppk == pytest.approx(min(74.05 - mean, mean - 73.95) / (3 * overall), rel=1e-9)


def test_individuals_chart_on_a_hand_computed_series():
    # x̄ = 72/6 = 12; moving ranges 2, 1, 2, 1, 2 so MR̄ = 1.6.
    chart = individuals_chart([10, 12, 11, 13, 12, 14])
    assert chart.kind == "i-mr"
    assert chart.spread_points == (2, 1, 2, 1, 2)
    assert chart.location.centre == pytest.approx(12)
    assert chart.location.ucl == pytest.approx(12 + 2.660 * 1.6)  # 16.256
    assert chart.location.lcl == pytest.approx(12 - 2.660 * 1.6)  # 7.744
    assert chart.spread.centre == pytest.approx(1.6)
    assert chart.spread.ucl == pytest.approx(3.267 * 1.6)  # 5.2272
    assert chart.spread.lcl == 0
    assert chart.sigma == pytest.approx(1.6 / 1.128)


def test_individuals_capability_uses_the_moving_range_sigma():
    # x̄ = 10, MR̄ = 2 so σ_within = 2/1.128; s = sqrt(6/5).
    values = [9, 11, 9, 11, 9, 11]
    result = capability(values, lsl=4, usl=16)
    assert result.sigma_within == pytest.approx(2 / 1.128)
    assert result.cp == pytest.approx(12 / (6 * 2 / 1.128))  # = 1.128
    assert result.cpk == pytest.approx(result.cp)
    assert result.sigma_overall == pytest.approx(math.sqrt(6 / 5))
    assert result.pp == pytest.approx(12 / (6 * math.sqrt(6 / 5)))


def test_capability_with_an_upper_limit_only():
    result = capability([9, 11, 9, 11, 9, 11], usl=16)
    assert result.cp is None
    assert result.pp is None
    assert result.cpl is None
    assert result.cpk == pytest.approx(6 / (3 * 2 / 1.128))
    assert result.cpu == result.cpk
    assert result.ppk == pytest.approx(6 / (3 * math.sqrt(6 / 5)))


def test_capability_with_a_lower_limit_only():
    result = capability([9, 11, 9, 11, 9, 11], lsl=8)
    assert result.cp is None
    assert result.cpu is None
    assert result.cpk == pytest.approx(2 / (3 * 2 / 1.128))
    assert result.cpl == result.cpk


def test_capability_with_a_given_within_sigma():
    result = capability([9, 11, 9, 11, 9, 11], lsl=4, usl=16, sigma_within=2.0)
    assert result.cp == pytest.approx(1.0)
    assert result.sigma_within == 2.0


def test_capability_needs_consistent_inputs():
    with pytest.raises(ValueError, match="specification limit"):
        capability([1, 2, 3])
    with pytest.raises(ValueError, match="below"):
        capability([1, 2, 3], lsl=5, usl=5)
    with pytest.raises(TypeError):
        capability([[1, 2], 3], usl=5)
    with pytest.raises(ValueError, match="no variation"):
        capability([2, 2, 2], usl=5)


def test_xbar_r_chart_needs_equal_subgroups_of_2_to_25():
    with pytest.raises(ValueError, match="same size"):
        xbar_r_chart([[1, 2, 3], [1, 2]])
    with pytest.raises(ValueError, match="subgroup sizes"):
        xbar_r_chart([[1.0] * 26])
    with pytest.raises(ValueError):
        xbar_r_chart([])
    with pytest.raises(ValueError, match="finite"):
        xbar_r_chart([[1, math.nan]])


def rules_found(points: list[float]) -> list[tuple[int, int]]:
    return [(v.rule, v.index) for v in western_electric_violations(points, centre=0.0, sigma=1.0)]


def test_a_clean_series_breaks_no_rule():
    assert rules_found([0.5, -0.5, 1.5, -0.3, 0.2, -1.2, 2.5, -0.4, 0.9, -0.9, 0.1, -0.1]) == []


def test_rule_1_one_point_beyond_3_sigma():
    assert rules_found([0.5, -0.5, 0.5, -0.5, 3.5, -0.5, 0.5]) == [(1, 4)]
    assert rules_found([0.5, -3.2, 0.5]) == [(1, 1)]


def test_rule_2_two_of_three_points_beyond_2_sigma_on_one_side():
    assert rules_found([0.5, -0.5, 2.5, 0.5, 2.5, -0.5]) == [(2, 4)]
    assert rules_found([-2.5, 0.5, 2.5, -0.5]) == []  # opposite sides do not count


def test_rule_3_four_of_five_points_beyond_1_sigma_on_one_side():
    assert rules_found([0.5, -0.5, 1.5, 1.5, 0.5, 1.5, 1.5, -0.5]) == [(3, 6)]
    assert rules_found([0.5, -1.5, -1.5, -0.5, -1.5, -1.5, 0.5]) == [(3, 5)]


def test_rule_4_eight_points_on_one_side_of_the_centre():
    assert rules_found([-0.5] + [0.5] * 8 + [-0.5]) == [(4, 8)]
    assert rules_found([0.5] * 9) == [(4, 7), (4, 8)]
    assert rules_found([0.5] * 7 + [0.0] + [0.5] * 7) == []  # a point on the centre line breaks the run


def test_violation_names_the_rule_the_point_and_the_side():
    (violation,) = western_electric_violations([10, 10, 16.5], centre=10, sigma=2)
    assert violation == RuleViolation(rule=1, index=2, description=violation.description)
    assert "3σ" in violation.description
    assert "above" in violation.description


def test_western_electric_needs_a_positive_sigma():
    with pytest.raises(ValueError, match="sigma"):
        western_electric_violations([1, 2], centre=0, sigma=0)


@given(st.lists(st.floats(min_value=-0.99, max_value=0.99, allow_nan=False), max_size=50))
def test_points_within_1_sigma_alternating_sides_break_no_rule(magnitudes):
    points = [abs(m) if i % 2 else -abs(m) for i, m in enumerate(magnitudes)]
    assert rules_found(points) == []
