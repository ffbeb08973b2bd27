"""How many pieces to inspect and how many defective ones a lot may have: ISO 2859-1, general
inspection level II, single sampling plans for normal inspection; or a fixed count; or every piece.

The tables below were checked against the published tables, not guessed:
- code letters (Table 1, "Sample size code letters", column general inspection level II) and the
  sample size of each letter, as ISO 2859-1 (= ANSI/ASQ Z1.4 = MIL-STD-105E Table I) prints them;
- acceptance / rejection numbers from Table 2-A "Single sampling plans for normal inspection
  (master table)" of ISO 2859-1 (MIL-STD-105E Table II-A), cross-checked against the level II, single,
  normal extract at http://www.nibs.org/FMOC/DPW_AC/AC-TABLE.ASC ("TABLE 1-A ... developed from
  MIL-STD-105E using TABLE I ... and TABLE II-A") for AQL 0.65 … 6.5 and letters A … Q.
An arrow in the table means "use the first sampling plan below (↓) / above (↑) the arrow": the plan
found there, with its own sample size, is used (its sample size, not the letter's); when that sample
size reaches the lot size every piece is inspected."""
import math
from dataclasses import dataclass
from decimal import Decimal

from ..statemachine import N_

# Lot size up to (inclusive) → code letter, general inspection level II.
CODE_LETTERS = ((8, "A"), (15, "B"), (25, "C"), (50, "D"), (90, "E"), (150, "F"), (280, "G"), (500, "H"),
                (1200, "J"), (3200, "K"), (10000, "L"), (35000, "M"), (150000, "N"), (500000, "P"))
LAST_LETTER = "Q"  # 500 001 and over
LETTERS = "ABCDEFGHJKLMNPQ"
SAMPLE_SIZES = {"A": 2, "B": 3, "C": 5, "D": 8, "E": 13, "F": 20, "G": 32, "H": 50, "J": 80, "K": 125,
                "L": 200, "M": 315, "N": 500, "P": 800, "Q": 1250}
AQLS = ("0.65", "1.0", "1.5", "2.5", "4.0", "6.5")

D, U = "↓", "↑"  # use the first plan below / above the arrow
# Table 2-A, normal inspection: the acceptance number Ac (Re = Ac + 1 in single sampling), by letter,
# in the order of AQLS.
TABLE_2A = {
    #     0.65 1.0 1.5 2.5 4.0 6.5
    "A": (D, D, D, D, D, 0),
    "B": (D, D, D, D, 0, U),
    "C": (D, D, D, 0, U, D),
    "D": (D, D, 0, U, D, 1),
    "E": (D, 0, U, D, 1, 2),
    "F": (0, U, D, 1, 2, 3),
    "G": (U, D, 1, 2, 3, 5),
    "H": (D, 1, 2, 3, 5, 7),
    "J": (1, 2, 3, 5, 7, 10),
    "K": (2, 3, 5, 7, 10, 14),
    "L": (3, 5, 7, 10, 14, 21),
    "M": (5, 7, 10, 14, 21, U),
    "N": (7, 10, 14, 21, U, U),
    "P": (10, 14, 21, U, U, U),
    "Q": (14, 21, U, U, U, U),
}
# The largest lot size (pieces) taken seriously: beyond it a number is a typing mistake.
MOST_PIECES = 100_000_000


class SamplingError(ValueError):
    """A lot size or plan that no sample can be drawn for (the message id says why)."""


@dataclass(frozen=True)
class Sample:
    """What to inspect: n pieces, accept with at most `accept` defective, reject at `reject`; how it
    was found (the rule, the code letter and the letter whose plan the arrows led to)."""

    size: int
    accept: int
    reject: int
    rule: str = "none"  # iso2859 / fixed / all / none
    letter: str = ""
    used_letter: str = ""
    aql: str = ""
    whole_lot: bool = False


def code_letter(lot_size: int) -> str:
    """The sample size code letter for lot_size at general inspection level II."""
    if lot_size < 2:
        raise SamplingError(N_("A lot to sample has at least 2 pieces."))
    for upper, letter in CODE_LETTERS:
        if lot_size <= upper:
            return letter
    return LAST_LETTER


def iso2859(lot_size: int, aql: str) -> Sample:
    """The single sampling plan for normal inspection at aql for a lot of lot_size pieces."""
    aql = normal_aql(aql)
    column = AQLS.index(aql)
    letter = code_letter(lot_size)
    row = LETTERS.index(letter)
    cell = TABLE_2A[letter][column]
    while cell in (D, U):  # follow the arrow to the first plan in its direction
        row += 1 if cell == D else -1
        cell = TABLE_2A[LETTERS[row]][column]
    used = LETTERS[row]
    size = SAMPLE_SIZES[used]
    if size >= lot_size:  # the sample would be the whole lot: inspect every piece, same Ac/Re
        return Sample(lot_size, cell, cell + 1, "iso2859", letter, used, aql, whole_lot=True)
    return Sample(size, cell, cell + 1, "iso2859", letter, used, aql)


def normal_aql(aql) -> str:
    """aql as one of AQLS ("1" and "1.00" are "1.0"), or SamplingError."""
    try:
        value = Decimal(str(aql).strip())
    except ArithmeticError:
        raise SamplingError(N_("Choose an AQL the table has.")) from None
    for known in AQLS:
        if value.is_finite() and value == Decimal(known):
            return known
    raise SamplingError(N_("Choose an AQL the table has."))


def pieces(lot_size) -> int:
    """A lot size as a whole number of pieces (a part piece counts as one), or SamplingError."""
    try:
        value = Decimal(str(lot_size))
    except ArithmeticError:
        raise SamplingError(N_("The lot size is not a number.")) from None
    if not value.is_finite() or value <= 0:
        raise SamplingError(N_("The lot size must be above zero."))
    if value > MOST_PIECES:
        raise SamplingError(N_("This lot size is not possible."))
    return int(math.ceil(value))


def plan_sample(plan, lot_size) -> tuple[int, int, int]:
    """(sample size, accept number, reject number) for plan (an InspectionPlan, or None: no plan,
    one piece checked, accepted with no defect) on a lot of lot_size pieces."""
    found = sample_for(plan, lot_size)
    return found.size, found.accept, found.reject


def sample_for(plan, lot_size) -> Sample:
    """The whole Sample (with how it was found) for plan on a lot of lot_size pieces."""
    size = pieces(lot_size)
    if plan is None:
        return Sample(min(1, size), 0, 1, "none")
    if plan.sampling == "all":
        return Sample(size, 0, 1, "all", whole_lot=True)
    if plan.sampling == "fixed":
        count = plan.fixed_count or 0
        if count < 1 or count > MOST_PIECES:
            raise SamplingError(N_("A fixed sample has at least one piece."))
        return Sample(min(count, size), 0, 1, "fixed", whole_lot=count >= size)
    if plan.sampling == "iso2859":
        if size < 2:
            return Sample(size, 0, 1, "iso2859", aql=normal_aql(plan.aql), whole_lot=True)
        return iso2859(size, plan.aql)
    raise SamplingError(N_("Unknown sampling rule."))
