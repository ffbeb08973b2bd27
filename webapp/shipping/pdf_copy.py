"""The customer's PDF copy of the delivery receipt they signed, from their receipt link."""
import io

from flask import abort, send_file, url_for

from .. import links
from ..documents import copies
from ..errors import render_error
from ..extensions import db
from . import bp
from .models import DeliveryReceipt


def receipt_for(token: str) -> DeliveryReceipt | None:
    """The signed receipt of the shipment a customer's receipt link is for (see
    copies.link_keeps_copy; a link still live counts: signed on the courier's phone), or None."""
    link = links.find(token)
    if not copies.link_keeps_copy(link, "delivery_receipt"):
        return None
    return db.session.scalar(db.select(DeliveryReceipt).where(DeliveryReceipt.shipment_id == link.object_id))


@bp.get("/c/<token>/receipt-copy.pdf")
def receipt_copy_pdf(token: str):
    """Download the signed delivery receipt as a PDF, in the page's language (404: unknown link,
    withdrawn before use, the courier's link, or not signed yet; 410 past the retention period)."""
    receipt = receipt_for(token)
    if receipt is None:
        abort(404)
    if not copies.within_retention(receipt.signed_at):
        return render_error(410, copies.gone_message())
    # Cache-Control no-store and no Referer, as on every capability route (webapp/__init__.py).
    return send_file(io.BytesIO(copies.receipt_pdf(receipt)), mimetype="application/pdf", as_attachment=True,
                     download_name=copies.receipt_filename(receipt.shipment))


@bp.app_template_global()
def receipt_copy_url(token: str | None) -> str | None:
    """Where the PDF copy for a customer's receipt token downloads from, while there is one."""
    receipt = receipt_for(token) if token else None
    if receipt is None or not copies.within_retention(receipt.signed_at):
        return None
    return url_for("shipping.receipt_copy_pdf", token=token)
