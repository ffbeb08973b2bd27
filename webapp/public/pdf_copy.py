"""The customer's PDF copy of the order they countersigned, from their (used) countersign link."""
import io
import json

from flask import abort, send_file, url_for

from .. import links
from ..documents import copies
from ..errors import render_error
from ..extensions import db
from ..orders.models import Countersignature
from . import bp


def signature_for(token: str) -> Countersignature | None:
    """The countersignature made through this link (see copies.link_keeps_copy), or None."""
    link = links.find(token)
    if not copies.link_keeps_copy(link, "order_countersign"):
        return None
    return db.session.scalars(db.select(Countersignature).where(Countersignature.link_id == link.id)
                              .order_by(Countersignature.id.desc()).limit(1)).first()


@bp.get("/c/<token>/copy.pdf")
def countersign_copy_pdf(token: str):
    """Download the countersigned order confirmation as a PDF, in the page's language (404: unknown
    link, withdrawn before use, or nothing signed through it; 410 past the retention period)."""
    signature = signature_for(token)
    if signature is None:
        abort(404)
    if not copies.within_retention(signature.signed_at):
        return render_error(410, copies.gone_message())
    name = copies.countersign_filename(json.loads(signature.terms_json))
    # Cache-Control no-store and no Referer, as on every capability route (webapp/__init__.py).
    return send_file(io.BytesIO(copies.countersign_pdf(signature)), mimetype="application/pdf",
                     as_attachment=True, download_name=name)


@bp.app_template_global()
def countersign_copy_url(token: str | None) -> str | None:
    """Where the PDF copy for a countersign token downloads from, while there is one to download."""
    signature = signature_for(token) if token else None
    if signature is None or not copies.within_retention(signature.signed_at):
        return None
    return url_for("public.countersign_copy_pdf", token=token)
