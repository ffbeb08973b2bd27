"""What a scanned code means: one of this app's own URLs, a product's maker barcode, or nothing."""
from urllib.parse import urlsplit

from flask import current_app, request
from flask_login import current_user
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from .. import links
from ..extensions import db
from ..inputs import optional_row_id
from ..loading import Verdict, authorize
from ..customers import Product
from ..shipping import Shipment, ShipmentLine

DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, int, str] | None:
    """(host, port, path prefix) of an http(s) URL, or None for anything else."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or parts.username is not None:
        return None
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:  # a port that is not a number
        return None
    return parts.hostname.lower(), port, parts.path.rstrip("/")


def own_path(code: str) -> str | None:
    """The same-origin path (with its query) of an absolute URL of this app, or None.

    Labels carry PUBLIC_URL; a phone may have opened the app under another address (a LAN IP),
    so the address of this request counts too. The answer is a path, never the scanned host, so
    the phone stays on the origin its session cookie belongs to."""
    target = _origin(code)
    if target is None:
        return None
    parts = urlsplit(code)
    for base in (links.public_base(), request.host_url):
        origin = _origin(base)
        if origin is None or origin[:2] != target[:2]:
            continue
        prefix = origin[2]
        if parts.path != prefix and not parts.path.startswith(prefix + "/"):
            continue
        path = parts.path[len(prefix):] or "/"
        # "//host" or "/\host" would leave this origin once the browser reads it.
        if path.startswith("//") or "\\" in path or not _is_page(path):
            return None
        return request.script_root + path + ("?" + parts.query if parts.query else "")
    return None


def _is_page(path: str) -> bool:
    """Whether path is a page of this app that a GET opens."""
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(path, method="GET")
    except RequestRedirect:  # e.g. the missing trailing slash: still our page
        return True
    except HTTPException:
        return False
    return True


def find_product(code: str) -> Product | None:
    """The product whose maker's barcode is code (a UPC-A and its EAN-13 with a leading 0 match)."""
    candidates = {code}
    if code.isascii() and code.isdigit():
        if len(code) == 12:
            candidates.add("0" + code)
        elif len(code) == 13 and code.startswith("0"):
            candidates.add(code[1:])
    return db.session.scalars(db.select(Product).where(Product.barcode.in_(candidates))
                              .order_by(Product.id).limit(1)).first()


def load_shipment(raw: str, lock: bool = False) -> Shipment | None:
    """The shipment whose id is raw (None for an unknown id, text that is no id, or a shipment out of
    the user's scope), with its packing list; lock=True locks its row for a scan that writes, so two
    phones packing the same shipment cannot tick the same line twice (SQLite's IMMEDIATE
    transaction does the same)."""
    shipment_id = optional_row_id(raw)
    if shipment_id is None:
        return None
    # the lines and their order lines in two more queries, not one per line
    shipment = db.session.get(Shipment, shipment_id, with_for_update=lock,
                              options=[selectinload(Shipment.lines).selectinload(ShipmentLine.order_line)])
    # The loader's verdict (webapp/loading.py): out of scope reads like a missing row.
    if shipment is None or authorize(current_user, "shipment.manage", shipment) is Verdict.HIDDEN:
        return None
    return shipment
