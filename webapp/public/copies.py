"""The customer's PDF copy of the order they countersigned, from their (used) countersign link."""
import io
import json

from flask import abort, send_file, url_for

from .. import links
from ..documents import copies
from ..extensions import db
from ..orders.models import Countersignature
from . import bp


def signature_for(token: str) -> Countersignature | None:
    """The countersignature made through this link, if the link exists, is not revoked and the copy
    is still within the retention period; else None."""
    link = links.find(token)
    if link is None or link.revoked_at is not None or link.purpose != "order_countersign":
        return None
    signature = db.session.scalars(db.select(Countersignature).where(Countersignature.link_id == link.id)
                                   .order_by(Countersignature.id.desc()).limit(1)).first()
    if signature is None or not copies.within_retention(signature.signed_at):
        return None
    return signature


@bp.get("/c/<token>/copy.pdf")
def countersign_copy_pdf(token: str):
    """Download the countersigned order confirmation as a PDF (404: unknown, revoked, not signed
    through this link, or past the retention period)."""
    signature = signature_for(token)
    if signature is None:
        abort(404)
    response = send_file(io.BytesIO(copies.countersign_pdf(signature)), mimetype="application/pdf",
                         as_attachment=True, download_name=copies.countersign_filename(json.loads(signature.terms_json)),
                         max_age=0)
    return response  # no-store and no-referrer, as on every capability route (webapp/__init__.py)


@bp.app_template_global()
def countersign_copy_url(token: str | None) -> str | None:
    """The download address of the copy for a countersign token, when there is a copy to download."""
    if not token or signature_for(token) is None:
        return None
    return url_for("public.countersign_copy_pdf", token=token)
