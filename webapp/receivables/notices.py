"""The messages the receivables domain sends (notify events), in the recipient's language."""
from flask_babel import format_date
from flask_babel import gettext as _

from ..notify import Notice, message
from ..templating import money


@message("invoice.reminder")
def reminder(invoice, order, kind: str, outstanding, days_overdue: int, firm: str, copy: bool = False) -> Notice:
    """To the customer (and, when overdue, a copy to the sales rep): an invoice due soon or overdue,
    with its number, amount still owed and due date."""
    amount = money(outstanding, order.currency)
    due = format_date(invoice.due_on, "long")
    if kind == "before":
        subject = _("Invoice %(number)s falls due on %(date)s", number=invoice.number, date=due)
        text = _("Invoice %(number)s for order %(order)s falls due on %(date)s: %(amount)s is still open.",
                 number=invoice.number, order=order.number or order.customer_po, date=due, amount=amount)
    else:
        subject = _("Invoice %(number)s is overdue", number=invoice.number)
        text = _("Invoice %(number)s for order %(order)s fell due on %(date)s, %(days)s days ago: %(amount)s is still open.",
                 number=invoice.number, order=order.number or order.customer_po, date=due, days=days_overdue,
                 amount=amount)
    if copy:
        subject = _("Copy: %(subject)s (%(customer)s)", subject=subject, customer=order.customer.name)
    body = _("Hello,\n\n%(text)s\n\nIf it is already paid, please tell us the date and the amount so that we can "
             "match it. Thank you.\n\n%(firm)s\n", text=text, firm=firm)
    return Notice(subject, body)
