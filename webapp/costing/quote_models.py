"""The quotation (报价): lines from the catalogue, the cost estimate per category (computed from the
BOM, the routing and the rates, or typed with a note), the margin, and the order it became."""
import json
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import Money, Percent, Quantity, UTCDateTime, money
from ..extensions import db
from ..wallclock import utcnow


class Quote(db.Model):
    """A quotation for one customer: QT-yyyy-nnnn, its lines and estimate; accepted, it becomes an order."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    requirement_id: Mapped[int | None] = mapped_column(ForeignKey("requirement.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    tax_rate: Mapped[Decimal] = mapped_column(Percent, default=Decimal("13"))
    valid_until: Mapped[date | None] = mapped_column(index=True)
    # Gross margin on the price without tax, in percent: a line without a typed price is priced from it.
    target_margin: Mapped[Decimal | None] = mapped_column(Percent)
    notes: Mapped[str] = mapped_column(Text, default="")
    sales_rep_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    estimated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decision_note: Mapped[str] = mapped_column(Text, default="")
    # The order an accepted quotation became (unique: one order per quotation, however often accepted).
    order_id: Mapped[int | None] = mapped_column(ForeignKey("order.id"), unique=True)

    customer = relationship("Customer")
    requirement = relationship("Requirement")
    sales_rep = relationship("User", foreign_keys=[sales_rep_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    order = relationship("Order")
    lines: Mapped[list["QuoteLine"]] = relationship(back_populates="quote", order_by="QuoteLine.position",
                                                    cascade="all, delete-orphan")
    costs: Mapped[list["QuoteCost"]] = relationship(back_populates="quote", order_by="QuoteCost.position",
                                                    cascade="all, delete-orphan")

    @property
    def cost_by(self) -> dict[str, "QuoteCost"]:
        """The estimate's categories by key."""
        return {c.category: c for c in self.costs}

    @property
    def cost_total(self) -> Decimal | None:
        """The whole estimated cost, or None while a category is still unknown."""
        values = [c.value for c in self.costs]
        if not values or any(v is None for v in values):
            return None
        return sum(values, Decimal("0"))

    @property
    def total_excl(self) -> Decimal | None:
        """The price of all lines without tax (None while a line has no price)."""
        amounts = [line.amount for line in self.lines]
        if not amounts or any(a is None for a in amounts):
            return None
        return sum(amounts, Decimal("0"))

    @property
    def total_incl(self) -> Decimal | None:
        """The price of all lines with tax."""
        amounts = [line.amount_incl for line in self.lines]
        if not amounts or any(a is None for a in amounts):
            return None
        return sum(amounts, Decimal("0"))

    @property
    def margin(self) -> Decimal | None:
        """Revenue without tax less the estimated cost."""
        if self.total_excl is None or self.cost_total is None:
            return None
        return self.total_excl - self.cost_total

    @property
    def margin_rate(self) -> Decimal | None:
        """The margin as a fraction of the revenue without tax (0.25 is 25 %)."""
        if self.margin is None or not self.total_excl:
            return None
        return (self.margin / self.total_excl).quantize(Decimal("0.0001"))


class QuoteLine(db.Model):
    """A product of the catalogue, its quantity and the unit price offered (without tax)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quote.id"), index=True)
    position: Mapped[int] = mapped_column(default=1)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    description: Mapped[str] = mapped_column(String(200), default="")
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[str] = mapped_column(String(20), default="pcs")
    # Typed by sales; None: priced from the target margin.
    typed_price: Mapped[Decimal | None] = mapped_column(Money)
    # The estimated cost of one unit (the line's share of the estimate) and the price offered.
    unit_cost: Mapped[Decimal | None] = mapped_column(Money)
    unit_price: Mapped[Decimal | None] = mapped_column(Money)

    quote: Mapped[Quote] = relationship(back_populates="lines")
    product = relationship("Product")

    @property
    def unit_price_incl(self) -> Decimal | None:
        """The unit price with the quotation's tax."""
        if self.unit_price is None:
            return None
        return money(self.unit_price * (1 + Decimal(self.quote.tax_rate) / 100))

    @property
    def amount(self) -> Decimal | None:
        """Line amount without tax."""
        return None if self.unit_price is None else money(self.quantity * self.unit_price)

    @property
    def amount_incl(self) -> Decimal | None:
        """Line amount with tax."""
        return None if self.unit_price_incl is None else money(self.quantity * self.unit_price_incl)


class QuoteCost(db.Model):
    """One category of the estimate: what the app computed (and from what), what it could not find,
    and what the user typed instead with a note."""

    __table_args__ = (UniqueConstraint("quote_id", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quote.id"), index=True)
    position: Mapped[int] = mapped_column(default=1)
    category: Mapped[str] = mapped_column(String(20))
    computed: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    # JSON: [[message id, {params}], ...] what the computation lacked (a rate, a cost, a BOM...).
    missing_json: Mapped[str] = mapped_column(Text, default="[]")
    # JSON: the rows the number came from, shown on the page.
    detail_json: Mapped[str] = mapped_column(Text, default="[]")
    typed: Mapped[Decimal | None] = mapped_column(Money)
    note: Mapped[str] = mapped_column(String(500), default="")

    quote: Mapped[Quote] = relationship(back_populates="costs")

    @property
    def missing(self) -> list:
        """What the computation lacked: [(message id, params)]."""
        return [(m, p) for m, p in json.loads(self.missing_json or "[]")]

    @property
    def detail(self) -> list[dict]:
        """Where the computed number came from, row by row."""
        return json.loads(self.detail_json or "[]")

    @property
    def is_typed(self) -> bool:
        """The user typed this category's value."""
        return self.typed is not None

    @property
    def value(self) -> Decimal | None:
        """What counts: the typed value, else the computed one when nothing was missing."""
        if self.typed is not None:
            return self.typed
        return None if self.missing else self.computed
