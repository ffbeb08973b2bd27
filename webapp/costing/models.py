"""The cost sheet (成本核算表): budget and actual per category, variance and its cause."""
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import Money, UTCDateTime
from ..extensions import db
from ..statemachine import N_
from ..wallclock import utcnow

# The cause codes every firm starts with (key: English msgid); the firm renames, hides or adds to them.
BUILTIN_CAUSES = {
    "price_increase": N_("Price increase"), "rework": N_("Rework"), "scrap": N_("Scrap"),
    "delay_overtime": N_("Delay overtime"), "expedited_freight": N_("Expedited freight"),
    "quantity_change": N_("Quantity change"), "estimating_error": N_("Estimating error"), "other": N_("Other"),
}
# Where a line's actual comes from: the app's records, or finance's typing (what the app cannot know).
SOURCES = ("derived", "manual")


def variance_rate(variance: Decimal | None, budget: Decimal | None) -> Decimal | None:
    """variance / budget as a fraction (0.125 is 12.5 %), rounded half up to 0.01 %; None without
    a budget to compare."""
    if variance is None or not budget:
        return None
    return (variance / budget).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


class CostSheet(db.Model):
    """One per order: finance's actual costs against the approved budget, finalised once."""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # The KPI dashboard reads the sheets finalised in its periods.
    finalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    finalised_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    order = relationship("Order")
    updated_by = relationship("User", foreign_keys=[updated_by_id])
    finalised_by = relationship("User", foreign_keys=[finalised_by_id])
    lines: Mapped[list["CostLine"]] = relationship(
        back_populates="sheet", order_by="CostLine.position", cascade="all, delete-orphan")

    @property
    def is_final(self) -> bool:
        """Finance has finalised it; it no longer changes."""
        return self.finalised_at is not None

    @property
    def complete(self) -> bool:
        """Every category has its actual cost."""
        return bool(self.lines) and all(line.actual is not None for line in self.lines)

    @property
    def budget_total(self) -> Decimal:
        """The budget of all categories."""
        return sum((line.budget for line in self.lines), Decimal("0"))

    @property
    def actual_total(self) -> Decimal | None:
        """The actual cost of all categories, once every one is entered."""
        if not self.complete:
            return None
        return sum((line.actual for line in self.lines), Decimal("0"))

    @property
    def variance(self) -> Decimal | None:
        """Actual less budget in total."""
        actual = self.actual_total
        return None if actual is None else actual - self.budget_total

    @property
    def variance_rate(self) -> Decimal | None:
        """The total variance as a fraction of the total budget."""
        return variance_rate(self.variance, self.budget_total)


class CostLine(db.Model):
    """One category of the cost sheet: material, labour, overhead, logistics, after-sales."""

    __table_args__ = (UniqueConstraint("cost_sheet_id", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cost_sheet_id: Mapped[int] = mapped_column(ForeignKey("cost_sheet.id"), index=True)
    position: Mapped[int] = mapped_column(default=1)
    category: Mapped[str] = mapped_column(String(20))
    budget: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    actual: Mapped[Decimal | None] = mapped_column(Money)
    cause: Mapped[str] = mapped_column(Text, default="")  # a note on the variance beside its cause codes
    source: Mapped[str] = mapped_column(String(10), default="manual", server_default="manual")
    # Who typed a manual actual, and when (a derived actual is the records'; its drill-down shows them).
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sheet: Mapped[CostSheet] = relationship(back_populates="lines")
    entered_by = relationship("User")
    causes: Mapped[list["CostLineCause"]] = relationship(
        back_populates="line", order_by="CostLineCause.id", cascade="all, delete-orphan")

    @property
    def explained(self) -> Decimal:
        """The part of the variance its cause codes explain."""
        return sum((c.amount for c in self.causes), Decimal("0"))

    @property
    def variance(self) -> Decimal | None:
        """Actual less budget (positive: over budget)."""
        return None if self.actual is None else self.actual - self.budget

    @property
    def variance_rate(self) -> Decimal | None:
        """The variance as a fraction of the budget (None when the budget is 0)."""
        return variance_rate(self.variance, self.budget)


class CostCause(db.Model):
    """A cause code for a cost variance (涨价, 返工, 报废 …): the built-in ones by key, the firm's own by
    name; a hidden cause stays on the lines that use it but is not offered any more."""

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str | None] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=100)

    @property
    def label(self) -> str:
        """The name in the reader's language: the firm's own name, else the built-in one translated."""
        if self.name:
            return self.name
        return gettext(BUILTIN_CAUSES[self.key]) if self.key in BUILTIN_CAUSES else (self.key or "")


class CostLineCause(db.Model):
    """One cause of a cost line's variance: which, how much of the variance it explains, a note."""

    __table_args__ = (UniqueConstraint("cost_line_id", "cause_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cost_line_id: Mapped[int] = mapped_column(ForeignKey("cost_line.id"), index=True)
    cause_id: Mapped[int] = mapped_column(ForeignKey("cost_cause.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    note: Mapped[str] = mapped_column(Text, default="")

    line: Mapped[CostLine] = relationship(back_populates="causes")
    cause: Mapped[CostCause] = relationship(lazy="joined")


def ensure_builtin_causes() -> None:
    """The built-in cause codes exist (the migration makes them in a real install; tests and a
    database made from the models call this)."""
    have = set(db.session.scalars(db.select(CostCause.key).where(CostCause.key.is_not(None))))
    for position, key in enumerate(BUILTIN_CAUSES, start=1):
        if key not in have:
            db.session.add(CostCause(key=key, position=position * 10))
    db.session.flush()
