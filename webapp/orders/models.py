"""Orders, their lines, reviews, approvals, countersignatures, versions, amendments and payments."""
import json
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..db_types import Fine, Money, Percent, Quantity, UTCDateTime, money
from ..extensions import db
from .. import registry
from . import lifecycle
from ..wallclock import utcnow

BUDGET_CATEGORIES = ("material", "labour", "overhead", "logistics", "aftersales")
DELIVERY_METHODS = ("pickup", "delivery")
# What kind of order it is: made to order (the six stages), a service project (deliverables and the
# customer's acceptance instead of production and parcels), or a retail sale of stock items.
KINDS = ("manufacturing", "project", "retail")
# Statuses in which the order's terms may be edited.


class Order(db.Model):
    """A customer order: its terms, its path through review and approval, and its number."""

    # My work asks for the longest untouched orders of a status, the order list pages through a
    # status newest first, and the weekly load sums the active orders due in a few weeks.
    __table_args__ = (Index("ix_order_status_updated_at", "status", "updated_at"),
                      Index("ix_order_status_created_at", "status", "created_at"),
                      Index("ix_order_status_delivery_date", "status", "delivery_date"),
                      # search: a customer's newest orders, and numbers by prefix (main/views.py)
                      Index("ix_order_customer_id_created_at", "customer_id", "created_at", "id"),
                      Index("ix_order_lower_number", func.lower(text("number"))),
                      Index("ix_order_lower_customer_po", func.lower(text("customer_po"))))

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    requirement_id: Mapped[int | None] = mapped_column(ForeignKey("requirement.id"), index=True)
    customer_po: Mapped[str] = mapped_column(String(60), default="", index=True)
    kind: Mapped[str] = mapped_column(String(15), default="manufacturing", server_default="manufacturing")
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    tax_rate: Mapped[Decimal] = mapped_column(Percent, default=Decimal("13"))
    prepayment_pct: Mapped[Decimal] = mapped_column(Percent, default=Decimal("0"))
    credit_days: Mapped[int] = mapped_column(default=0)
    credit_basis: Mapped[str] = mapped_column(String(10), default="net", server_default="net")
    # Units of the firm's currency per unit of the order's, fixed when the order is made: balances,
    # the cost sheet and the KPIs are in the firm's currency.
    exchange_rate: Mapped[Decimal] = mapped_column(Fine, default=Decimal("1"), server_default="1000000")
    delivery_date: Mapped[date | None] = mapped_column(index=True)
    delivery_place: Mapped[str] = mapped_column(Text, default="")
    delivery_method: Mapped[str] = mapped_column(String(10), default="delivery")
    breach_liability: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    budget_material: Mapped[Decimal | None] = mapped_column(Money)
    budget_labour: Mapped[Decimal | None] = mapped_column(Money)
    budget_overhead: Mapped[Decimal | None] = mapped_column(Money)
    budget_logistics: Mapped[Decimal | None] = mapped_column(Money)
    budget_aftersales: Mapped[Decimal | None] = mapped_column(Money)
    total_excl: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    total_tax: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    status: Mapped[str] = mapped_column(String(30), default="draft", index=True)
    # The status an amended order goes back to once re-approved and re-signed.
    resume_status: Mapped[str | None] = mapped_column(String(30))
    hold_from: Mapped[str | None] = mapped_column(String(30))
    # The firm's settings in force when the order entered review (JSON).
    settings_snapshot: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    signed_version: Mapped[int | None] = mapped_column()
    review_round: Mapped[int] = mapped_column(default=1)
    prepayment_override: Mapped[str | None] = mapped_column(Text)
    # The manager's reason for closing with a return case, a ticket or money still open.
    close_override: Mapped[str | None] = mapped_column(Text)
    sales_rep_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    effective_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer = relationship("Customer")
    requirement = relationship("Requirement")
    sales_rep = relationship("User")
    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", order_by="OrderLine.position", cascade="all, delete-orphan")
    reviews: Mapped[list["FeasibilityReview"]] = relationship(
        back_populates="order", order_by="FeasibilityReview.id")
    approvals: Mapped[list["Approval"]] = relationship(
        back_populates="order", order_by="Approval.id")
    payments: Mapped[list["Payment"]] = relationship(
        back_populates="order", order_by="Payment.id")
    work_orders = relationship("WorkOrder", back_populates="order", order_by="WorkOrder.id")
    shipments = relationship("Shipment", back_populates="order", order_by="Shipment.id")
    # A revised expected date, set from an anomaly with its reason (the customer is told).
    revised_date: Mapped[date | None] = mapped_column()

    @validates("status")
    def _stamp_effective(self, _key: str, status: str) -> str:
        """The first time an order becomes effective it is stamped, whichever way it got there: a
        countersignature, an approval with no countersignature to wait for, a retail sale entered
        effective (these kept effective_at empty)."""
        if status == "effective" and self.effective_at is None:
            self.effective_at = utcnow()
        return status

    def fulfilment(self) -> dict[int, dict[str, Decimal]]:
        """Per order line: ordered, dispatched, delivered (signed for in good order) and outstanding."""
        out = {line.id: {"ordered": line.quantity, "dispatched": Decimal("0"), "delivered": Decimal("0")}
               for line in self.lines}
        # The states in which the goods have left the warehouse, as the shipping stage registered them.
        left = registry.machine("shipment").groups["LEFT"] if self.shipments else ()
        for shipment in self.shipments:
            for sline in shipment.lines:
                # A return case's replacement sends again what was dispatched already.
                if shipment.status in left and shipment.return_case_id is None:
                    out[sline.order_line_id]["dispatched"] += sline.quantity
            if shipment.receipt is not None:
                for rline in shipment.receipt.lines:
                    if rline.condition == "ok":
                        out[rline.shipment_line.order_line_id]["delivered"] += rline.received_qty
        for row in out.values():
            row["outstanding"] = max(row["ordered"] - row["dispatched"], Decimal("0"))
        return out

    # Orders whose goods the customer is still waiting for: a passed date makes them late.
    AWAITING_GOODS = lifecycle.AWAITING_GOODS

    @property
    def days_late(self) -> int:
        """Days past the delivery date the customer was promised (0 when not late or delivered)."""
        from ..i18n import firm_today
        if self.status not in self.AWAITING_GOODS or self.delivery_date is None:
            return 0
        return self.days_late_on(firm_today())

    def days_late_on(self, today) -> int:
        """days_late as of the firm's date today (a list of orders reads the firm's date once)."""
        if self.status not in self.AWAITING_GOODS or self.delivery_date is None:
            return 0
        return max((today - self.delivery_date).days, 0)

    @property
    def open_blocking_anomalies(self) -> list:
        """What stops the line for this order now: blocking anomalies not resolved yet."""
        return [a for w in self.work_orders for a in w.anomalies
                if a.severity == "blocking" and a.resolved_at is None]

    @property
    def all_dispatched(self) -> bool:
        """Every ordered quantity has left in a shipment."""
        return bool(self.lines) and all(r["outstanding"] == 0 for r in self.fulfilment().values())

    @property
    def all_delivered(self) -> bool:
        """Every shipment is signed for and nothing is still to ship."""
        return self.all_dispatched and all(s.receipt is not None for s in self.shipments)

    @property
    def all_work_done(self) -> bool:
        """Every work order has passed QC (and there is at least one)."""
        return bool(self.work_orders) and all(w.status == "done" for w in self.work_orders)

    @property
    def settings(self) -> dict:
        """The settings this order keeps (empty before review)."""
        return json.loads(self.settings_snapshot) if self.settings_snapshot else {}

    @property
    def budget(self) -> dict[str, Decimal | None]:
        """The cost budget per category."""
        return {c: getattr(self, f"budget_{c}") for c in BUDGET_CATEGORIES}

    @property
    def budget_total(self) -> Decimal | None:
        """Sum of the budget, or None while finance has not set it."""
        values = list(self.budget.values())
        if any(v is None for v in values):
            return None
        return sum(values, Decimal("0"))

    @property
    def margin(self) -> Decimal | None:
        """Revenue without tax less the cost budget."""
        budget = self.budget_total
        return None if budget is None else self.total_excl - budget

    @property
    def prepayment_due(self) -> Decimal:
        """The prepayment the terms ask for."""
        return money(self.total * self.prepayment_pct / 100)

    @property
    def paid(self) -> Decimal:
        """Everything received so far."""
        return sum((p.amount for p in self.payments), Decimal("0"))

    @property
    def unpaid(self) -> Decimal:
        """The total including tax less every payment received (never below zero); balances with
        invoices and credit arrive with the money and customers issue."""
        return max(self.total - self.paid, Decimal("0"))

    @property
    def prepayment_satisfied(self) -> bool:
        """Whether production may start as far as money goes."""
        return (self.prepayment_pct == 0 or self.paid >= self.prepayment_due
                or bool(self.prepayment_override))

    def current_reviews(self) -> dict[str, "FeasibilityReview"]:
        """The latest review per department in the current review round."""
        out = {}
        for review in self.reviews:
            if review.round == self.review_round:
                out[review.department] = review
        return out

    def current_approvals(self) -> dict[str, "Approval"]:
        """The approvals given for the current version."""
        return {a.role: a for a in self.approvals
                if a.round == self.review_round and a.decision == "approve"}

    def required_approvals(self) -> list[str]:
        """Which approvals this order needs, per its settings."""
        s = self.settings
        roles = []
        if s.get("manager_approval", True):
            roles.append("manager")
        if s.get("finance_approval", True) and self.total >= Decimal(
                s.get("finance_approval_threshold", "0")):
            roles.append("finance")
        return roles

    def terms(self) -> dict:
        """The terms the customer signs, as canonical JSON-ready data."""
        terms = {
            "number": self.number,
            "version": self.version,
            "customer": {"name": self.customer.name, "abbreviation": self.customer.abbreviation},
            "customer_po": self.customer_po,
            "currency": self.currency,
            "lines": [line.terms() for line in self.lines],
            "total_excl": str(money(self.total_excl)),
            "total_tax": str(money(self.total_tax)),
            "total": str(money(self.total)),
            "prepayment_pct": str(money(self.prepayment_pct)),
            "credit_days": self.credit_days,
            "delivery_date": self.delivery_date.isoformat() if self.delivery_date else None,
            "delivery_place": self.delivery_place,
            "delivery_method": self.delivery_method,
            "breach_liability": self.breach_liability,
        }
        if self.credit_basis == "month_end":  # 月结 N 天: a key of its own, so net terms read as before
            terms["credit_basis"] = "month_end"
        return terms


class OrderLine(db.Model):
    """One line of an order."""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    position: Mapped[int] = mapped_column(default=1)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"))
    customer_part_no: Mapped[str] = mapped_column(String(60), default="")
    model: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(String(200), default="")
    drawing_rev: Mapped[str] = mapped_column(String(20), default="")
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[str] = mapped_column(String(20), default="pcs")
    unit_price: Mapped[Decimal] = mapped_column(Money)  # without tax
    unit_price_incl: Mapped[Decimal] = mapped_column(Money)  # with tax

    order: Mapped[Order] = relationship(back_populates="lines")
    product = relationship("Product")

    @property
    def amount(self) -> Decimal:
        """Line amount without tax."""
        return money(self.quantity * self.unit_price)

    @property
    def amount_incl(self) -> Decimal:
        """Line amount with tax."""
        return money(self.quantity * self.unit_price_incl)

    def terms(self) -> dict:
        """This line as part of the signed terms."""
        return {
            "customer_part_no": self.customer_part_no, "model": self.model,
            "description": self.description, "drawing_rev": self.drawing_rev,
            "quantity": f"{Decimal(self.quantity):.3f}", "unit": self.unit,
            "unit_price": str(money(self.unit_price)), "unit_price_incl": str(money(self.unit_price_incl)),
        }


class FeasibilityReview(db.Model):
    """A department's verdict on whether the order can be done (production, finance, warehouse)."""

    __table_args__ = (UniqueConstraint("order_id", "round", "department"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    round: Mapped[int] = mapped_column()
    department: Mapped[str] = mapped_column(String(20))
    verdict: Mapped[str] = mapped_column(String(10))  # agree / concern
    note: Mapped[str] = mapped_column(Text, default="")
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    override_reason: Mapped[str | None] = mapped_column(Text)
    overridden_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    overridden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship(back_populates="reviews")
    reviewer = relationship("User", foreign_keys=[reviewer_id])
    overridden_by = relationship("User", foreign_keys=[overridden_by_id])

    @property
    def clears(self) -> bool:
        """Whether this review lets the order go on to approval."""
        return self.verdict == "agree" or self.override_reason is not None


class Approval(db.Model):
    """An approver's decision on the order (manager, finance)."""

    __table_args__ = (UniqueConstraint("order_id", "round", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    round: Mapped[int] = mapped_column()
    role: Mapped[str] = mapped_column(String(20))
    decision: Mapped[str] = mapped_column(String(10))  # approve / reject
    note: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship(back_populates="approvals")
    user = relationship("User")


class OrderVersion(db.Model):
    """A frozen copy of an order's terms, one per version; amendments add versions."""

    __table_args__ = (UniqueConstraint("order_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    version: Mapped[int] = mapped_column()
    terms_json: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def terms(self) -> dict:
        """The frozen terms."""
        return json.loads(self.terms_json)


class Countersignature(db.Model):
    """The customer's signature over one frozen version of the terms."""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    version: Mapped[int] = mapped_column()
    terms_json: Mapped[str] = mapped_column(Text)
    terms_sha256: Mapped[str] = mapped_column(String(64))
    signer_name: Mapped[str] = mapped_column(String(100))
    signer_title: Mapped[str] = mapped_column(String(100), default="")
    consent_text: Mapped[str] = mapped_column(Text)
    consent_version: Mapped[str] = mapped_column(String(20))
    strokes_json: Mapped[str] = mapped_column(Text)
    signature_svg: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip_address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    link_id: Mapped[int] = mapped_column(ForeignKey("access_link.id"))


class OrderAmendment(db.Model):
    """A change to an approved order: what changed, why, and the versions it joins."""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    from_version: Mapped[int] = mapped_column()
    to_version: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(Text)
    changes_json: Mapped[str] = mapped_column(Text)  # list of {field, before, after}
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    requested_by = relationship("User")

    @property
    def changes(self) -> list[dict]:
        """What changed."""
        return json.loads(self.changes_json)


class Payment(db.Model):
    """Money received for an order: the deposit or a later receipt."""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # deposit / receipt
    amount: Mapped[Decimal] = mapped_column(Money)
    received_on: Mapped[date] = mapped_column()
    reference: Mapped[str] = mapped_column(String(100), default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship(back_populates="payments")
    recorded_by = relationship("User")


class OrderNumberCounter(db.Model):
    """The last serial used per customer per month; updated with an upsert at approval."""

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(6), primary_key=True)  # YYYYMM, firm's time zone
    last: Mapped[int] = mapped_column(default=0)
