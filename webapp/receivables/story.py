"""What receivables tells in an order's whole story (orders/story.py, registry.StoryPart): invoices
recorded, voided, reminded and matched, and finance's shipping releases, each leading to the
order's invoices and payments."""
from flask import url_for

from ..db_types import money as money_value
from ..extensions import db
from ..registry import StoryPart
from ..templating import labelled, money
from .models import Invoice


def records(order) -> dict:
    """The order's invoices (voided ones too), by id."""
    return {"invoice": {i.id: i for i in db.session.scalars(db.select(Invoice).where(Invoice.order_id == order.id))}}


def describe(entry, event, data: dict, story) -> None:
    """The invoice's number (and amount, for readers who see money); the link to the order's money."""
    invoice = story.records.get("invoice", {}).get(event.entity_id) if event.entity_type == "invoice" else None
    if invoice is not None:
        entry.subject = invoice.number
        amount = data.get("amount")
        if amount and story.may("order.prices"):
            entry.details.append(labelled(entry.what, money(money_value(amount), story.order.currency)))
    entry.url = url_for("receivables.order", order_id=story.order.id) if story.may("receivables.view") else None


PART = StoryPart(records=records, describe=describe,
                 order_events=frozenset({"shipping.released", "shipping.release_revoked"}))
