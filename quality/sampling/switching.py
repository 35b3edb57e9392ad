"""Switching rules of ISO 2859-1:1999 (clause 9.3) and discontinuation (clause 9.4), as a pure state machine.

Each call takes the state after the previous lot and the result of the next lot on original
inspection, and returns the new state; nothing is stored or mutated.

* Normal to tightened: 2 lots not accepted among 5 or fewer consecutive lots.
* Tightened to normal: 5 consecutive lots accepted.
* Normal to reduced: switching score at least 30, production at a steady rate and reduced
  inspection approved by the responsible authority. The score starts at 0 on normal inspection;
  for a plan with Ac >= 2 it gains 3 when the lot would also have been accepted at the AQL one
  step tighter and is reset to 0 otherwise; for Ac 0 or 1 it gains 2 when the lot is accepted
  and is reset to 0 otherwise.
* Reduced to normal: a lot not accepted, production irregular or delayed, or other conditions
  that warrant normal inspection.
* Discontinuation: the cumulative number of lots not accepted on tightened inspection reaches 5.
  After corrective action, inspection resumes on tightened (``resume_inspection``).

Simplifications: only the single sampling score rule is implemented (double and multiple sampling
have their own rule in 9.3.3.2 b); steady production, the authority's approval and "other
conditions" are flags supplied by the caller; resubmitted lots (``original_inspection=False``)
leave the state unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from quality.sampling.plans import SamplingPlan, tighter_acceptance_number
from quality.sampling.tables import Severity

SWITCHING_SCORE_FOR_REDUCED = 30
NORMAL_WINDOW = 5
NOT_ACCEPTED_FOR_TIGHTENED = 2
ACCEPTED_TO_LEAVE_TIGHTENED = 5
NOT_ACCEPTED_TO_DISCONTINUE = 5


class InspectionDiscontinued(Exception):
    """Lots were submitted while sampling inspection is discontinued (clause 9.4)."""


@dataclass(frozen=True)
class SwitchingState:
    """Where a product stream stands in the switching scheme.

    ``recent_results`` holds the last lots (at most 5, oldest first) on the current normal
    inspection, True for accepted. ``consecutive_accepted`` counts the accepted lots in a row on
    the current severity; ``tightened_rejected_count`` the lots not accepted since tightened began.
    """

    severity: Severity = Severity.NORMAL
    consecutive_accepted: int = 0
    recent_results: tuple[bool, ...] = ()
    switching_score: int = 0
    tightened_rejected_count: int = 0
    discontinued: bool = False


def switching_score_after(
    score: int, *, accepted: bool, acceptance_number: int, accepted_at_tighter_aql: bool | None
) -> int:
    """The switching score after one lot on normal inspection with a single sampling plan."""
    if acceptance_number >= 2:
        if accepted_at_tighter_aql is None:
            raise ValueError("a plan with Ac >= 2 needs accepted_at_tighter_aql for the switching score")
        if accepted_at_tighter_aql and not accepted:
            raise ValueError("a lot accepted at the tighter AQL cannot be rejected at the AQL itself")
        return score + 3 if accepted_at_tighter_aql else 0
    return score + 2 if accepted else 0


def next_switching_state(
    state: SwitchingState,
    *,
    accepted: bool,
    acceptance_number: int | None = None,
    accepted_at_tighter_aql: bool | None = None,
    production_steady: bool = True,
    approved_by_authority: bool = True,
    normal_required: bool = False,
    original_inspection: bool = True,
) -> SwitchingState:
    """The state after one more lot.

    On normal inspection ``acceptance_number`` (Ac of the plan used) is required, and for Ac >= 2
    also ``accepted_at_tighter_aql``; they feed the switching score. ``normal_required`` stands
    for "other conditions warrant that normal inspection be reinstated" on reduced inspection.
    """
    if state.discontinued:
        raise InspectionDiscontinued("sampling inspection is discontinued until corrective action is taken")
    if not original_inspection:
        return state
    if state.severity is Severity.NORMAL:
        if acceptance_number is None:
            raise ValueError("acceptance_number is required on normal inspection")
        return _after_normal_lot(
            state,
            accepted=accepted,
            acceptance_number=acceptance_number,
            accepted_at_tighter_aql=accepted_at_tighter_aql,
            reduced_allowed=production_steady and approved_by_authority,
        )
    if state.severity is Severity.TIGHTENED:
        return _after_tightened_lot(state, accepted=accepted)
    return _after_reduced_lot(state, accepted=accepted, stay=production_steady and not normal_required)


def record_lot_result(
    state: SwitchingState,
    *,
    plan: SamplingPlan,
    nonconforming: int,
    production_steady: bool = True,
    approved_by_authority: bool = True,
    normal_required: bool = False,
    original_inspection: bool = True,
) -> SwitchingState:
    """``next_switching_state`` for a lot inspected with ``plan`` that showed ``nonconforming`` items."""
    if plan.severity is not state.severity:
        raise ValueError(
            f"a {plan.severity} plan was used while the scheme is on {state.severity} inspection"
        )
    accepted = plan.accepts(nonconforming)
    accepted_at_tighter_aql = None
    if state.severity is Severity.NORMAL and plan.acceptance_number >= 2:
        if plan.aql is None:
            raise ValueError("the plan carries no AQL, so the tighter plan cannot be looked up")
        tighter = tighter_acceptance_number(code_letter=plan.code_letter, aql=plan.aql)
        accepted_at_tighter_aql = tighter is not None and nonconforming <= tighter
    return next_switching_state(
        state,
        accepted=accepted,
        acceptance_number=plan.acceptance_number,
        accepted_at_tighter_aql=accepted_at_tighter_aql,
        production_steady=production_steady,
        approved_by_authority=approved_by_authority,
        normal_required=normal_required,
        original_inspection=original_inspection,
    )


def resume_inspection(state: SwitchingState) -> SwitchingState:
    """After corrective action following discontinuation, inspection restarts on tightened."""
    if not state.discontinued:
        raise ValueError("inspection is not discontinued")
    return SwitchingState(severity=Severity.TIGHTENED)


def _after_normal_lot(
    state: SwitchingState,
    *,
    accepted: bool,
    acceptance_number: int,
    accepted_at_tighter_aql: bool | None,
    reduced_allowed: bool,
) -> SwitchingState:
    results = (*state.recent_results, accepted)[-NORMAL_WINDOW:]
    if results.count(False) >= NOT_ACCEPTED_FOR_TIGHTENED:
        return SwitchingState(severity=Severity.TIGHTENED)
    score = switching_score_after(
        state.switching_score,
        accepted=accepted,
        acceptance_number=acceptance_number,
        accepted_at_tighter_aql=accepted_at_tighter_aql,
    )
    if score >= SWITCHING_SCORE_FOR_REDUCED and reduced_allowed:
        return SwitchingState(severity=Severity.REDUCED)
    return replace(
        state,
        recent_results=results,
        switching_score=score,
        consecutive_accepted=state.consecutive_accepted + 1 if accepted else 0,
    )


def _after_tightened_lot(state: SwitchingState, *, accepted: bool) -> SwitchingState:
    if accepted:
        if state.consecutive_accepted + 1 >= ACCEPTED_TO_LEAVE_TIGHTENED:
            return SwitchingState(severity=Severity.NORMAL)
        return replace(state, consecutive_accepted=state.consecutive_accepted + 1)
    not_accepted = state.tightened_rejected_count + 1
    return replace(
        state,
        consecutive_accepted=0,
        tightened_rejected_count=not_accepted,
        discontinued=not_accepted >= NOT_ACCEPTED_TO_DISCONTINUE,
    )


def _after_reduced_lot(state: SwitchingState, *, accepted: bool, stay: bool) -> SwitchingState:
    if not accepted or not stay:
        return SwitchingState(severity=Severity.NORMAL)
    return replace(state, consecutive_accepted=state.consecutive_accepted + 1)
