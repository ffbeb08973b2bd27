"""What receivables does on a schedule: payment reminders — some days before an invoice falls due
(FirmSettings.remind_days_before), on the day after it, then every 30 days it stays overdue. Each
kind once per invoice (InvoiceReminder), to the customer's contact in their language, with a copy
of the overdue ones to the sales rep; dates in the firm's time zone."""
import logging
from datetime import date

from sqlalchemy.exc import IntegrityError

from .. import audit, background, webhooks
from ..extensions import db
from ..firm import get_settings
from ..i18n import firm_today
from ..notify import Recipient, notify
from . import notices  # noqa: F401  (the messages notify() sends)
from . import settlement
from .models import Invoice, InvoiceReminder


def reminder_kind(days_overdue: int, days_before: int) -> str | None:
    """Which reminder an invoice so many days past due (negative: before) is at: "before" within
    days_before of the due date, "overdue_1" from the day after it, "overdue_30", "overdue_60"...
    every 30 days after; None on other days."""
    if days_overdue <= 0:
        return "before" if days_before > 0 and -days_overdue <= days_before else None
    if days_overdue < 30:
        return "overdue_1"
    return f"overdue_{days_overdue // 30 * 30}"


def remind(today: date | None = None) -> list[tuple]:
    """Mail each open invoice's reminder due today that was not sent before; return (invoice, kind)
    for each sent. The caller commits."""
    today = today or firm_today()
    settings = get_settings()
    open_orders = db.session.scalars(db.select(Invoice.order_id).where(Invoice.voided_at.is_(None)).distinct()).all()
    sent_before = set(db.session.execute(db.select(InvoiceReminder.invoice_id, InvoiceReminder.kind)).all())
    # An invoice falls overdue once: its first overdue reminder (whichever) is the webhook event.
    overdue_before = {invoice_id for invoice_id, kind in sent_before if kind != "before"}
    sent = []
    for acct in settlement.accounts(open_orders).values():
        if acct.order.status == "cancelled":
            continue
        for item in acct.items:
            if item.outstanding <= 0:
                continue
            days = item.days_overdue(today)
            kind = reminder_kind(days, settings.remind_days_before or 0)
            invoice = item.invoice
            if kind is None or (invoice.id, kind) in sent_before:
                continue
            try:
                with db.session.begin_nested():  # a second worker sending the same: one row
                    db.session.add(InvoiceReminder(invoice_id=invoice.id, kind=kind))
                    db.session.flush()
            except IntegrityError:
                continue
            order, customer = acct.order, acct.order.customer
            if kind != "before" and invoice.id not in overdue_before:
                overdue_before.add(invoice.id)
                webhooks.emit("invoice.overdue", "invoice", invoice.id, number=invoice.number,
                              due_on=invoice.due_on.isoformat(), days_overdue=days, currency=order.currency,
                              outstanding=str(item.outstanding),
                              order={"id": order.id, "number": order.number,
                                     "url": webhooks.api_url("order", order.id)},
                              customer={"id": customer.id, "name": customer.name,
                                        "url": webhooks.api_url("customer", customer.id)})
            context = dict(invoice=invoice, order=order, kind=kind, outstanding=item.outstanding,
                           days_overdue=max(days, 0), firm=settings.firm_name)
            if customer.contact_email:
                notify("invoice.reminder", [Recipient(customer.contact_email, customer.locale or "zh",
                                                      customer.contact_name)], **context)
            rep = order.sales_rep
            if kind != "before" and rep is not None and rep.active and rep.email:
                notify("invoice.reminder", [Recipient.user(rep)], copy=True, **context)
            audit.record("invoice.reminded", invoice, actor_kind="system",
                         after={"kind": kind, "outstanding": str(item.outstanding), "to": customer.contact_email})
            sent.append((invoice, kind))
    return sent


@background.periodic(background.crontab(minute="15", hour="1"))
def remind_customers_daily() -> None:
    """The worker sends the payment reminders every morning (01:15 UTC, 09:15 in China)."""
    sent = remind()
    db.session.commit()
    webhooks.flush()  # the invoice.overdue events go now, not at the next sweep
    logging.getLogger(__name__).info("sent %s payment reminders", len(sent))
