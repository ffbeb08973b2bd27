"""The customer's PDF copies, downloaded from their links: the countersigned order confirmation
(from the used countersign link, on the customer links' blueprint) and the signed delivery receipt
(from their receipt link, on the shipping blueprint, where the link's pages are). The URLs and
endpoint names are those of the pages the links open; which signature or receipt a link leads to,
and the download URL pages offer, are the orders' and shipping's (signature_for, receipt_for)."""
import io
import json

from flask import abort, send_file

from ..errors import render_error
from ..orders import signature_for
from ..public import bp as public_bp
from ..public.copies import within_retention
from ..projects import bp as projects_bp
from ..projects import acceptance_for, services as project_services
from ..shipping import bp as shipping_bp
from ..shipping import receipt_for
from . import copies


@public_bp.get("/c/<token>/copy.pdf")
def countersign_copy_pdf(token: str):
    """Download the countersigned order confirmation as a PDF, in the page's language (404: unknown
    link, withdrawn before use, or nothing signed through it; 410 past the retention period)."""
    signature = signature_for(token)
    if signature is None:
        abort(404)
    if not within_retention(signature.signed_at):
        return render_error(410, copies.gone_message())
    name = copies.countersign_filename(json.loads(signature.terms_json))
    # Cache-Control no-store and no Referer, as on every capability route (webapp/__init__.py).
    return send_file(io.BytesIO(copies.countersign_pdf(signature)), mimetype="application/pdf",
                     as_attachment=True, download_name=name)


@shipping_bp.get("/c/<token>/receipt-copy.pdf")
def receipt_copy_pdf(token: str):
    """Download the signed delivery receipt as a PDF, in the page's language (404: unknown link,
    withdrawn before use, the courier's link, or not signed yet; 410 past the retention period)."""
    receipt = receipt_for(token)
    if receipt is None:
        abort(404)
    if not within_retention(receipt.signed_at):
        return render_error(410, copies.gone_message())
    # Cache-Control no-store and no Referer, as on every capability route (webapp/__init__.py).
    return send_file(io.BytesIO(copies.receipt_pdf(receipt)), mimetype="application/pdf", as_attachment=True,
                     download_name=copies.receipt_filename(receipt.shipment))


@projects_bp.get("/c/<token>/acceptance-copy.pdf")
def acceptance_copy_pdf(token: str):
    """Download the signed acceptance of a service project as a PDF, in the page's language (404:
    unknown link, withdrawn before use, or nothing signed through it; 410 past the retention period)."""
    acceptance = acceptance_for(token)
    if acceptance is None:
        abort(404)
    if not within_retention(acceptance.signed_at):
        return render_error(410, copies.gone_message())
    order = acceptance_order(acceptance)
    return send_file(io.BytesIO(copies.acceptance_pdf(order, project_services.acceptances(order.id))),
                     mimetype="application/pdf", as_attachment=True, download_name=copies.acceptance_filename(order))


def acceptance_order(acceptance):
    """The project an acceptance belongs to."""
    from ..extensions import db
    from ..orders import Order
    return db.session.get(Order, acceptance.order_id)
