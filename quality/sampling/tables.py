"""ISO 2859-1:1999 tables as data: Table 1 (code letters) and Tables 2-A, 2-B, 2-C (single sampling).

Each master-table row lists the 26 AQL columns of the standard, from 0.010 to 1000, one token per
cell:

* an integer is the acceptance number Ac of the plan in that cell; in the 1999 edition every
  single sampling plan of Tables 2-A, 2-B and 2-C has Re = Ac + 1;
* ``v`` is the arrow "use the first sampling plan below the arrow";
* ``^`` is the arrow "use the first sampling plan above the arrow";
* ``-`` is a blank cell (the extra code letter S of Table 2-B carries a plan for AQL 0.025 only).

The sample size belongs to the row: following an arrow changes the sample size too. Where a cell
of the printed table holds an arrow that points off the table (Table 2-A, letter A, AQL 10), the
row lists the direction that reaches a plan.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from functools import cache


class Severity(StrEnum):
    NORMAL = "normal"
    TIGHTENED = "tightened"
    REDUCED = "reduced"


INSPECTION_LEVELS: tuple[str, ...] = ("S-1", "S-2", "S-3", "S-4", "I", "II", "III")

# Table 1 — sample size code letters. Each row: lowest lot size, highest lot size (None: and over),
# then the letters for the levels in the order of INSPECTION_LEVELS.
LOT_SIZE_RANGES: tuple[tuple[int, int | None, str], ...] = (
    (2, 8, "AAAAAAB"),
    (9, 15, "AAAAABC"),
    (16, 25, "AABBBCD"),
    (26, 50, "ABBCCDE"),
    (51, 90, "BBCCCEF"),
    (91, 150, "BBCDDFG"),
    (151, 280, "BCDEEGH"),
    (281, 500, "BCDEFHJ"),
    (501, 1200, "CCEFGJK"),
    (1201, 3200, "CDEGHKL"),
    (3201, 10000, "CDFGJLM"),
    (10001, 35000, "CDFHKMN"),
    (35001, 150000, "DEGJLNP"),
    (150001, 500000, "DEGJMPQ"),
    (500001, None, "DEHKNQR"),
)

AQL_VALUES: tuple[Decimal, ...] = tuple(
    Decimal(value)
    for value in (
        "0.010 0.015 0.025 0.040 0.065 0.10 0.15 0.25 0.40 0.65 1.0 1.5 2.5 4.0 6.5 "
        "10 15 25 40 65 100 150 250 400 650 1000"
    ).split()
)

_NORMAL_SIZES = {
    "A": 2, "B": 3, "C": 5, "D": 8, "E": 13, "F": 20, "G": 32, "H": 50,
    "J": 80, "K": 125, "L": 200, "M": 315, "N": 500, "P": 800, "Q": 1250, "R": 2000,
}  # fmt: skip

SAMPLE_SIZES: dict[Severity, dict[str, int]] = {
    Severity.NORMAL: _NORMAL_SIZES,
    Severity.TIGHTENED: {**_NORMAL_SIZES, "S": 3150},
    Severity.REDUCED: {
        "A": 2, "B": 2, "C": 2, "D": 3, "E": 5, "F": 8, "G": 13, "H": 20,
        "J": 32, "K": 50, "L": 80, "M": 125, "N": 200, "P": 315, "Q": 500, "R": 800,
    },
}  # fmt: skip

#                 AQL: .010 .015 .025 .040 .065 .10 .15 .25 .40 .65 1.0 1.5 2.5 4.0 6.5 10 15 25 40
#                      65 100 150 250 400 650 1000
MASTER_TABLES: dict[Severity, dict[str, str]] = {
    # Table 2-A — single sampling plans for normal inspection.
    Severity.NORMAL: {
        "A": "v v v v v v v v v v v v v v 0 v v 1 2 3 5 7 10 14 21 30",
        "B": "v v v v v v v v v v v v v 0 ^ v 1 2 3 5 7 10 14 21 30 44",
        "C": "v v v v v v v v v v v v 0 ^ v 1 2 3 5 7 10 14 21 30 44 ^",
        "D": "v v v v v v v v v v v 0 ^ v 1 2 3 5 7 10 14 21 30 44 ^ ^",
        "E": "v v v v v v v v v v 0 ^ v 1 2 3 5 7 10 14 21 30 44 ^ ^ ^",
        "F": "v v v v v v v v v 0 ^ v 1 2 3 5 7 10 14 21 ^ ^ ^ ^ ^ ^",
        "G": "v v v v v v v v 0 ^ v 1 2 3 5 7 10 14 21 ^ ^ ^ ^ ^ ^ ^",
        "H": "v v v v v v v 0 ^ v 1 2 3 5 7 10 14 21 ^ ^ ^ ^ ^ ^ ^ ^",
        "J": "v v v v v v 0 ^ v 1 2 3 5 7 10 14 21 ^ ^ ^ ^ ^ ^ ^ ^ ^",
        "K": "v v v v v 0 ^ v 1 2 3 5 7 10 14 21 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
        "L": "v v v v 0 ^ v 1 2 3 5 7 10 14 21 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
        "M": "v v v 0 ^ v 1 2 3 5 7 10 14 21 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
        "N": "v v 0 ^ v 1 2 3 5 7 10 14 21 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
        "P": "v 0 ^ v 1 2 3 5 7 10 14 21 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
        "Q": "0 ^ v 1 2 3 5 7 10 14 21 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
        "R": "^ ^ 1 2 3 5 7 10 14 21 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
    },
    # Table 2-B — single sampling plans for tightened inspection.
    Severity.TIGHTENED: {
        "A": "v v v v v v v v v v v v v v v 0 v v 1 2 3 5 8 12 18 27",
        "B": "v v v v v v v v v v v v v v 0 v v 1 2 3 5 8 12 18 27 41",
        "C": "v v v v v v v v v v v v v 0 v v 1 2 3 5 8 12 18 27 41 ^",
        "D": "v v v v v v v v v v v v 0 v v 1 2 3 5 8 12 18 27 41 ^ ^",
        "E": "v v v v v v v v v v v 0 v v 1 2 3 5 8 12 18 27 41 ^ ^ ^",
        "F": "v v v v v v v v v v 0 v v 1 2 3 5 8 12 18 ^ ^ ^ ^ ^ ^",
        "G": "v v v v v v v v v 0 v v 1 2 3 5 8 12 18 ^ ^ ^ ^ ^ ^ ^",
        "H": "v v v v v v v v 0 v v 1 2 3 5 8 12 18 ^ ^ ^ ^ ^ ^ ^ ^",
        "J": "v v v v v v v 0 v v 1 2 3 5 8 12 18 ^ ^ ^ ^ ^ ^ ^ ^ ^",
        "K": "v v v v v v 0 v v 1 2 3 5 8 12 18 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
        "L": "v v v v v 0 v v 1 2 3 5 8 12 18 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
        "M": "v v v v 0 v v 1 2 3 5 8 12 18 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
        "N": "v v v 0 v v 1 2 3 5 8 12 18 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
        "P": "v v 0 v v 1 2 3 5 8 12 18 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
        "Q": "v 0 v v 1 2 3 5 8 12 18 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
        "R": "0 ^ v 1 2 3 5 8 12 18 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
        "S": "- - 1 - - - - - - - - - - - - - - - - - - - - - - -",
    },
    # Table 2-C — single sampling plans for reduced inspection (no gap between Ac and Re).
    Severity.REDUCED: {
        "A": "v v v v v v v v v v v v v v 0 v v 1 2 3 5 7 10 14 21 30",
        "B": "v v v v v v v v v v v v v 0 ^ v v 1 2 3 5 7 10 14 21 30",
        "C": "v v v v v v v v v v v v 0 ^ v v 1 2 3 5 6 8 10 14 21 ^",
        "D": "v v v v v v v v v v v 0 ^ v v 1 2 3 5 6 8 10 14 21 ^ ^",
        "E": "v v v v v v v v v v 0 ^ v v 1 2 3 5 6 8 10 14 21 ^ ^ ^",
        "F": "v v v v v v v v v 0 ^ v v 1 2 3 5 6 8 10 ^ ^ ^ ^ ^ ^",
        "G": "v v v v v v v v 0 ^ v v 1 2 3 5 6 8 10 ^ ^ ^ ^ ^ ^ ^",
        "H": "v v v v v v v 0 ^ v v 1 2 3 5 6 8 10 ^ ^ ^ ^ ^ ^ ^ ^",
        "J": "v v v v v v 0 ^ v v 1 2 3 5 6 8 10 ^ ^ ^ ^ ^ ^ ^ ^ ^",
        "K": "v v v v v 0 ^ v v 1 2 3 5 6 8 10 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
        "L": "v v v v 0 ^ v v 1 2 3 5 6 8 10 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
        "M": "v v v 0 ^ v v 1 2 3 5 6 8 10 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
        "N": "v v 0 ^ v v 1 2 3 5 6 8 10 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
        "P": "v 0 ^ v v 1 2 3 5 6 8 10 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
        "Q": "0 ^ ^ v 1 2 3 5 6 8 10 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
        "R": "^ ^ ^ 1 2 3 5 6 8 10 ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^ ^",
    },
}

ARROW_DOWN = "v"
ARROW_UP = "^"
BLANK = "-"


@cache
def table_cells(severity: Severity) -> dict[str, tuple[str, ...]]:
    """The master table of ``severity`` split into cells, rows in code-letter order."""
    cells = {letter: tuple(row.split()) for letter, row in MASTER_TABLES[severity].items()}
    for letter, row in cells.items():
        if len(row) != len(AQL_VALUES):
            raise AssertionError(f"{severity} row {letter} has {len(row)} cells, not {len(AQL_VALUES)}")
    return cells
