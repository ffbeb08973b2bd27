"""What finance does with receivables: record an invoice (发票) the tax system issued, void it (红冲),
match payments to invoices (by hand, or the rest of a payment to the oldest open invoices), and let
one order ship although its customer is overdue (款到发货). Each refusal is a TransitionError with
a message id and its values; the caller's transaction commits."""
from datetime import date
from decimal import Decimal

from sqlalchemy.exc import IntegrityError

from .. import audit
from ..db_types import money
from ..extensions import db
from ..firm import get_settings
from ..orders import Order, Payment
from ..statemachine import N_, TransitionError
from ..templating import money as money_text
from ..wallclock import utcnow
from . import settlement
from .models import INVOICE_KINDS, Invoice, PaymentMatch, ShippingRelease

ZERO = Decimal("0")
# An order carries invoices once it is signed and until it is closed or cancelled.
INVOICEABLE = ("effective", "in_production", "ready_to_ship", "shipped", "delivered", "on_hold", "closed")


def tax_of(amount: Decimal, rate: Decimal) -> Decimal:
    """The tax inside an amount that includes tax at rate %."""
    return money(amount * rate / (Decimal("100") + rate))


def _number_taken(number: str) -> bool:
    return db.session.scalar(db.select(Invoice.id).where(Invoice.number == number)) is not None


def record_invoice(order: Order, user, *, kind: str, number: str, issued_on: date, amount: Decimal,
                   tax_rate: Decimal | None = None, tax_amount: Decimal | None = None,
                   shipment_id: int | None = None, milestone: str = "", note: str = "") -> Invoice:
    """Record an invoice the firm's tax system issued for the order, against one of its shipments
    or a named milestone; it falls due under the order's credit terms. Refused: an unknown kind, a
    number already recorded, an order that carries no invoices yet, a shipment of another order,
    and an invoice that would take the order's invoices above its total less return credits."""
    number = (number or "").strip()
    milestone = (milestone or "").strip()
    if kind not in INVOICE_KINDS:
        raise TransitionError(422, N_("Choose the kind of invoice."))
    if not number:
        raise TransitionError(422, N_("Enter the invoice number."))
    if order.status not in INVOICEABLE:
        raise TransitionError(409, N_("Invoices are recorded once the order is signed."))
    if amount is None or amount <= 0:
        raise TransitionError(422, N_("The amount must be more than zero."))
    if shipment_id is not None:
        if not any(s.id == shipment_id for s in order.shipments):
            raise TransitionError(422, N_("That shipment is not one of this order's."))
    elif not milestone:
        raise TransitionError(422, N_("Choose the shipment the invoice is for, or name the milestone."))
    if _number_taken(number):
        raise TransitionError(409, N_("Invoice number %(number)s is already recorded."), number=number)
    acct = settlement.account(order)
    room = order.total - acct.credited - acct.invoiced
    if amount > room:
        raise TransitionError(
            409, N_("An invoice larger than the order: only %(left)s of the order is left to invoice."),
            left=money_text(max(room, ZERO), order.currency))
    rate = order.tax_rate if tax_rate is None else tax_rate
    tax = tax_of(amount, rate) if tax_amount is None else money(tax_amount)
    if tax < 0 or tax > amount:
        raise TransitionError(422, N_("The tax cannot be more than the amount."))
    invoice = Invoice(order_id=order.id, shipment_id=shipment_id,
                      milestone=milestone[:100], kind=kind, number=number[:40], issued_on=issued_on,
                      due_on=settlement.due_date(issued_on, order.credit_days or 0, order.credit_basis or "net"),
                      tax_rate=rate, amount=money(amount), tax_amount=tax, note=note or "",
                      recorded_by_id=user.id)
    try:
        # Two people entering the same number at once: the unique index lets one in.
        with db.session.begin_nested():
            db.session.add(invoice)
            db.session.flush()
    except IntegrityError:
        raise TransitionError(409, N_("Invoice number %(number)s is already recorded."), number=number) from None
    audit.record("invoice.recorded", invoice, actor=user,
                 after={"order_id": order.id, "number": invoice.number, "kind": kind, "amount": str(invoice.amount),
                        "tax_amount": str(invoice.tax_amount), "issued_on": issued_on.isoformat(),
                        "due_on": invoice.due_on.isoformat(), "shipment_id": shipment_id, "milestone": milestone})
    return invoice


def void_invoice(invoice: Invoice, reason: str, user) -> list[PaymentMatch]:
    """Void an invoice with a red-letter reversal (红冲) and a reason: it no longer counts, and the
    payments matched to it are free to match again. Returns the released matches."""
    reason = (reason or "").strip()
    if invoice.voided_at is not None:
        raise TransitionError(409, N_("This invoice is already voided."))
    if not reason:
        raise TransitionError(422, N_("Give the reason for voiding the invoice."))
    released = list(invoice.matches)
    for match in released:
        db.session.delete(match)
    invoice.voided_at, invoice.void_reason = utcnow(), reason
    audit.record("invoice.voided", invoice, actor=user, note=reason,
                 after={"number": invoice.number, "released": [{"payment_id": m.payment_id, "amount": str(m.amount)}
                                                               for m in released]})
    db.session.flush()
    return released


def matched_of_payment(payment_id: int) -> Decimal:
    """How much of a payment is matched to invoices."""
    total = db.session.scalar(db.select(db.func.sum(PaymentMatch.amount)).where(PaymentMatch.payment_id == payment_id))
    return total or ZERO


def matched_of_invoice(invoice_id: int) -> Decimal:
    """How much of an invoice payments were matched to."""
    total = db.session.scalar(db.select(db.func.sum(PaymentMatch.amount)).where(PaymentMatch.invoice_id == invoice_id))
    return total or ZERO


def open_to_match(invoice: Invoice) -> Decimal:
    """What payments may still be matched to the invoice: its amount less what is matched."""
    return max(invoice.amount - matched_of_invoice(invoice.id), ZERO)


def match_payment(payment: Payment, invoice: Invoice, amount: Decimal, user) -> PaymentMatch:
    """Apply amount of a payment to an invoice of the same order. Refused: a voided invoice, a
    payment already matched to this invoice, more than the payment's unmatched part or than the
    invoice's open amount."""
    if payment.order_id != invoice.order_id:
        raise TransitionError(422, N_("A payment is matched to the invoices of its own order."))
    if invoice.voided_at is not None:
        raise TransitionError(409, N_("This invoice is voided."))
    if amount is None or amount <= 0:
        raise TransitionError(422, N_("The amount must be more than zero."))
    known = db.session.scalar(db.select(PaymentMatch.id).where(
        PaymentMatch.payment_id == payment.id, PaymentMatch.invoice_id == invoice.id))
    if known is not None:
        raise TransitionError(409, N_("This payment is already matched to invoice %(number)s."), number=invoice.number)
    free = payment.amount - matched_of_payment(payment.id)
    if amount > free:
        raise TransitionError(409, N_("More than the payment's unmatched part (%(free)s)."),
                              free=money_text(max(free, ZERO), invoice.order.currency))
    left = open_to_match(invoice)
    if amount > left:
        raise TransitionError(409, N_("More than what is open on invoice %(number)s (%(open)s)."),
                              number=invoice.number, open=money_text(left, invoice.order.currency))
    match = PaymentMatch(payment_id=payment.id, invoice_id=invoice.id, amount=money(amount), matched_by_id=user.id)
    try:
        with db.session.begin_nested():  # the same pair matched twice at once: one gets in
            db.session.add(match)
            db.session.flush()
    except IntegrityError:
        raise TransitionError(409, N_("This payment is already matched to invoice %(number)s."),
                              number=invoice.number) from None
    audit.record("payment.matched", invoice, actor=user,
                 after={"payment_id": payment.id, "amount": str(match.amount), "number": invoice.number})
    return match


def auto_match(payment: Payment, user) -> list[PaymentMatch]:
    """Match the rest of a payment to its order's open invoices, oldest due first (finance's
    suggestion made real). Refused when nothing of the payment is free or no invoice is open."""
    free = payment.amount - matched_of_payment(payment.id)
    if free <= 0:
        raise TransitionError(409, N_("This payment is matched in full already."))
    already = set(db.session.scalars(db.select(PaymentMatch.invoice_id).where(PaymentMatch.payment_id == payment.id)))
    invoices = db.session.scalars(db.select(Invoice).where(
        Invoice.order_id == payment.order_id, Invoice.voided_at.is_(None))
        .order_by(Invoice.due_on, Invoice.issued_on, Invoice.id)).all()
    made = []
    for invoice in invoices:
        if free <= 0:
            break
        if invoice.id in already:
            continue
        take = min(free, open_to_match(invoice))
        if take > 0:
            made.append(match_payment(payment, invoice, take, user))
            free -= take
    if not made:
        raise TransitionError(409, N_("No open invoice of this order to match the payment to."))
    return made


def unmatch(match: PaymentMatch, user) -> None:
    """Take a match back (matched to the wrong invoice): the payment's part is free again."""
    audit.record("payment.unmatched", match.invoice, actor=user,
                 after={"payment_id": match.payment_id, "amount": str(match.amount), "number": match.invoice.number})
    db.session.delete(match)
    db.session.flush()


def suggestions(acct) -> list[tuple]:
    """For each payment of the order with an unmatched part: (payment, free, the invoices it would
    be matched to oldest due first, with amounts) — what "match the rest" would do."""
    order = acct.order
    out = []
    open_left = {i.invoice.id: max(i.invoice.amount - i.matched, ZERO) for i in acct.items}
    for payment in sorted(order.payments, key=lambda p: (p.received_on, p.id)):
        free = payment.amount - sum((m.amount for i in acct.items for m in i.invoice.matches
                                     if m.payment_id == payment.id), ZERO)
        if free <= 0:
            continue
        plan, rest = [], free
        for item in acct.items:
            if rest <= 0:
                break
            take = min(rest, open_left[item.invoice.id])
            if take > 0 and not any(m.payment_id == payment.id for m in item.invoice.matches):
                plan.append((item.invoice, take))
                rest -= take
        out.append((payment, free, plan))
    return out


# --- the shipping hold (款到发货) ------------------------------------------------------------------

def active_release(order_id: int) -> ShippingRelease | None:
    """Finance's live release of the order from the shipping hold, if any."""
    return db.session.scalar(db.select(ShippingRelease).where(
        ShippingRelease.order_id == order_id, ShippingRelease.revoked_at.is_(None))
        .order_by(ShippingRelease.id.desc()).limit(1))


def hold(order: Order):
    """The customer's overdue amount (firm's currency) when the firm holds shipping for overdue
    customers and finance has not released this order; else None."""
    if not get_settings().hold_overdue_shipping:
        return None
    overdue = settlement.overdue(order.customer_id)
    if overdue <= 0 or active_release(order.id) is not None:
        return None
    return overdue


def release_shipping(order: Order, reason: str, user) -> ShippingRelease:
    """Finance lets the order ship despite its customer's overdue balance, with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise TransitionError(422, N_("Give the reason for releasing the shipment."))
    if active_release(order.id) is not None:
        raise TransitionError(409, N_("This order is already released for shipping."))
    release = ShippingRelease(order_id=order.id, reason=reason, released_by_id=user.id)
    db.session.add(release)
    db.session.flush()
    audit.record("shipping.released", order, actor=user, note=reason,
                 after={"release_id": release.id, "overdue": str(settlement.overdue(order.customer_id))})
    return release


def revoke_release(release: ShippingRelease, user) -> None:
    """Take finance's release back: the hold applies again."""
    if release.revoked_at is not None:
        raise TransitionError(409, N_("This release was already revoked."))
    release.revoked_at = utcnow()
    audit.record("shipping.release_revoked", release.order, actor=user, after={"release_id": release.id})
