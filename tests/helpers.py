"""Helpers for tests: read links and ids out of pages and the database; small real images."""
import io
import json
import re

from PIL import Image

from webapp import links
from webapp.extensions import db

SIGNATURE = json.dumps([{"points": [{"x": 10 + i * 4, "y": 40 + (i % 7) * 3, "time": i, "pressure": 0.5}
                                    for i in range(30)]}])


def unhashed(name: str) -> str:
    """A static name or URL without its content hash (webapp/assets.py): 'js/ui.1a2b3c4d.js' → 'js/ui.js'."""
    return re.sub(r"\.[0-9a-f]{8}(\.[A-Za-z0-9]+)$", r"\1", name)


def image_bytes(fmt: str = "JPEG", size=(40, 30), colour=(200, 30, 30), exif=None) -> bytes:
    """A small real image of one colour (a JPEG unless fmt says otherwise), with EXIF when given."""
    out = io.BytesIO()
    image = Image.new("RGB", size, colour)
    if exif is not None:
        image.save(out, fmt, exif=exif)
    else:
        image.save(out, fmt)
    return out.getvalue()


def jpeg_bytes(colour=(200, 30, 30), size=(40, 30)) -> bytes:
    """A small real JPEG (a phone's photo as far as the upload checks go)."""
    return image_bytes("JPEG", size, colour)


def jpeg_file(size=(40, 30), colour=(200, 30, 30)) -> io.BytesIO:
    """A small real JPEG as an open file, for a test client's multipart form."""
    return io.BytesIO(jpeg_bytes(colour, size))


def customer_path(app, purpose: str, object_id: int) -> str:
    """The path of the live customer link for an object (what the customer's phone opens)."""
    with app.app_context(), app.test_request_context():
        link = links.current(purpose, object_id)
        assert link is not None, f"no live {purpose} link for {object_id}"
        return "/c/" + link.token


def order_form(**overrides) -> dict:
    """Form data for an order with one line."""
    data = {
        "customer_po": "PO-1", "delivery_date": "2026-12-20", "currency": "CNY", "tax_rate": "13",
        "prepayment_pct": "30", "credit_days": "30", "delivery_method": "delivery",
        "delivery_place": "Shanghai", "breach_liability": "0.5% per week",
        "lines-0-model": "BRK-1", "lines-0-quantity": "100", "lines-0-unit": "pcs",
        "lines-0-unit_price": "10.00", "lines-0-customer_part_no": "C-1", "lines-0-drawing_rev": "A",
    }
    data.update(overrides)
    return data


def requirement_form(customer_id: int, **overrides) -> dict:
    """Form data for a requirement record."""
    data = {
        "customer_id": str(customer_id), "product": "Stainless bracket", "product_id": "0",
        "specs": "304, 2 mm", "quantity": "100", "unit": "pcs", "expected_date": "2026-12-20",
        "budget_min": "900", "budget_max": "1200", "priority": "urgent",
        "special_requirements": "Pack in tens", "contact_email": "buyer@example.com",
    }
    data.update(overrides)
    return data


def text_of(response) -> str:
    """The response body as text."""
    return response.get_data(as_text=True)


def id_from_location(response) -> int:
    """The trailing id in a redirect's Location."""
    return int(re.search(r"/(\d+)(?:/|$)", response.headers["Location"]).group(1))


def get(app, model, object_id):
    """Load a row in a fresh session."""
    with app.app_context():
        obj = db.session.get(model, object_id)
        db.session.expunge_all()
        return obj


def count(app, model) -> int:
    """How many rows model has."""
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model))


def error_of(page: str, field: str) -> str:
    """The error text shown under one field of a rendered form ('' when there is none)."""
    match = re.search(rf'<p class="error" id="{field}-err">(.*?)</p>', page, re.S)
    return match.group(1) if match else ""


def make_and_pass_qc(app, order_id: int, maker_id: int, inspector_id: int) -> None:
    """Setup through the real services: report what each work order of the order still lacks,
    finish it and pass QC (only QC-passed goods of made-to-order lines may ship)."""
    from decimal import Decimal
    from webapp.auth.models import User
    from webapp.production import services as floor
    from webapp.production.models import WorkOrder
    with app.app_context(), app.test_request_context("/", method="POST"):
        maker, inspector = db.session.get(User, maker_id), db.session.get(User, inspector_id)
        for work_order in db.session.scalars(db.select(WorkOrder).where(WorkOrder.order_id == order_id)):
            if work_order.remaining:
                floor.report(work_order, maker, work_order.remaining, Decimal("0"), "", [])
            floor.move(work_order, "finish", maker)
            floor.move(work_order, "pass_qc", inspector)
        db.session.commit()


def at_once(app, people, posts) -> list:
    """Send each (path, data) of posts at the same moment, each from its own client logged in as
    people (one username for all, or one each); the response statuses, in the order of posts."""
    import threading

    from .conftest import login
    names = [people] * len(posts) if isinstance(people, str) else list(people)
    clients = []
    for name in names:
        client = app.test_client()
        assert login(client, name).status_code == 303
        clients.append((client, client.csrf_token()))
    barrier = threading.Barrier(len(posts))
    statuses = [None] * len(posts)

    def send(index):
        client, token = clients[index]
        path, data = posts[index]
        barrier.wait()
        statuses[index] = client.post(path, csrf=False, data={**data, "csrf_token": token}).status_code

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(posts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses
