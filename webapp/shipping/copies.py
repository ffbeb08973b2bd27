"""The customer's PDF copy of the delivery receipt they signed, from their receipt link."""
import io

from flask import abort, send_file, url_for

from .. import links
from ..documents import copies
from ..extensions import db
from . import bp
from .models import DeliveryReceipt


def receipt_for(token: str) -> DeliveryReceipt | None:
    """The signed receipt of the shipment this customer's receipt link is for, if the link exists, is
    not revoked and the copy is still within the retention period; else None."""
    link = links.find(token)
    if link is None or link.revoked_at is not None or link.purpose != "delivery_receipt":
        return None
    receipt = db.session.scalar(db.select(DeliveryReceipt).where(DeliveryReceipt.shipment_id == link.object_id))
    if receipt is None or not copies.within_retention(receipt.signed_at):
        return None
    return receipt


@bp.get("/c/<token>/receipt-copy.pdf")
def receipt_copy_pdf(token: str):
    """Download the signed delivery receipt as a PDF (404: unknown or revoked link, not signed yet,
    or past the retention period)."""
    receipt = receipt_for(token)
    if receipt is None:
        abort(404)
    response = send_file(io.BytesIO(copies.receipt_pdf(receipt)), mimetype="application/pdf", as_attachment=True,
                         download_name=copies.receipt_filename(receipt.shipment), max_age=0)
    return response  # no-store and no-referrer, as on every capability route (webapp/__init__.py)


@bp.app_template_global()
def receipt_copy_url(token: str | None) -> str | None:
    """The download address of the receipt copy for a customer's receipt token, when there is one."""
    if not token or receipt_for(token) is None:
        return None
    return url_for("shipping.receipt_copy_pdf", token=token)
