"""What the benchmark requests, found in (or added to) a generated database: the pages per role,
the worker's label page, the customer's and courier's links, and the phone credential the outbox
replays with. Runs in the app's context on the database under test (never the firm's own)."""
from webapp.extensions import db

# A stocking work order made for the bench: large enough that every "+1" post of a run is accepted
# (a report beyond what is left to make is refused, which would time the refusal instead).
BENCH_PURPOSE = "benchmark: +1 posts"
WORKER = "huang.xm"


def _user(username: str):
    from webapp.auth.models import User
    return db.session.scalar(db.select(User).where(User.username == username))


def bench_work_order():
    """The bench's stocking work order for the demo worker (made once per database), started."""
    from webapp.production import services as production
    from webapp.production.models import Product, WorkOrder
    found = db.session.scalar(db.select(WorkOrder).where(WorkOrder.purpose == BENCH_PURPOSE))
    if found is not None:
        return found
    worker, supervisor = _user(WORKER), _user("zhang.wei")
    # A product without a routing: its work order takes reports on the label page itself.
    product = db.session.scalar(db.select(Product).where(Product.model == "PIN-08"))
    work_order = production.create_stocking(product, production.MAX_STOCKING, None, BENCH_PURPOSE,
                                            supervisor, owner=worker)
    db.session.commit()
    return work_order


def phone_device():
    """A phone outbox credential for the demo worker: (device id, secret, worker id)."""
    from webapp.sync import replay, services
    worker = _user(WORKER)
    device, secret = services.create_device(worker, "benchmark phone")
    replay.enrol(device, worker)
    db.session.commit()
    return device.id, secret, worker.id


def live_link(purpose: str) -> str | None:
    """The path of a live customer link with this purpose (/c/<token>), or None."""
    from webapp.links import AccessLink
    from webapp.wallclock import utcnow
    link = db.session.scalar(db.select(AccessLink).where(
        AccessLink.purpose == purpose, AccessLink.revoked_at.is_(None), AccessLink.used_at.is_(None),
        AccessLink.expires_at > utcnow()).order_by(AccessLink.id))
    return f"/c/{link.token}" if link is not None else None


def find() -> dict:
    """Everything the run needs, as plain values (paths, ids, credentials)."""
    from webapp.orders.models import Order
    from webapp.shipping.models import Shipment
    work_order = bench_work_order()
    device_id, secret, worker_id = phone_device()
    # The demo's own objects, lowest ids first: the large databases add history after the demo, and
    # large ÷ demo compares the same order, link and shipment at both sizes.
    order = db.session.scalar(db.select(Order).where(Order.status == "in_production").order_by(Order.id))
    packing = db.session.scalar(db.select(Shipment).where(Shipment.status == "packing").order_by(Shipment.id))
    return {
        "worker_page": f"/w/{work_order.token}",
        "work_order_id": work_order.id,
        "device": {"id": device_id, "secret": secret, "actor": worker_id},
        "order_page": f"/orders/{order.id}",
        "search": "/search?q=acme",
        "tracking": live_link("order_service"),
        "courier": live_link("courier"),
        "signing": live_link("delivery_receipt"),
        "packing": f"/shipping/{packing.id}" if packing is not None else None,
    }
