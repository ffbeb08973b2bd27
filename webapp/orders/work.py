"""The orders' work for My work: drafts and countersignatures (sales), feasibility sign-offs and
concerns (reviewers, the manager), approvals, the prepayment (finance) and the release to production.

Each kind asks the database its condition: a sign-off is needed when the order's kept settings ask
for the department and no review of the current round exists; an approval when the settings ask
for the role and no approval of the round exists; the prepayment from the sum of the payments.
The helpers order_ref and order_item are how every domain's items name an order.
"""
from datetime import datetime

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext, ngettext
from sqlalchemy import BigInteger, Numeric
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import joinedload, selectinload

from ..auth import ROLE_LABELS
from ..extensions import db
from ..statemachine import N_
from . import DOMAIN
from ..work_items import DUE_DELIVERY, DUE_ETA, WorkItem, work_item
from . import lifecycle
from .models import Approval, FeasibilityReview, Order, Payment
from ..requirements import Requirement
from ..requirements import register_status as register_requirement_status

# The actions My work asks about that no page needed before: each is the role set of the order
# machine's transition it leads to (an approval is given in the approver's own role).
# The actions My work asks about, added to what this domain registered (webapp/registry.py).
DOMAIN.actions.update({
    "order.override_concern": lifecycle.MACHINE.transitions["override_concern"].roles,
    "order.release": lifecycle.MACHINE.transitions["start_production"].roles,
    "order.close": lifecycle.MACHINE.transitions["close"].roles,
    **{f"order.approve.{role}": frozenset({role}) for role in lifecycle.MACHINE.transitions["approve"].roles},
})

REVIEW_DEPARTMENTS = ("production", "finance", "warehouse")
APPROVER_ROLES = ("manager", "finance")


def order_ref(order: Order) -> str:
    """How a person finds the order: its number; before approval gives it one, the customer's PO
    number or the first line (never the database id, which means nothing to anyone)."""
    if order.number:
        return order.number
    if order.customer_po:
        return _("PO %(po)s", po=order.customer_po)
    if order.lines:
        model, more = order.lines[0].model, len(order.lines) - 1
        if not more:
            return _("%(model)s, not numbered yet", model=model)
        # one message, so a language can put the words in its own order
        return ngettext("%(model)s and %(num)d more line, not numbered yet",
                        "%(model)s and %(num)d more lines, not numbered yet", more, model=model)
    return _("Order not numbered yet")


def order_item(title: str, order: Order, url: str, since: datetime, kind: str = "act", **extra) -> WorkItem:
    """An item about an order: its number, its customer and its delivery date unless told otherwise."""
    if "due" not in extra:  # the date the customer now expects: a new ETA told to them, else the agreed one
        extra["due"] = order.revised_date or order.delivery_date
        extra["due_kind"] = DUE_ETA if order.revised_date else DUE_DELIVERY
    return WorkItem(title, order_ref(order), url, since, kind, customer=order.customer.name, **extra)


def numbered_under(number: str, order: Order) -> str:
    """A work order's or shipment's number, with its order's unless the number already carries it."""
    if order.number and number.startswith(order.number):
        return number
    return f"{number} · {order_ref(order)}"


def order_naming() -> tuple:
    """The loader options naming an order on My work needs: its customer, and its lines while it
    has no number (built when asked: the mappers are configured once every domain is imported)."""
    return joinedload(Order.customer), selectinload(Order.lines)


def orders_in(status: str):
    """Orders of one status, the longest untouched first (index order_status_updated)."""
    return (db.select(Order).where(Order.status == status).options(*order_naming())
            .order_by(Order.updated_at, Order.id))


def orders_list_url(status: str):
    """The order list filtered by status: where an "N more" link leads."""
    return lambda: url_for("orders.index", status=status)


# --- what the order's kept settings ask for, asked in SQL ------------------------------------------

def _settings():
    """The order's kept settings as JSON the database reads (TEXT holding JSON on both databases)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return db.cast(Order.settings_snapshot, JSONB)
    return db.type_coerce(Order.settings_snapshot, db.JSON)


def _setting_is_on(key: str):
    """The boolean setting key, on when missing (as Order.required_approvals reads it)."""
    return db.func.coalesce(_settings()[key].as_boolean(), db.true())


def review_required(department: str):
    """The order's settings list department among the reviews it needs."""
    if db.session.get_bind().dialect.name == "postgresql":
        return db.cast(Order.settings_snapshot, JSONB)["reviews"].contains([department])
    listed = db.func.json_each(Order.settings_snapshot, "$.reviews").table_valued("value")
    return db.select(1).select_from(listed).where(listed.c.value == department).exists()


def approval_required(role: str):
    """The order's settings ask role to approve (Order.required_approvals, in SQL)."""
    if role == "manager":
        return _setting_is_on("manager_approval")
    threshold = db.func.coalesce(_settings()["finance_approval_threshold"].as_string(), "0")
    threshold_minor = db.cast(threshold, Numeric(20, 2)) * 100  # money is kept in minor units
    return db.and_(_setting_is_on("finance_approval"),
                   db.type_coerce(Order.total, BigInteger) >= threshold_minor)


def reviewed_this_round(department: str):
    """A review by department exists in the order's current round."""
    return (db.select(FeasibilityReview.id).where(
        FeasibilityReview.order_id == Order.id, FeasibilityReview.round == Order.review_round,
        FeasibilityReview.department == department).exists())


def open_concern():
    """A concern of the current round that nobody overrode."""
    return (db.select(FeasibilityReview.id).where(
        FeasibilityReview.order_id == Order.id, FeasibilityReview.round == Order.review_round,
        FeasibilityReview.verdict == "concern", FeasibilityReview.override_reason.is_(None)).exists())


def approved_this_round(role: str):
    """role approved the order in its current round."""
    return (db.select(Approval.id).where(
        Approval.order_id == Order.id, Approval.round == Order.review_round, Approval.role == role,
        Approval.decision == "approve").exists())


def prepayment_satisfied():
    """Order.prepayment_satisfied in SQL: nothing asked, paid in full (half-up rounded, in minor
    units), or overridden by finance."""
    paid = (db.select(db.func.coalesce(db.func.sum(db.type_coerce(Payment.amount, BigInteger)), 0))
            .where(Payment.order_id == Order.id).scalar_subquery())
    total, pct = db.type_coerce(Order.total, BigInteger), db.type_coerce(Order.prepayment_pct, BigInteger)
    due = (total * pct + 5000) // 10000  # minor units × hundredths of a percent, rounded half up
    return db.or_(pct == 0, paid >= due,
                  db.and_(Order.prepayment_override.is_not(None), Order.prepayment_override != ""))


# --- the kinds ----------------------------------------------------------------------------------

def _detail_url(order: Order) -> str:
    return url_for("orders.detail", order_id=order.id)



def order_customer():
    """The column that says whose these orders are (the object scope applies to it)."""
    return Order.customer_id


def has_live_order():
    """An order not cancelled was made from the requirement."""
    return db.select(Order.id).where(Order.requirement_id == Requirement.id, Order.status != "cancelled").exists()


# Confirmed requirements no order was made from yet: "Prepare the order" (the requirements' own kinds
# of work come first: importing them registers them).
register_requirement_status("confirmed", lambda: ~has_live_order())

work_item("order.draft", action="order.edit",
          customer=order_customer, label=lazy_gettext("Complete and submit the order"),
          query=lambda user: orders_in("draft"), more_url=orders_list_url("draft"),
          build=lambda o, user: order_item(_("Complete and submit the order"), o, _detail_url(o), o.updated_at))
work_item("order.countersign", action="order.edit",
          customer=order_customer,
          label=lazy_gettext("Waiting for the customer's countersignature"),
          query=lambda user: orders_in("awaiting_countersign"), more_url=orders_list_url("awaiting_countersign"),
          build=lambda o, user: order_item(_("Waiting for the customer's countersignature"), o, _detail_url(o),
                                           o.updated_at, "wait"))


def _register_per_person(key: str, action: str, status: str, message: str, who: dict, waiting) -> None:
    """One kind of My work for each reviewing department or approving role: orders in status whose
    kept settings ask for that person and that wait for them this round (`waiting()`, an SQL
    condition). who names the message's placeholder and its role: {"dept": "finance"}."""
    (placeholder, role), = who.items()

    def title():
        return _(message, **{placeholder: ROLE_LABELS[role]})
    work_item(key, action=action, customer=order_customer,
              label=lazy_gettext(message, **{placeholder: ROLE_LABELS[role]}),
              query=lambda user: orders_in(status).where(waiting()), more_url=orders_list_url(status),
              build=lambda o, user: order_item(title(), o, _detail_url(o), o.updated_at))


for _department in REVIEW_DEPARTMENTS:
    _register_per_person(f"order.sign_off.{_department}", f"order.review.{_department}", "in_review",
                         N_("Feasibility sign-off needed (%(dept)s)"), {"dept": _department},
                         lambda d=_department: review_required(d) & ~reviewed_this_round(d))

work_item("order.concern", action="order.override_concern",
          customer=order_customer, label=lazy_gettext("A concern blocks this order"),
          query=lambda user: orders_in("in_review").where(open_concern()), more_url=orders_list_url("in_review"),
          build=lambda o, user: order_item(_("A concern blocks this order"), o, _detail_url(o), o.updated_at))

for _role in APPROVER_ROLES:
    _register_per_person(f"order.approval.{_role}", f"order.approve.{_role}", "pending_approval",
                         N_("Approval needed (%(role)s)"), {"role": _role},
                         lambda r=_role: approval_required(r) & ~approved_this_round(r))

work_item("order.prepayment", action="payment.record",
          customer=order_customer, label=lazy_gettext("Record the prepayment"),
          query=lambda user: orders_in("effective").where(~prepayment_satisfied()),
          more_url=orders_list_url("effective"),
          build=lambda o, user: order_item(_("Record the prepayment"), o, _detail_url(o), o.updated_at))
work_item("order.release", action="order.release",
          customer=order_customer, label=lazy_gettext("Release to production"),
          query=lambda user: orders_in("effective").where(prepayment_satisfied()),
          more_url=orders_list_url("effective"),
          build=lambda o, user: order_item(_("Release to production"), o, _detail_url(o), o.updated_at))
