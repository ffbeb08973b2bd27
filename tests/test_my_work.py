"""'My work' says what and whose: the order's number (never the database id), the customer, what is
due and by when; a line-stopping anomaly comes first and says so in words. The order list filters by
every state of the order machine."""
import re
from datetime import date, timedelta
from decimal import Decimal

from webapp.aftersales.models import FollowUp, Ticket
from webapp.auth.models import User
from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.orders import lifecycle
from webapp.orders.models import Order
from webapp.production import services as floor

from .helpers import text_of

NUMBER = r"20\d{4}-ORD-\d{3}"


def items(html: str) -> list[str]:
    """The work list's items as plain text, in order."""
    work = html[html.index('<ul class="list work">'):]
    work = work[:work.index("</ul>")]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", li)).strip() for li in re.findall(r"<li.*?</li>", work, re.S)]


def test_a_blocking_anomaly_comes_first_in_words_with_number_customer_and_new_date(app, make_order, as_user):
    order_id = make_order("in_production", delivery_date=date(2026, 12, 20))
    production = as_user("production")
    with app.app_context(), app.test_request_context("/", method="POST"):
        order = db.session.get(Order, order_id)
        user = db.session.get(User, production.user_id)
        work_order = order.work_orders[0]
        floor.raise_anomaly(work_order, user, "equipment_failure", "minor", "Belt squeaks", "", None, "", [])
        floor.raise_anomaly(work_order, user, "material_shortage", "blocking", "No 304 sheet left", "Buy from B",
                            date(2027, 1, 8), "Sheet arrives late", [])
        db.session.commit()
        number, wo_number = order.number, work_order.number
    html = text_of(production.get("/"))
    listed = items(html)
    assert listed[0].startswith("Line stopped Anomaly to resolve"), listed
    assert wo_number.startswith(number)  # the work order's number carries the order's: no need to repeat it
    assert f"{wo_number} · ORD Ltd" in listed[0] and "No 304 sheet left" in listed[0]
    assert "new date Jan 8, 2027" in listed[0]
    assert 'class="act blocking"' in html  # framed in red, besides the words
    minor = [item for item in listed if "Belt squeaks" in item]
    assert minor and "Line stopped" not in minor[0] and minor[0].startswith("Anomaly to resolve")
    assert len([item for item in listed if item.startswith("Line stopped")]) == 1
    assert not re.search(r"#\d", " ".join(listed))


def test_unnumbered_orders_are_named_by_po_and_delivery(app, make_order, as_user):
    order_id = make_order("in_review", delivery_date=date(2026, 12, 20))
    with app.app_context():
        db.session.get(Order, order_id).customer_po = "PO-4711"
        db.session.commit()
    listed = items(text_of(as_user("production").get("/")))
    assert listed == ["Feasibility sign-off needed (Production) PO PO-4711 · ORD Ltd delivery Dec 20, 2026 · since "
                      + listed[0].split(" · since ")[1]]


def test_aftersales_items_show_the_order_number_customer_and_deadline(app, make_order, as_user):
    order_id = make_order("in_production")
    aftersales = as_user("aftersales")
    now = utcnow()
    with app.app_context():
        order = db.session.get(Order, order_id)
        number = order.number
        db.session.add(FollowUp(order_id=order_id, receipt_at=now - timedelta(days=4), due_at=now - timedelta(days=1),
                                assignee_id=aftersales.user_id))
        db.session.add(Ticket(order_id=order_id, subject="Two scratched", first_response_due_at=now + timedelta(hours=20)))
        db.session.commit()
    listed = items(text_of(aftersales.get("/")))
    follow = [item for item in listed if item.startswith("Follow-up call")]
    ticket = [item for item in listed if item.startswith("Answer the ticket")]
    assert follow and f"{number} · ORD Ltd" in follow[0] and "Overdue: due by" in follow[0], listed
    assert ticket and f"{number} · ORD Ltd" in ticket[0] and "Two scratched" in ticket[0] and "due by" in ticket[0]
    assert "Overdue" not in ticket[0]
    assert not re.search(r"#\d", " ".join(listed))


def test_order_list_has_a_chip_for_every_state_with_the_current_one_marked(app, make_order, as_user):
    sales = as_user("sales")
    html = text_of(sales.get("/orders/?status=shipped", headers={"Accept-Language": "zh-CN"}))
    chips = re.findall(r'<a href="/orders/(?:\?status=(\w+))?" ?(aria-current="true")?>([^<]+)</a>',
                       html[html.index('<nav class="chips"'):])
    assert [state for state, _, _ in chips] == ["", *lifecycle.STATES]
    assert [label for _, current, label in chips if current] == ["已发货"]
    labels = dict((state, label) for state, _, label in chips)
    assert labels["delivered"] == "已签收" and labels["closed"] == "已结案" and labels[""] == "全部"
    # an unknown status filters nothing and marks "All"
    html = text_of(sales.get("/orders/?status=nonsense"))
    assert re.search(r"<a href=\"/orders/\" ?aria-current=\"true\">All</a>", html)
