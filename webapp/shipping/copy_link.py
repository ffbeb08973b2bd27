"""Which signed receipt a customer's receipt link leads to, and where its PDF copy downloads from
(the download itself is the documents domain's, documents/views.py)."""
from flask import url_for

from .. import links
from ..extensions import db
from ..public.copies import link_keeps_copy, within_retention
from . import bp
from .models import DeliveryReceipt


def receipt_for(token: str) -> DeliveryReceipt | None:
    """The signed receipt of the shipment a customer's receipt link is for (see
    public.copies.link_keeps_copy; a link still live counts: signed on the courier's phone), or None."""
    link = links.find(token)
    if not link_keeps_copy(link, "delivery_receipt"):
        return None
    return db.session.scalar(db.select(DeliveryReceipt).where(DeliveryReceipt.shipment_id == link.object_id))


@bp.app_template_global()
def receipt_copy_url(token: str | None) -> str | None:
    """Where the PDF copy for a customer's receipt token downloads from, while there is one."""
    receipt = receipt_for(token) if token else None
    if receipt is None or not within_retention(receipt.signed_at):
        return None
    return url_for("shipping.receipt_copy_pdf", token=token)
