"""Acceptance sampling by attributes, single sampling, after ISO 2859-1.

Edition: the data follow ISO 2859-1:1999 (second edition, "Sampling schemes indexed by
acceptance quality limit (AQL) for lot-by-lot inspection"), as adopted identically by
GB/T 2828.1-2012: Table 1 (sample size code letters) and the single sampling master tables 2-A
(normal), 2-B (tightened) and 2-C (reduced), with the switching rules of clause 9.3 including
the switching score.

Relation to MIL-STD-105E and ANSI/ASQ Z1.4: Table 1 and the normal table are the same. The
tightened table is the same except one cell (code letter A at AQL 10, an Ac 0 plan with n = 2 in
ISO 2859-1:1999, an arrow down to letter D in MIL-STD-105E). The reduced table is the one the 1999
edition introduced, with Re = Ac + 1 throughout (acceptance numbers 0, 1, 2, 3, 5, 6, 8, 10, ...),
and differs from the gapped reduced plans of MIL-STD-105E (for instance letter L at AQL 1.0 is
n = 80, Ac 3, Re 4 here and n = 80, Ac 2, Re 5 there).

AQLs of 15 and above are meant for nonconformities per 100 items only; this module does not
police that, since the unit of the count is the caller's.
"""

from quality.sampling.plans import (
    SamplingPlan,
    code_letter,
    normalise_aql,
    plan_for_code_letter,
    sampling_plan,
    tighter_acceptance_number,
)
from quality.sampling.switching import (
    InspectionDiscontinued,
    SwitchingState,
    next_switching_state,
    record_lot_result,
    resume_inspection,
    switching_score_after,
)
from quality.sampling.tables import AQL_VALUES, INSPECTION_LEVELS, Severity

__all__ = [
    "AQL_VALUES",
    "INSPECTION_LEVELS",
    "InspectionDiscontinued",
    "SamplingPlan",
    "Severity",
    "SwitchingState",
    "code_letter",
    "next_switching_state",
    "normalise_aql",
    "plan_for_code_letter",
    "record_lot_result",
    "resume_inspection",
    "sampling_plan",
    "switching_score_after",
    "tighter_acceptance_number",
]
