"""ISO 2859-1:1999 single sampling: code letters, master-table plans and switching rules.

Expected values are read from the published tables of ISO 2859-1:1999 (Table 1 and Tables 2-A,
2-B, 2-C; identical in GB/T 2828.1-2012). Where a worked example exists elsewhere it is named:
Montgomery, "Introduction to Statistical Quality Control" (MIL STD 105E example: N = 2000,
AQL 0.65 %, level II gives K, n = 125, Ac 2 normal and n = 125, Ac 1 tightened), and the
"AQL Inspector's Rule" manual (ISO version, reduced inspection, lot 125, level III, AQL 1.0:
arrows from G to J, n = 32, Ac 1, Re 2).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quality.sampling import (
    AQL_VALUES,
    INSPECTION_LEVELS,
    InspectionDiscontinued,
    SamplingPlan,
    Severity,
    SwitchingState,
    code_letter,
    next_switching_state,
    plan_for_code_letter,
    record_lot_result,
    resume_inspection,
    sampling_plan,
    tighter_acceptance_number,
)

LETTERS = "ABCDEFGHJKLMNPQRS"


@pytest.mark.parametrize(
    ("lot_size", "level", "letter"),
    [
        (2, "II", "A"),
        (8, "II", "A"),
        (8, "III", "B"),
        (9, "II", "B"),
        (26, "S-2", "B"),
        (51, "S-1", "B"),
        (90, "S-1", "B"),
        (150, "S-4", "D"),
        (500, "II", "H"),
        (501, "II", "J"),
        (1000, "II", "J"),
        (1200, "III", "K"),
        (2000, "S-3", "E"),
        (3200, "II", "K"),
        (3201, "I", "J"),
        (10000, "I", "J"),
        (10001, "III", "N"),
        (35000, "III", "N"),
        (100000, "S-2", "E"),
        (200000, "I", "M"),
        (500001, "III", "R"),
        (10_000_000, "III", "R"),
        (10_000_000, "S-1", "D"),
    ],
)
def test_code_letter_follows_table_1(lot_size, level, letter):
    assert code_letter(lot_size=lot_size, inspection_level=level) == letter


def test_code_letter_accepts_level_spelling_variants():
    assert code_letter(lot_size=1000, inspection_level=" ii ") == "J"
    assert code_letter(lot_size=60, inspection_level="s-1") == "B"


def test_a_lot_of_one_item_uses_the_first_lot_size_range():
    assert code_letter(lot_size=1, inspection_level="II") == "A"


@pytest.mark.parametrize("level", ["IV", "S-5", "", "normal"])
def test_unknown_inspection_level_is_refused(level):
    with pytest.raises(ValueError, match="inspection level"):
        code_letter(lot_size=100, inspection_level=level)


@pytest.mark.parametrize("lot_size", [0, -5])
def test_lot_size_below_one_is_refused(lot_size):
    with pytest.raises(ValueError, match="lot size"):
        code_letter(lot_size=lot_size, inspection_level="II")


@pytest.mark.parametrize(
    ("letter", "aql", "severity", "expected"),
    [
        # Table 2-A, normal inspection.
        ("J", "1.0", "normal", ("J", 80, 2, 3)),
        ("K", "0.65", "normal", ("K", 125, 2, 3)),
        ("K", "1.0", "normal", ("K", 125, 3, 4)),
        ("G", "2.5", "normal", ("G", 32, 2, 3)),
        ("L", "2.5", "normal", ("L", 200, 10, 11)),
        ("B", "1000", "normal", ("B", 3, 44, 45)),
        ("A", "0.65", "normal", ("F", 20, 0, 1)),  # arrow down to the first plan, letter F
        ("H", "0.65", "normal", ("J", 80, 1, 2)),  # arrow down across the gap to Ac 1
        ("J", "0.25", "normal", ("H", 50, 0, 1)),  # arrow up to the Ac 0 plan
        ("R", "0.015", "normal", ("P", 800, 0, 1)),  # long arrow up over Q and R
        ("L", "10", "normal", ("K", 125, 21, 22)),  # arrow up at the end of the diagonal
        ("F", "100", "normal", ("E", 13, 21, 22)),
        # Table 2-B, tightened inspection.
        ("L", "1.0", "tightened", ("L", 200, 3, 4)),
        ("K", "0.65", "tightened", ("K", 125, 1, 2)),
        ("K", "4.0", "tightened", ("K", 125, 8, 9)),
        ("A", "1000", "tightened", ("A", 2, 27, 28)),
        ("Q", "0.025", "tightened", ("S", 3150, 1, 2)),  # the extra code letter S
        ("J", "0.40", "tightened", ("L", 200, 1, 2)),
        # Table 2-C, reduced inspection (1999 edition: no gap between Ac and Re).
        ("L", "1.0", "reduced", ("L", 80, 3, 4)),
        ("K", "0.65", "reduced", ("K", 50, 1, 2)),
        ("K", "2.5", "reduced", ("K", 50, 5, 6)),
        ("K", "4.0", "reduced", ("K", 50, 6, 7)),
        ("G", "1.0", "reduced", ("J", 32, 1, 2)),  # arrows from G through H to J
        ("L", "0.15", "reduced", ("N", 200, 1, 2)),
        ("R", "0.025", "reduced", ("N", 200, 0, 1)),  # long arrow up over P, Q and R
        ("R", "0.015", "reduced", ("P", 315, 0, 1)),
    ],
)
def test_master_table_plan(letter, aql, severity, expected):
    plan = plan_for_code_letter(code_letter=letter, aql=aql, severity=severity)
    assert (plan.code_letter, plan.sample_size, plan.acceptance_number, plan.rejection_number) == expected
    assert plan.severity == Severity(severity)
    assert plan.initial_code_letter == letter


@pytest.mark.parametrize(
    ("severity", "expected"),
    [("normal", (125, 2, 3)), ("tightened", (125, 1, 2)), ("reduced", (50, 1, 2))],
)
def test_plan_for_a_lot_of_2000_at_aql_065_level_ii(severity, expected):
    plan = sampling_plan(lot_size=2000, inspection_level="II", aql="0.65", severity=severity)
    assert plan.initial_code_letter == "K"
    assert (plan.sample_size, plan.acceptance_number, plan.rejection_number) == expected
    assert not plan.full_inspection


@pytest.mark.parametrize("aql", ["1.0", "1", 1.0, 1, Decimal("1.00"), " 1.0 "])
def test_aql_spellings_select_the_same_column(aql):
    plan = sampling_plan(lot_size=1000, aql=aql)
    assert (plan.sample_size, plan.acceptance_number, plan.aql) == (80, 2, Decimal("1.0"))


@pytest.mark.parametrize("aql", ["0.5", 3, "abc", 0])
def test_aql_outside_the_preferred_series_is_refused(aql):
    with pytest.raises(ValueError, match="AQL"):
        sampling_plan(lot_size=1000, aql=aql)


def test_sample_size_is_capped_at_the_lot_size():
    plan = sampling_plan(lot_size=5, inspection_level="II", aql="0.65")
    assert plan.initial_code_letter == "A"
    assert plan.code_letter == "F"
    assert (plan.sample_size, plan.acceptance_number, plan.rejection_number) == (5, 0, 1)
    assert plan.full_inspection


def test_sample_size_equal_to_the_lot_size_means_full_inspection():
    plan = sampling_plan(lot_size=20, inspection_level="II", aql="0.65")
    assert (plan.initial_code_letter, plan.code_letter) == ("C", "F")
    assert plan.sample_size == 20
    assert plan.full_inspection


def test_plan_accepts_up_to_the_acceptance_number():
    plan = sampling_plan(lot_size=1000, aql="1.0")
    assert plan.accepts(2)
    assert not plan.accepts(3)
    with pytest.raises(ValueError):
        plan.accepts(-1)


def test_tighter_acceptance_number_reads_the_next_tighter_column():
    assert tighter_acceptance_number(code_letter="K", aql="0.65") == 1
    assert tighter_acceptance_number(code_letter="L", aql="2.5") == 7
    assert tighter_acceptance_number(code_letter="Q", aql="0.010") is None


@given(
    lot_size=st.integers(min_value=1, max_value=2_000_000),
    level=st.sampled_from(INSPECTION_LEVELS),
    aql=st.sampled_from(AQL_VALUES),
    severity=st.sampled_from(list(Severity)),
)
def test_every_plan_is_well_formed(lot_size, level, aql, severity):
    plan = sampling_plan(lot_size=lot_size, inspection_level=level, aql=aql, severity=severity)
    table_plan = plan_for_code_letter(code_letter=plan.initial_code_letter, aql=aql, severity=severity)
    assert plan.rejection_number == plan.acceptance_number + 1
    assert plan.code_letter == table_plan.code_letter
    assert plan.acceptance_number == table_plan.acceptance_number
    assert plan.sample_size == min(table_plan.sample_size, lot_size)
    assert plan.full_inspection == (table_plan.sample_size >= lot_size)
    if aql <= 10:  # percent nonconforming: a plan never accepts a sample made only of nonconforming items
        assert table_plan.acceptance_number < table_plan.sample_size


@given(
    lot_size=st.integers(min_value=1, max_value=2_000_000),
    step=st.integers(min_value=0, max_value=100_000),
)
def test_code_letters_never_decrease_with_lot_size_or_level(lot_size, step):
    smaller = [code_letter(lot_size=lot_size, inspection_level=level) for level in INSPECTION_LEVELS]
    larger = [code_letter(lot_size=lot_size + step, inspection_level=level) for level in INSPECTION_LEVELS]
    assert smaller == sorted(smaller, key=LETTERS.index)
    assert all(LETTERS.index(a) <= LETTERS.index(b) for a, b in zip(smaller, larger, strict=True))


# Switching rules (clause 9.3) and discontinuation (clause 9.4).


def lots(state: SwitchingState, results: str, *, acceptance_number: int = 1, **flags) -> SwitchingState:
    """Apply lots written as a string: 'A' accepted, 'R' not accepted."""
    for result in results:
        state = next_switching_state(
            state, accepted=result == "A", acceptance_number=acceptance_number, **flags
        )
    return state


def test_inspection_starts_on_normal():
    state = SwitchingState()
    assert state.severity is Severity.NORMAL
    assert state.switching_score == 0


def test_normal_switches_to_tightened_when_2_of_5_lots_are_not_accepted():
    state = lots(SwitchingState(), "RAAA")
    assert state.severity is Severity.NORMAL
    state = lots(state, "R")
    assert state.severity is Severity.TIGHTENED


def test_two_consecutive_lots_not_accepted_switch_to_tightened():
    assert lots(SwitchingState(), "AAARR").severity is Severity.TIGHTENED


def test_two_lots_not_accepted_six_lots_apart_stay_on_normal():
    state = lots(SwitchingState(), "RAAAAR")
    assert state.severity is Severity.NORMAL
    assert state.recent_results == (True, True, True, True, False)


def test_tightened_returns_to_normal_after_5_consecutive_lots_accepted():
    tightened = lots(SwitchingState(), "RR")
    state = lots(tightened, "AAAARAAAA")
    assert state.severity is Severity.TIGHTENED
    state = lots(state, "A")
    assert state == SwitchingState(severity=Severity.NORMAL)


def test_normal_switches_to_reduced_when_the_switching_score_reaches_30_with_ac_0_or_1():
    state = lots(SwitchingState(), "A" * 14, acceptance_number=1)
    assert (state.severity, state.switching_score) == (Severity.NORMAL, 28)
    state = lots(state, "A", acceptance_number=0)
    assert state.severity is Severity.REDUCED


def test_score_gains_3_per_lot_accepted_at_the_tighter_aql_when_ac_is_2_or_more():
    state = SwitchingState()
    for _ in range(9):
        state = next_switching_state(state, accepted=True, acceptance_number=2, accepted_at_tighter_aql=True)
    assert (state.severity, state.switching_score) == (Severity.NORMAL, 27)
    state = next_switching_state(state, accepted=True, acceptance_number=2, accepted_at_tighter_aql=True)
    assert state.severity is Severity.REDUCED


def test_score_resets_when_a_lot_with_ac_2_is_accepted_but_not_at_the_tighter_aql():
    state = lots(SwitchingState(), "AAAA")
    assert state.switching_score == 8
    state = next_switching_state(state, accepted=True, acceptance_number=3, accepted_at_tighter_aql=False)
    assert (state.severity, state.switching_score) == (Severity.NORMAL, 0)


def test_score_resets_when_a_lot_is_not_accepted():
    state = lots(SwitchingState(), "AAAAR")
    assert (state.severity, state.switching_score) == (Severity.NORMAL, 0)


def test_score_of_30_needs_steady_production_and_the_authoritys_approval():
    state = lots(SwitchingState(), "A" * 15, approved_by_authority=False)
    assert (state.severity, state.switching_score) == (Severity.NORMAL, 30)
    state = lots(state, "A", production_steady=False)
    assert (state.severity, state.switching_score) == (Severity.NORMAL, 32)
    assert lots(state, "A").severity is Severity.REDUCED


def test_reduced_returns_to_normal_when_a_lot_is_not_accepted():
    reduced = SwitchingState(severity=Severity.REDUCED)
    assert lots(reduced, "AAA").severity is Severity.REDUCED
    assert lots(reduced, "AAR") == SwitchingState(severity=Severity.NORMAL)


def test_reduced_returns_to_normal_when_production_is_irregular_or_normal_is_required():
    reduced = SwitchingState(severity=Severity.REDUCED)
    assert lots(reduced, "A", production_steady=False).severity is Severity.NORMAL
    assert lots(reduced, "A", normal_required=True).severity is Severity.NORMAL


def test_inspection_is_discontinued_when_5_lots_are_not_accepted_on_tightened():
    state = lots(SwitchingState(), "RR")
    state = lots(state, "RARARAR")
    assert state.severity is Severity.TIGHTENED
    assert (state.tightened_rejected_count, state.discontinued) == (4, False)
    state = lots(state, "R")
    assert state.discontinued
    with pytest.raises(InspectionDiscontinued):
        lots(state, "A")
    assert resume_inspection(state) == SwitchingState(severity=Severity.TIGHTENED)


def test_resuming_requires_a_discontinued_scheme():
    with pytest.raises(ValueError):
        resume_inspection(SwitchingState())


def test_resubmitted_lots_do_not_count():
    state = lots(SwitchingState(), "R")
    assert lots(state, "R", original_inspection=False) == state


def test_normal_inspection_needs_the_acceptance_number():
    with pytest.raises(ValueError, match="acceptance_number"):
        next_switching_state(SwitchingState(), accepted=True)
    with pytest.raises(ValueError, match="accepted_at_tighter_aql"):
        next_switching_state(SwitchingState(), accepted=True, acceptance_number=2)


def test_record_lot_result_derives_the_score_from_the_plan():
    plan = sampling_plan(lot_size=2000, aql="0.65")  # n = 125, Ac 2; one step tighter (0.40): Ac 1
    state = record_lot_result(SwitchingState(), plan=plan, nonconforming=1)
    assert (state.severity, state.switching_score) == (Severity.NORMAL, 3)
    state = record_lot_result(state, plan=plan, nonconforming=2)
    assert (state.severity, state.switching_score, state.recent_results) == (Severity.NORMAL, 0, (True, True))
    state = record_lot_result(state, plan=plan, nonconforming=3)
    assert state.recent_results[-1] is False


def test_record_lot_result_refuses_a_plan_of_another_severity():
    plan = sampling_plan(lot_size=2000, aql="0.65", severity="tightened")
    with pytest.raises(ValueError, match="tightened"):
        record_lot_result(SwitchingState(), plan=plan, nonconforming=0)


def test_record_lot_result_needs_the_aql_for_plans_with_ac_2_or_more():
    plan = SamplingPlan("K", 125, 2, 3, Severity.NORMAL)
    with pytest.raises(ValueError, match="AQL"):
        record_lot_result(SwitchingState(), plan=plan, nonconforming=0)


@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(min_value=0, max_value=5), st.booleans(), st.booleans()),
        max_size=80,
    )
)
def test_switching_invariants_hold_for_any_sequence_of_lots(events):
    state = SwitchingState()
    for accepted, acceptance_number, at_tighter, steady in events:
        if state.discontinued:
            state = resume_inspection(state)
        previous = state
        state = next_switching_state(
            state,
            accepted=accepted,
            acceptance_number=acceptance_number,
            accepted_at_tighter_aql=accepted and at_tighter,
            production_steady=steady,
        )
        assert state.switching_score >= 0
        assert len(state.recent_results) <= 5
        if state.severity is Severity.NORMAL:
            assert state.recent_results.count(False) <= 1
            assert state.switching_score < 30 or not steady
        if state.severity is not previous.severity:
            assert (previous.severity, state.severity) in {
                (Severity.NORMAL, Severity.TIGHTENED),
                (Severity.NORMAL, Severity.REDUCED),
                (Severity.TIGHTENED, Severity.NORMAL),
                (Severity.REDUCED, Severity.NORMAL),
            }
            assert state.switching_score == 0
        assert state.discontinued == (state.tightened_rejected_count >= 5)
