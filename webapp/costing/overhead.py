"""Manufacturing overhead (制造费用) and the firm's rule for allocating it to orders.

A small firm knows its overhead rate the way its accountant states it (预定分配率): so many yuan per
machine hour, per labour hour, or a percentage of direct cost (material + labour). A firm that
absorbs overhead by more than one basis gives each rule a share; the shares add up to 100 %, and an
order's overhead is the blend Σ share × rate × base. One rule at 100 % is the common case.

Hours of a work order: each report's minutes when the worker gave them, else the routing's standard
minutes per piece × the pieces reported (piece-rate workers seldom time themselves). Labour hours
count every operation; machine hours only operations done at a work centre.
"""
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..db_types import Fine, Percent
from ..extensions import db
from ..statemachine import N_

BASES = {"machine_hour": N_("Per machine hour"), "labour_hour": N_("Per labour hour"),
         "direct_cost": N_("Percentage of direct material and labour")}
ZERO = Decimal("0")
HUNDRED = Decimal("100")
FEN = Decimal("0.01")


class OverheadRule(db.Model):
    """One basis of the firm's overhead allocation: its rate and the share of overhead it carries."""

    id: Mapped[int] = mapped_column(primary_key=True)
    basis: Mapped[str] = mapped_column(String(20), unique=True)
    # Yuan per hour (machine_hour, labour_hour) or percent of direct cost (direct_cost).
    rate: Mapped[Decimal] = mapped_column(Fine)
    share: Mapped[Decimal] = mapped_column(Percent, default=HUNDRED)
    position: Mapped[int] = mapped_column(default=1)


@dataclass(frozen=True)
class Bases:
    """What overhead is allocated on, for one order or estimate."""

    machine_hours: Decimal = ZERO
    labour_hours: Decimal = ZERO
    direct_cost: Decimal = ZERO

    def of(self, basis: str) -> Decimal:
        """The base for one basis key."""
        return {"machine_hour": self.machine_hours, "labour_hour": self.labour_hours,
                "direct_cost": self.direct_cost}[basis]


def rules() -> list[OverheadRule]:
    """The firm's overhead rules, in the order it listed them."""
    return list(db.session.scalars(db.select(OverheadRule).order_by(OverheadRule.position, OverheadRule.id)))


def shares_problem(shares: list[Decimal]) -> str | None:
    """Why a set of rule shares cannot stand (English msgid), or None: each share above 0 and at most
    100 %, together exactly 100 %."""
    if any(s is None or s <= 0 or s > HUNDRED for s in shares):
        return N_("Each share must be more than 0 % and at most 100 %.")
    if shares and sum(shares, ZERO) != HUNDRED:
        return N_("The shares of the overhead rules must add up to 100 %.")
    return None


def allocate(bases: Bases, rule_list: list[OverheadRule] | None = None) -> Decimal:
    """The overhead for these bases under the firm's rules, to the fen (0 when the firm set none)."""
    total = ZERO
    for rule in rules() if rule_list is None else rule_list:
        rate = rule.rate / HUNDRED if rule.basis == "direct_cost" else rule.rate
        total += rule.share / HUNDRED * rate * bases.of(rule.basis)
    return total.quantize(FEN, rounding=ROUND_HALF_UP)


def estimate(machine_hours: Decimal, labour_hours: Decimal, direct_cost: Decimal) -> Decimal:
    """The overhead a quotation expects for these hours and direct cost."""
    return allocate(Bases(machine_hours, labour_hours, direct_cost))


def work_order_hours(work_order) -> tuple[Decimal, Decimal]:
    """(machine hours, labour hours) a work order's reports took (see the module's docstring)."""
    operations = {o.id: o for o in work_order.operations}
    machine = labour = ZERO
    for report in work_order.reports:
        operation = operations.get(report.operation_id)
        minutes = report.minutes or ZERO
        if not minutes and operation is not None:
            minutes = operation.minutes_per_piece * (report.good_qty + report.scrap_qty)
        labour += minutes
        if operation is not None and operation.work_centre_id is not None and not operation.outsourced:
            machine += minutes
    return machine / 60, labour / 60


def save_rules(rates: dict[str, tuple[Decimal | None, Decimal | None]]) -> list[OverheadRule]:
    """Replace the firm's rules by the bases given a rate and a share ({basis: (rate, share)}); raises
    ValueError with a msgid when the shares cannot stand (see shares_problem)."""
    used = {basis: pair for basis, pair in rates.items() if pair[0] is not None}
    problem = shares_problem([share for _rate, share in used.values()])
    if problem:
        raise ValueError(problem)
    existing = {rule.basis: rule for rule in rules()}
    for basis, rule in existing.items():
        if basis not in used:
            db.session.delete(rule)
    for position, basis in enumerate(BASES, start=1):
        if basis in used:
            rule = existing.get(basis) or OverheadRule(basis=basis)
            rule.rate, rule.share, rule.position = used[basis][0], used[basis][1], position
            db.session.add(rule)
    db.session.flush()
    return rules()
