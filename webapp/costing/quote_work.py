"""The quotations' work for My work (sales, the manager): sent quotations whose validity ends within
three days or has ended, to chase the customer's answer or mark them expired."""
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy.orm import joinedload

from ..work_items import WorkItem, work_item
from . import quote_services
from .quote_models import Quote


def _expiring(user):
    return (quote_services.expiring().options(joinedload(Quote.customer))
            .order_by(Quote.valid_until, Quote.id))


def _item(quote: Quote, user) -> WorkItem:
    """A quotation about to lapse: its number, its customer and its validity date."""
    return WorkItem(_("Quotation about to expire: chase the customer"), quote.number,
                    url_for("costing.quote", quote_id=quote.id), quote.sent_at or quote.updated_at, "act",
                    customer=quote.customer.name, due=quote.valid_until)


work_item("quote.expiring", action="quote.accept", customer=lambda: Quote.customer_id,
          label=lazy_gettext("Quotation about to expire: chase the customer"), query=_expiring, build=_item,
          more_url=lambda: url_for("costing.quotes", status="sent"))
