"""The firm's settings and its working calendar days: read by every layer (the time zone, working
time, prices for all staff), edited on the admin pages."""
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask import g, has_app_context
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .db_types import Money, Percent, Quantity
from .extensions import db

REVIEW_DEPARTMENTS = ("production", "finance", "warehouse")
APPROVER_ROLES = ("manager", "finance")
# The roles the firm may let see receivables besides finance, the manager and the admin
# (FirmSettings.finance_roles; the admin's settings page offers them, receivables reads them).
FINANCE_READER_ROLES = ("sales", "operations", "aftersales", "purchasing")


class FirmSettings(db.Model):
    """One row: how this firm runs its orders. Orders copy it when they enter review."""

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_name: Mapped[str] = mapped_column(String(200), default="")
    # The letterhead of the delivery note (送货单): the firm's address and phone.
    firm_address: Mapped[str] = mapped_column(String(300), default="", server_default="")
    firm_phone: Mapped[str] = mapped_column(String(50), default="", server_default="")
    timezone: Mapped[str] = mapped_column(String(60), default="Asia/Shanghai")
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    tax_rate: Mapped[Decimal] = mapped_column(Percent, default=Decimal("13"))
    # Which feasibility sign-offs an order needs (comma-separated departments).
    reviews_required: Mapped[str] = mapped_column(String(100), default="production,finance,warehouse")
    manager_approval: Mapped[bool] = mapped_column(default=True)
    finance_approval: Mapped[bool] = mapped_column(default=True)
    # Finance approves only orders at or above this total (0: every order).
    finance_approval_threshold: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    amend_rereview: Mapped[bool] = mapped_column(default=False)
    amend_reapprove: Mapped[bool] = mapped_column(default=True)
    amend_resign: Mapped[bool] = mapped_column(default=True)
    number_pattern: Mapped[str] = mapped_column(String(60), default="{yyyy}{mm}-{abbr}-{seq:03d}")
    weekly_capacity: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("1000"))
    calendar_country: Mapped[str] = mapped_column(String(2), default="CN")
    # How long signatures, photos and other personal data are kept (PIPL / GDPR), in years.
    retention_years: Mapped[int] = mapped_column(default=10, server_default="10")
    # How long a customer's used link still opens the read-only copy of what they confirmed or signed.
    signed_copy_days: Mapped[int] = mapped_column(default=365, server_default="365")
    demo_loaded: Mapped[bool] = mapped_column(default=False)
    # Production, warehouse, purchasing and QC see prices and margins only when this is set.
    prices_for_all_staff: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Who besides finance and the manager sees cost sheets and cost KPIs (costing.may_see_costs).
    cost_roles: Mapped[str] = mapped_column(String(120), default="operations,sales", server_default="operations,sales")
    # Sales reps (users whose only office role is sales) see only the customers they own and those
    # customers' orders; others of theirs answer 404 (webapp/loading.py).
    sales_own_customers_only: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Which orders need a first article (打样 / 首件确认) approved by the customer before mass
    # production: never, new (a product this customer has not had before), or always.
    first_article: Mapped[str] = mapped_column(String(12), default="never", server_default="never")
    # The firm's seal (公章) as an image, printed on the customers' PDF copies; None: no seal.
    seal_photo_id: Mapped[int | None] = mapped_column(ForeignKey("photo.id"))
    # Retail sales of stock items (the counter, an online shop) need no feasibility review, no
    # approval and no countersignature: they are effective when entered.
    retail_quick: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # 款到发货: hold shipping for customers with an overdue balance (finance may release one order).
    hold_overdue_shipping: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Payment reminders: this many days before an invoice falls due (0: none before).
    remind_days_before: Mapped[int] = mapped_column(default=3, server_default="3")
    # Besides finance, the manager and the admin: the roles that see receivables (balances, invoices,
    # statements, the ageing list). Sales chase their customers' payments (回款) in most small firms.
    finance_roles: Mapped[str] = mapped_column(String(120), default="sales", server_default="sales")

    def finance_readers(self) -> list[str]:
        """The roles besides finance, the manager and the admin that see receivables."""
        return [r for r in (self.finance_roles or "").split(",") if r in FINANCE_READER_ROLES]

    def required_reviews(self) -> list[str]:
        """The departments whose sign-off an order needs."""
        return [d for d in self.reviews_required.split(",") if d in REVIEW_DEPARTMENTS]

    def snapshot(self) -> dict:
        """The settings an order keeps for its whole life, as JSON-ready data."""
        return {
            "reviews": self.required_reviews(),
            "manager_approval": self.manager_approval,
            "finance_approval": self.finance_approval,
            "finance_approval_threshold": str(self.finance_approval_threshold),
            "amend_rereview": self.amend_rereview,
            "amend_reapprove": self.amend_reapprove,
            "amend_resign": self.amend_resign,
            "number_pattern": self.number_pattern,
            "timezone": self.timezone,
        }

    def retail_snapshot(self) -> dict:
        """The settings a retail sale keeps: with retail_quick, no review, approval or countersignature."""
        snapshot = self.snapshot()
        if self.retail_quick:
            snapshot.update(reviews=[], manager_approval=False, finance_approval=False, countersign=False)
        return snapshot


class CalendarDay(db.Model):
    """A day that differs from the default week: a holiday, or a weekend made a working day."""

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    is_working: Mapped[bool] = mapped_column(default=False)


def get_settings() -> FirmSettings:
    """Return the firm's settings, creating the row with defaults on first use."""
    settings = db.session.get(FirmSettings, 1)
    if settings is None:
        settings = FirmSettings(id=1)
        db.session.add(settings)
        db.session.flush()
    if has_app_context():
        # The session's identity map holds rows weakly: without a reference the row is collected and
        # every date on a page (firm_today, days late) read it again from the database.
        g.firm_settings = settings
    return settings
