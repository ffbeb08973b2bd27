"""The home page (my work), search and the health check."""
from flask import current_app, request
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from ..auth import floor
from ..auth import is_floor
from ..customers import Customer
from ..extensions import db
from ..pwa import keep_offline
from ..htmx import render
from ..customers import scope_customers
from ..orders import Order
from ..permissions import requires
from ..requirements import Requirement
from . import bp
from .work import collect


@bp.get("/")
@login_required
def home():
    """Show what waits for the current user's roles, oldest first, and the search box."""
    keep_offline()
    work = collect(current_user)
    items, more = work.items, work.more
    if is_floor():  # a floor phone opens worker pages only: no links it would refuse
        items = [item for item in items if floor.opens(item.url)]
        more = [link for link in more if link.url and floor.opens(link.url)]
    return render("main/home.html", items=items, more=more)


@bp.get("/search")
@login_required
@requires("order.view")
def search():
    """Find orders by number, customer or customer PO number, and requirements by customer."""
    q = request.args.get("q", "").strip()[:100]
    orders, requirements = [], []
    if q:
        like = f"%{q.lower()}%"
        orders = db.session.scalars(
            db.select(Order).join(Order.customer).where(scope_customers(current_user, Order.customer_id), db.or_(
                db.func.lower(Order.number).like(like),
                db.func.lower(Order.customer_po).like(like),
                db.func.lower(Customer.name).like(like),
                db.func.lower(Customer.abbreviation).like(like),
            )).options(joinedload(Order.customer)).order_by(Order.created_at.desc()).limit(30)).all()
        requirements = db.session.scalars(
            db.select(Requirement).join(Requirement.customer).where(
                scope_customers(current_user, Requirement.customer_id), db.or_(
                db.func.lower(Customer.name).like(like),
                db.func.lower(Customer.abbreviation).like(like),
                db.func.lower(Requirement.product).like(like),
            )).options(joinedload(Requirement.customer))
            .order_by(Requirement.created_at.desc()).limit(30)).all()
    return render("main/search.html", "results", q=q, orders=orders, requirements=requirements)


@bp.get("/healthz")
def health():
    """Answer 200 when the app and its database are up, 503 when the database cannot be reached
    (public, and says nothing but that: a load balancer or monitor polls it)."""
    try:
        db.session.execute(db.text("SELECT 1"))
    except Exception:  # noqa: BLE001 (any failure of the database is "not healthy", never a 500)
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 (the connection is gone: nothing to roll back)
            pass
        current_app.logger.exception("health check: the database did not answer")
        return {"status": "unavailable"}, 503, {"Retry-After": "10", "Cache-Control": "no-store"}
    return {"status": "ok"}, 200, {"Cache-Control": "no-store"}
