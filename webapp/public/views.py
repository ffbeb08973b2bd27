"""The customer links' front door: GET /c/<token> opens what the link's purpose registered (a
requirement to confirm, an order to countersign, a delivery to sign for, after-sales), or, for a used
link, the read-only copy of what was confirmed or signed; and the links' QR images for staff. The
domains add their own link routes to this blueprint (e.g. orders/customer_link.py)."""
from flask import Response, abort
from flask_login import current_user, login_required

from .. import links, registry
from ..loading import load
from ..permissions import can
from . import bp, copies


@bp.get("/c/<token>")
def open_link(token: str):
    """Open a customer link with the handler its purpose's domain registered (the requirement to
    confirm, the order to countersign, the courier's or customer's delivery page, after-sales); a
    used one opens the read-only copy of what was confirmed or signed."""
    link = links.find(token)
    if link is not None and not link.is_live and copies.was_used(link):
        return copies.open_copy(link)
    link = links.resolve(token)
    purpose = registry.link_purpose(link.purpose)
    if purpose is None:
        abort(404)
    return purpose.open(link)


@bp.get("/links/<int:link_id>/qr.svg")
@login_required
def link_qr(link_id: int):
    """The QR image of a customer link, for staff to show or print."""
    link = load(links.AccessLink, link_id, None)
    purpose = registry.link_purpose(link.purpose)
    managers = purpose.managers if purpose is not None else ("link.manage",)
    if not any(can(current_user, action) for action in managers) or not link.is_live:
        abort(404)
    return Response(links.qr_svg(link.url), mimetype="image/svg+xml",
                    headers={"Cache-Control": "private, no-store"})
