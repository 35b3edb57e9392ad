"""Sample size code letters and single sampling plans (ISO 2859-1:1999, clauses 10 and 11)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from quality.sampling.tables import (
    AQL_VALUES,
    ARROW_DOWN,
    ARROW_UP,
    BLANK,
    INSPECTION_LEVELS,
    LOT_SIZE_RANGES,
    SAMPLE_SIZES,
    Severity,
    table_cells,
)

AqlInput = Decimal | str | float | int


@dataclass(frozen=True)
class SamplingPlan:
    """A single sampling plan: inspect ``sample_size`` items, accept with at most Ac nonconforming.

    ``code_letter`` is the row whose plan is used, after following any arrow of the master table;
    ``initial_code_letter`` is the letter Table 1 gave for the lot. When the plan's sample size
    reaches the lot size, every item is inspected (``full_inspection``) and ``sample_size`` is the
    lot size, while Ac and Re stay those of the plan.
    """

    code_letter: str
    sample_size: int
    acceptance_number: int
    rejection_number: int
    severity: Severity
    aql: Decimal | None = None
    initial_code_letter: str | None = None
    full_inspection: bool = False

    def accepts(self, nonconforming: int) -> bool:
        """Whether a sample with ``nonconforming`` items (or nonconformities) accepts the lot."""
        if nonconforming < 0:
            raise ValueError("the count of nonconforming items cannot be negative")
        return nonconforming <= self.acceptance_number


def normalise_inspection_level(inspection_level: str) -> str:
    level = inspection_level.strip().upper()
    if level in INSPECTION_LEVELS:
        return level
    raise ValueError(f"inspection level {inspection_level!r} is not one of {', '.join(INSPECTION_LEVELS)}")


def normalise_aql(aql: AqlInput) -> Decimal:
    """The preferred AQL value equal to ``aql`` (``"1"``, ``1.0`` and ``Decimal("1.0")`` are all 1.0)."""
    if isinstance(aql, bool):
        raise TypeError("an AQL is a number, not a boolean")
    try:
        value = Decimal(repr(aql)) if isinstance(aql, float) else Decimal(str(aql).strip())
    except InvalidOperation as error:
        raise ValueError(f"AQL {aql!r} is not a number") from error
    for preferred in AQL_VALUES:
        if preferred == value:
            return preferred
    raise ValueError(f"AQL {aql!r} is not one of the preferred AQL values of ISO 2859-1")


def code_letter(*, lot_size: int, inspection_level: str) -> str:
    """Table 1: the sample size code letter for a lot size and inspection level.

    A lot of a single item falls in the first range (2 to 8): any plan then covers the whole lot.
    """
    if isinstance(lot_size, bool) or not isinstance(lot_size, int):
        raise TypeError("lot size must be an integer")
    if lot_size < 1:
        raise ValueError("lot size must be at least 1")
    column = INSPECTION_LEVELS.index(normalise_inspection_level(inspection_level))
    for _low, high, letters in LOT_SIZE_RANGES:
        if high is None or lot_size <= high:
            return letters[column]
    raise AssertionError("the last lot size range is open-ended")


def _resolve_cell(severity: Severity, letter: str, column: int) -> tuple[str, int]:
    """Follow arrows from ``(letter, column)`` to the cell holding a plan: (row letter, Ac)."""
    cells = table_cells(severity)
    letters = list(cells)
    if letter not in cells:
        raise ValueError(f"code letter {letter!r} has no row in the {severity} table")
    row = letters.index(letter)
    while True:
        token = cells[letters[row]][column]
        if token == ARROW_DOWN:
            row += 1
        elif token == ARROW_UP:
            row -= 1
        elif token == BLANK:
            raise ValueError(f"the {severity} table has no plan for code letter {letter} at this AQL")
        else:
            return letters[row], int(token)
        if not 0 <= row < len(letters):
            raise AssertionError(f"an arrow of the {severity} table points off the table")


def plan_for_code_letter(
    *, code_letter: str, aql: AqlInput, severity: Severity | str = Severity.NORMAL
) -> SamplingPlan:
    """The master-table plan for a code letter and AQL, arrows followed (no lot size cap)."""
    severity = Severity(severity)
    preferred = normalise_aql(aql)
    letter, acceptance = _resolve_cell(severity, code_letter.strip().upper(), AQL_VALUES.index(preferred))
    return SamplingPlan(
        code_letter=letter,
        sample_size=SAMPLE_SIZES[severity][letter],
        acceptance_number=acceptance,
        rejection_number=acceptance + 1,
        severity=severity,
        aql=preferred,
        initial_code_letter=code_letter.strip().upper(),
    )


def sampling_plan(
    *,
    lot_size: int,
    inspection_level: str = "II",
    aql: AqlInput,
    severity: Severity | str = Severity.NORMAL,
) -> SamplingPlan:
    """Single sampling plan for a lot: Table 1, then Table 2-A, 2-B or 2-C by severity.

    If the sample size equals or exceeds the lot size, the whole lot is inspected: the returned
    sample size is the lot size and ``full_inspection`` is set; Ac and Re are the plan's.
    """
    letter = code_letter(lot_size=lot_size, inspection_level=inspection_level)
    plan = plan_for_code_letter(code_letter=letter, aql=aql, severity=severity)
    if plan.sample_size < lot_size:
        return plan
    return SamplingPlan(
        code_letter=plan.code_letter,
        sample_size=lot_size,
        acceptance_number=plan.acceptance_number,
        rejection_number=plan.rejection_number,
        severity=plan.severity,
        aql=plan.aql,
        initial_code_letter=plan.initial_code_letter,
        full_inspection=True,
    )


def tighter_acceptance_number(*, code_letter: str, aql: AqlInput) -> int | None:
    """Ac of the normal plan one AQL step tighter, in the same code-letter row (clause 9.3.3.2).

    ``code_letter`` is the row of the plan actually used. None when the AQL is already the
    tightest, or when the tighter plan has another sample size (the lot cannot be judged by it).
    """
    preferred = normalise_aql(aql)
    column = AQL_VALUES.index(preferred)
    if column == 0:
        return None
    letter = code_letter.strip().upper()
    tighter_letter, acceptance = _resolve_cell(Severity.NORMAL, letter, column - 1)
    if SAMPLE_SIZES[Severity.NORMAL][tighter_letter] != SAMPLE_SIZES[Severity.NORMAL].get(letter):
        return None
    return acceptance
