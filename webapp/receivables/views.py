"""The receivables pages: the ageing list (who owes what and since when, with its download), one
customer's open items, an order's invoices and payments (also shown on the order page), and
finance's actions: record or void an invoice, match payments, release a held order for shipping."""
from datetime import date
from decimal import Decimal

from flask import abort, flash, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import registry
from ..customers import Customer
from ..extensions import db
from ..firm import get_settings
from ..htmx import is_partial, render, see_other
from ..i18n import firm_today
from ..inputs import row_id
from ..loading import load
from ..orders import Order, Payment
from ..permissions import can, requires
from ..shipping import ReturnCredit
from ..spreadsheets import csv_response, workbook, xlsx_response
from ..statemachine import TransitionError
from ..templating import money
from . import bp, services, settlement
from .forms import BASIS_LABELS, KIND_LABELS, InvoiceForm, MatchForm, ReasonForm
from .models import Invoice, PaymentMatch, ShippingRelease

ZERO = Decimal("0")
BUCKET_KEYS = [key for key, _first, _last in settlement.AGEING_BUCKETS]


def bucket_titles() -> dict:
    """The ageing columns' headings, in the reader's language."""
    return {key: _(title) for key, title in settlement.AGEING_TITLES.items()}


# --- the ageing list ------------------------------------------------------------------------------

def ageing_rows(today: date | None = None) -> tuple[list, dict]:
    """One row per customer who owes something (or was paid ahead), the most overdue first, and the
    totals: balance, the buckets and the oldest due date, in the firm's currency."""
    today = today or firm_today()
    visible = db.select(Customer).where(*registry.scope_clauses(current_user, Customer.id))
    customers = {c.id: c for c in db.session.scalars(visible)}
    rows = []
    for customer_id, pos in settlement.positions(list(customers), today).items():
        if pos.balance == 0 and not any(pos.buckets.values()):
            continue
        rows.append({"customer": customers[customer_id], "position": pos,
                     "days": (today - pos.oldest_due).days if pos.oldest_due else 0})
    # The oldest overdue money first, then the largest overdue amount; customers not overdue last.
    rows.sort(key=lambda r: (r["position"].oldest_due or date.max, -r["position"].overdue, r["customer"].name))
    totals = {"balance": sum((r["position"].balance for r in rows), ZERO),
              "overdue": sum((r["position"].overdue for r in rows), ZERO),
              "owed": sum((r["position"].owed for r in rows), ZERO),
              "advance": sum((r["position"].advance for r in rows), ZERO)}
    for key in BUCKET_KEYS:
        totals[key] = sum((r["position"].buckets[key] for r in rows), ZERO)
    return rows, totals


@bp.get("/")
@login_required
@requires("receivables.view")
def ageing():
    """The ageing list: per customer the balance, not yet due and days overdue in four buckets,
    the oldest due date, most overdue first, with the totals; as XLSX or CSV on request."""
    today = firm_today()
    rows, totals = ageing_rows(today)
    currency = get_settings().currency
    titles = bucket_titles()
    fmt = request.args.get("format")
    if fmt in ("xlsx", "csv"):
        headers = [_("Customer"), _("Balance (%(currency)s)", currency=currency)] + [titles[k] for k in BUCKET_KEYS] \
            + [_("Oldest due date"), _("Owed on invoices"), _("Received ahead")]
        table = [[r["customer"].name, r["position"].balance, *[r["position"].buckets[k] for k in BUCKET_KEYS],
                  r["position"].oldest_due, r["position"].owed, r["position"].advance] for r in rows]
        table.append([_("Total"), totals["balance"], *[totals[k] for k in BUCKET_KEYS], None, totals["owed"],
                      totals["advance"]])
        name = _("Receivables ageing %(date)s", date=today.isoformat())
        if fmt == "csv":
            return csv_response(headers, table, f"{name}.csv")
        data = workbook(_("Ageing"), headers, table, number_formats={i: "#,##0.00" for i in range(1, 7)},
                        bold_rows=[len(table) - 1], title_rows=[name])
        return xlsx_response(data, f"{name}.xlsx")
    if fmt is not None:
        abort(404)
    return render("receivables/ageing.html", rows=rows, totals=totals, titles=titles, keys=BUCKET_KEYS,
                  currency=currency, today=today)


# --- one customer ---------------------------------------------------------------------------------

@bp.get("/customers/<int:customer_id>")
@login_required
def customer(customer_id: int):
    """A customer's open items: invoices with something owed and days overdue, payments not yet
    matched, return credits, and the balance in the firm's currency."""
    found = load(Customer, customer_id, "receivables.view")
    today = firm_today()
    pos = settlement.position(found.id, today)
    order_ids = [a.order.id for a in pos.accounts]
    payments = db.session.scalars(db.select(Payment).where(Payment.order_id.in_(order_ids))
                                  .order_by(Payment.received_on, Payment.id)).all() if order_ids else []
    matched = dict(db.session.execute(db.select(PaymentMatch.payment_id, db.func.sum(PaymentMatch.amount))
                                      .where(PaymentMatch.payment_id.in_([p.id for p in payments]))
                                      .group_by(PaymentMatch.payment_id)).all()) if payments else {}
    unmatched = [(p, p.amount - matched.get(p.id, ZERO)) for p in payments if p.amount - matched.get(p.id, ZERO) > 0]
    credits = db.session.scalars(db.select(ReturnCredit).where(ReturnCredit.order_id.in_(order_ids))
                                 .order_by(ReturnCredit.id)).all() if order_ids else []
    return render("receivables/customer.html", customer=found, position=pos, today=today,
                  items=pos.open_items, unmatched=unmatched, credits=credits, titles=bucket_titles(),
                  keys=BUCKET_KEYS, currency=get_settings().currency, basis_labels=BASIS_LABELS,
                  orders={a.order.id: a.order for a in pos.accounts})


# --- one order ------------------------------------------------------------------------------------

def order_money(order: Order, invoice_form=None, match_form=None, release_form=None, notes=None,
                void_form=None, void_invoice_id: int | None = None) -> dict:
    """What the order's "Invoices and payments" section shows, with its forms (a refused void comes
    back with its invoice's id, so that its reason shows again under that invoice)."""
    acct = settlement.account(order)
    today = firm_today()
    given = {"invoice": invoice_form is not None, "match": match_form is not None, "release": release_form is not None,
             "void": void_form is not None}
    if invoice_form is None:
        invoice_form = InvoiceForm(formdata=None, prefix="inv", tax_rate=order.tax_rate, issued_on=today)
    invoice_form.offer(order.shipments)
    open_items = [i for i in acct.items if i.invoice.amount - i.matched > 0]
    suggestions = services.suggestions(acct)
    if match_form is None:
        match_form = MatchForm(formdata=None, prefix="m")
    match_form.payment_id.choices = [(str(p.id), f"{p.received_on.isoformat()} · {p.amount} {order.currency}"
                                      + (f" · {p.reference}" if p.reference else "")) for p, _free, _plan in suggestions]
    match_form.invoice_id.choices = [(str(i.invoice.id), f"{i.invoice.number} · {i.invoice.amount - i.matched}")
                                     for i in open_items]
    voided = db.session.scalars(db.select(Invoice).where(Invoice.order_id == order.id, Invoice.voided_at.isnot(None))
                                .order_by(Invoice.id)).all()
    hold = services.hold(order) if order.status in services.INVOICEABLE else None
    return {
        "order": order, "acct": acct, "today": today, "overdue": acct.overdue(today),
        "invoice_form": invoice_form, "match_form": match_form,
        "release_form": release_form or ReasonForm(formdata=None, prefix="rel"),
        "void_form": void_form or ReasonForm(formdata=None, prefix="void"), "void_invoice_id": void_invoice_id,
        "suggestions": suggestions, "voided": voided, "kind_labels": KIND_LABELS,
        "firm_currency": get_settings().currency, "hold": hold,
        "release": services.active_release(order.id), "may_record": can(current_user, "receivables.record"),
        "invoiceable": order.status in services.INVOICEABLE, "section_notes": notes or [],
        # A form given back (refused) stays open with what was typed.
        "open_form": next((name for name, was in given.items() if was and notes), ""),
        "basis_label": BASIS_LABELS.get(order.credit_basis, order.credit_basis),
        "plan_words": {p.id: ", ".join(f"{inv.number} {money(take, order.currency)}" for inv, take in plan)
                       for p, _free, plan in suggestions},
    }


def order_page_context(order: Order) -> dict:
    """registry page_context for the order page: the "Invoices and payments" section, for the
    roles that see receivables, once the order is signed."""
    if not can(current_user, "receivables.view") or order.status not in services.INVOICEABLE:
        return {}
    return {"sections": ["receivables/_order_section.html"], "money": order_money(order)}


def shipment_page_context(shipment) -> dict:
    """registry page_context for the shipment page: the shipping hold and finance's release form."""
    order = shipment.order
    if shipment.status not in ("packing", "packed"):
        return {}
    overdue = services.hold(order)
    release = services.active_release(order.id) if get_settings().hold_overdue_shipping else None
    if overdue is None and release is None:
        return {}
    return {"sections": ["receivables/_shipping_hold.html"],
            "hold": {"order": order, "overdue": overdue, "release": release, "currency": get_settings().currency,
                     "form": ReasonForm(formdata=None, prefix="rel"), "shipment": shipment}}


@bp.get("/orders/<int:order_id>")
@login_required
def order(order_id: int):
    """The order's invoices and payments on a page of their own (where a form without JavaScript lands)."""
    found = load(Order, order_id, "receivables.view")
    return render("receivables/order.html", money=order_money(found))


def _answer(order: Order, message: str, status: int = 200, kind: str = "done", **forms):
    """After an action on the order's section: the section again with a note (htmx), else the
    order's money page (a 303 when it was saved, the page with the refusal otherwise)."""
    db.session.flush()
    notes = [{"text": message, "kind": kind}]
    if is_partial():
        db.session.expire_all()
        return render_template("receivables/_order_section.html", money=order_money(order, notes=notes, **forms)), status
    if status < 300:
        flash(message)
        return see_other(url_for("receivables.order", order_id=order.id))
    return render("receivables/order.html", status_code=status, money=order_money(order, notes=notes, **forms))


def _refused(order: Order, error: TransitionError, **forms):
    """A refusal from the services, shown beside the forms with its status."""
    g.rollback = True  # nothing of the refused request is kept
    db.session.rollback()
    fresh = db.session.get(Order, order.id)
    return _answer(fresh, error.translated(), error.status, "error", **forms)


@bp.post("/orders/<int:order_id>/invoices")
@login_required
def record_invoice(order_id: int):
    """Finance records an invoice the tax system issued for the order."""
    found = load(Order, order_id, "receivables.record")
    form = InvoiceForm(prefix="inv")
    form.offer(found.shipments)
    if not form.validate_on_submit():
        return _answer(found, _("Not saved: check the fields marked below."), 422, "error", invoice_form=form)
    try:
        invoice = services.record_invoice(
            found, current_user, kind=form.kind.data, number=form.number.data, issued_on=form.issued_on.data,
            amount=form.amount.data, tax_rate=form.tax_rate.data, tax_amount=form.tax_amount.data,
            shipment_id=form.shipment_id, milestone=form.milestone.data if form.shipment_id is None else "",
            note=form.note.data or "")
    except TransitionError as error:
        return _refused(found, error, invoice_form=form)
    return _answer(found, _("Invoice %(number)s recorded, due %(date)s.", number=invoice.number,
                            date=invoice.due_on.isoformat()))


@bp.post("/invoices/<int:invoice_id>/void")
@login_required
def void_invoice(invoice_id: int):
    """Finance voids an invoice (红冲) with a reason; its matched payments are free again."""
    invoice = db.session.get(Invoice, invoice_id) or abort(404)
    found = load(Order, invoice.order_id, "receivables.record")
    # Read again under the order's lock: a void that was waiting sees the one before it.
    invoice = db.session.get(Invoice, invoice_id, populate_existing=True)
    form = ReasonForm(prefix="void")
    if not form.validate_on_submit():
        return _answer(found, _("Give the reason for voiding the invoice."), 422, "error", void_form=form,
                       void_invoice_id=invoice.id)
    try:
        services.void_invoice(invoice, form.reason.data, current_user)
    except TransitionError as error:
        return _refused(found, error, void_form=form, void_invoice_id=invoice.id)
    return _answer(found, _("Invoice %(number)s voided.", number=invoice.number))


@bp.post("/orders/<int:order_id>/matches")
@login_required
def match(order_id: int):
    """Finance matches part of a payment to an invoice of the order."""
    found = load(Order, order_id, "receivables.record")
    form = MatchForm(prefix="m")
    if not form.validate_on_submit():
        return _answer(found, _("Not saved: check the fields marked below."), 422, "error", match_form=form)
    payment = _of_order(Payment, form.payment_id.data, found)
    invoice = _of_order(Invoice, form.invoice_id.data, found)
    if payment is None or invoice is None:
        return _answer(found, _("Choose a payment and an invoice of this order."), 422, "error", match_form=form)
    try:
        services.match_payment(payment, invoice, form.amount.data, current_user)
    except TransitionError as error:
        return _refused(found, error, match_form=form)
    return _answer(found, _("Payment matched to invoice %(number)s.", number=invoice.number))


def _of_order(model, raw, order: Order):
    """The row of model with the posted id, if it belongs to the order."""
    try:
        row = db.session.get(model, int(raw or ""))
    except (TypeError, ValueError, OverflowError):
        return None
    return row if row is not None and row.order_id == order.id else None


@bp.post("/payments/<int:payment_id>/auto-match")
@login_required
def auto_match(payment_id: int):
    """Finance matches the rest of a payment to the order's oldest open invoices."""
    payment = db.session.get(Payment, payment_id) or abort(404)
    found = load(Order, payment.order_id, "receivables.record")
    payment = db.session.get(Payment, payment_id, populate_existing=True)  # under the order's lock
    try:
        made = services.auto_match(payment, current_user)
    except TransitionError as error:
        return _refused(found, error)
    return _answer(found, _("Payment matched to %(numbers)s.", numbers=", ".join(m.invoice.number for m in made)))


@bp.post("/matches/<int:match_id>/unmatch")
@login_required
def unmatch(match_id: int):
    """Finance takes a match back."""
    found_match = db.session.get(PaymentMatch, match_id) or abort(404)
    found = load(Order, found_match.invoice.order_id, "receivables.record")
    number = found_match.invoice.number
    # Read again under the order's lock: the same match taken back at once is gone for the second.
    found_match = db.session.get(PaymentMatch, match_id, populate_existing=True)
    if found_match is None:
        return _answer(found, _("Match with invoice %(number)s taken back.", number=number))
    services.unmatch(found_match, current_user)
    return _answer(found, _("Match with invoice %(number)s taken back.", number=number))


# --- the shipping hold ----------------------------------------------------------------------------

@bp.post("/orders/<int:order_id>/release")
@login_required
def release(order_id: int):
    """Finance lets the order ship although its customer is overdue, with a reason."""
    found = load(Order, order_id, "receivables.record")
    form = ReasonForm(prefix="rel")
    back = request.form.get("next_shipment", type=row_id)  # the shipment page it came from, if any
    if not form.validate_on_submit():
        return _answer(found, _("Give the reason for releasing the shipment."), 422, "error", release_form=form)
    try:
        services.release_shipping(found, form.reason.data, current_user)
    except TransitionError as error:
        return _refused(found, error, release_form=form)
    message = _("Released for shipping despite the overdue balance.")
    # Back to the shipment page it came from, if that is a shipment of this order.
    if back and not is_partial() and any(shipment.id == back for shipment in found.shipments):
        flash(message)
        return see_other(url_for("shipping.detail", shipment_id=back))
    return _answer(found, message)


@bp.post("/releases/<int:release_id>/revoke")
@login_required
def revoke(release_id: int):
    """Finance takes a release back: the hold applies again."""
    found_release = db.session.get(ShippingRelease, release_id) or abort(404)
    found = load(Order, found_release.order_id, "receivables.record")
    try:
        services.revoke_release(found_release, current_user)
    except TransitionError as error:
        return _refused(found, error)
    return _answer(found, _("Release revoked: the shipping hold applies again."))
