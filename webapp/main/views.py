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


# Orders a search shows, newest first.
SEARCH_SHOWN = 30
# Up to this many matching customers, each one's newest orders are read from its own index range (a
# customer with few orders among years of others' is found without walking the others); past it the
# matches are common, and one newest-first walk over all orders meets SEARCH_SHOWN of them soon.
CUSTOMERS_APART = 20
# Above every character: q + TOP bounds the strings that start with q.
TOP = "\U0010ffff"


def _starts_with(column, q: str):
    """lower(column) starts with q: a range the lower(column) index answers (SQLite uses no
    expression index for LIKE), with the LIKE kept so the range's collation never adds a row."""
    lowered = db.func.lower(column)
    if db.session.get_bind().dialect.name == "postgresql":
        # In the index's collation (migration 4a8d2f6c1e73): byte order, whatever the database's own.
        lowered = lowered.collate("C")
    return db.and_(lowered >= q, lowered < q + TOP, lowered.startswith(q, autoescape=True))


def _names_the_customer(q: str):
    """The customer's name or abbreviation holds q (lower case; a typed % or _ is looked for as itself)."""
    return db.or_(db.func.lower(Customer.name).contains(q, autoescape=True),
                  db.func.lower(Customer.abbreviation).contains(q, autoescape=True))


def search_orders(user, q: str) -> list[Order]:
    """The SEARCH_SHOWN newest orders user may see whose customer's name or abbreviation holds q,
    or whose number or customer PO number starts with q, or failing a page of those, holds q (q
    lower-cased). Each way is asked through
    its own index for its newest few and the few are merged, so a search costs the same however
    many orders the firm has: the customers are matched first (a small table), then their orders by
    customer id; numbers by prefix (a number's fragment is its month, or the whole number, and its
    customer's abbreviation matches by the customer)."""
    customer_ids = db.session.scalars(db.select(Customer.id).where(
        scope_customers(user, Customer.id), _names_the_customer(q))).all()
    scoped = scope_customers(user, Order.customer_id)

    def newest(*conditions):
        part = (db.select(Order.id, Order.created_at).where(scoped, *conditions)
                .order_by(Order.created_at.desc(), Order.id.desc()).limit(SEARCH_SHOWN).subquery())
        return db.select(part.c.id, part.c.created_at)

    ways = [newest(_starts_with(Order.number, q)), newest(_starts_with(Order.customer_po, q))]
    if len(customer_ids) <= CUSTOMERS_APART:
        ways += [newest(Order.customer_id == customer_id) for customer_id in customer_ids]
    else:
        ways.append(newest(Order.customer_id.in_(customer_ids)))
    found = _newest_of(ways)
    orders = _orders(found)
    by_prefix = any((o.number or "").lower().startswith(q) or (o.customer_po or "").lower().startswith(q) for o in orders)
    if len(found) < SEARCH_SHOWN and not by_prefix:
        # Fewer than a page by those ways, and no number starting so: a fragment inside a number or a PO number ("SZHD-001", the
        # "77120" of "ACME-77120") must still find its order. This reads every number: on SQLite
        # through the columns' narrow indexes (a covering scan, ~0.3 µs an order), on PostgreSQL the
        # table itself (~66 ms at 100,000 orders); tens of milliseconds either way, and only for a
        # query nothing else answered. A trigram index would make it constant (docs/decisions.md).
        ways += [newest(Order.id.in_(db.select(Order.id).where(db.func.lower(column).contains(q, autoescape=True))))
                 for column in (Order.number, Order.customer_po)]
        orders = _orders(_newest_of(ways))
    return orders


def _orders(ids: list[int]) -> list[Order]:
    """The orders of ids with their customers, newest first."""
    if not ids:
        return []
    return db.session.scalars(db.select(Order).where(Order.id.in_(ids)).options(joinedload(Order.customer))
                              .order_by(Order.created_at.desc(), Order.id.desc())).all()


def _newest_of(ways) -> list[int]:
    """The SEARCH_SHOWN newest ids of the union of ways (each a select of id and created_at)."""
    found = db.union(*ways).subquery()
    return db.session.scalars(db.select(found.c.id).order_by(found.c.created_at.desc(), found.c.id.desc())
                              .limit(SEARCH_SHOWN)).all()


@bp.get("/search")
@login_required
@requires("order.view")
def search():
    """Find orders by number, customer or customer PO number, and requirements by customer."""
    q = request.args.get("q", "").strip()[:100]
    orders, requirements = [], []
    if q:
        lowered = q.lower()
        orders = search_orders(current_user, lowered)
        requirements = db.session.scalars(
            db.select(Requirement).join(Requirement.customer).where(
                scope_customers(current_user, Requirement.customer_id), db.or_(
                _names_the_customer(lowered), db.func.lower(Requirement.product).contains(lowered, autoescape=True),
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
