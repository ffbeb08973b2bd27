"""Production, warehouse, purchasing and QC see quantities and dates, not prices and margins,
unless the firm's settings allow it; the commercial roles always see them."""
import pytest

from webapp.admin.models import get_settings
from webapp.extensions import db

from .helpers import text_of

PRICE = "12.34"  # a unit price that appears nowhere else on the page


@pytest.fixture
def order_id(make_order):
    """An order in feasibility review, priced so its money is easy to spot."""
    return make_order("in_review", quantity="2400", price=PRICE)


def money_shown(page: str) -> bool:
    """Whether the page shows the order's prices, total or margin."""
    return PRICE in page or "29,616" in page or "Margin" in page or "Revenue without tax" in page


@pytest.mark.parametrize("role", ["production", "warehouse", "qc", "purchasing"])
def test_floor_roles_see_quantities_and_dates_but_no_money(app, order_id, as_user, role):
    """The order page, the list and the requirement budget keep prices from these roles."""
    client = as_user(role)
    page = text_of(client.get(f"/orders/{order_id}"))
    assert "2,400" in page and not money_shown(page), role
    assert PRICE not in text_of(client.get("/orders/")) and "29,616" not in text_of(client.get("/orders/"))
    assert client.get(f"/orders/{order_id}/confirmation").status_code == 403


@pytest.mark.parametrize("role", ["production", "warehouse"])
def test_floor_roles_compare_versions_without_money(app, make_order, as_user, role):
    """A numbered order's versions are linked for them too; the money in the comparison is "not shown"."""
    order_id = make_order("awaiting_countersign", quantity="2400", price=PRICE)
    client = as_user(role)
    assert f"/orders/{order_id}/versions" in text_of(client.get(f"/orders/{order_id}"))
    page = text_of(client.get(f"/orders/{order_id}/versions"))
    assert "not shown" in page and "29,616" not in page


@pytest.mark.parametrize("role", ["sales", "finance", "manager", "operations"])
def test_commercial_roles_see_prices(app, order_id, as_user, role):
    """Sales, finance, managers and operations see the prices (finance also the margin)."""
    page = text_of(as_user(role).get(f"/orders/{order_id}"))
    assert PRICE in page and "29,616" in page, role


def test_the_firm_can_let_everyone_see_prices(app, order_id, as_user):
    """With the setting on, the production reviewer sees prices and margin as finance does."""
    with app.app_context():
        get_settings().prices_for_all_staff = True
        db.session.commit()
    page = text_of(as_user("production").get(f"/orders/{order_id}"))
    assert PRICE in page and "Margin" in page


def test_the_setting_is_saved_from_the_settings_page(app, as_user):
    """The admin switches it on the settings page; the change is kept."""
    admin = as_user("admin")
    page = text_of(admin.get("/admin/settings"))
    assert "see prices and margins" in page
    form = {name: value for name, value in [
        ("firm_name", "Demo"), ("timezone", "Asia/Shanghai"), ("currency", "CNY"), ("tax_rate", "13"),
        ("reviews", "production"), ("finance_approval_threshold", "0"), ("number_pattern", "{yyyy}{mm}-{abbr}-{seq:03d}"),
        ("weekly_capacity", "1000"), ("retention_years", "10"), ("calendar_country", "CN"),
        ("prices_for_all_staff", "y")]}
    response = admin.post("/admin/settings", data=form)
    assert response.status_code in (200, 303), text_of(response)[:300]
    with app.app_context():
        assert get_settings().prices_for_all_staff is True


def test_the_timeline_keeps_payment_amounts_from_floor_roles(app, make_order, as_user):
    """A payment on the order's timeline shows its amount to finance and not to production or the
    warehouse (the timeline is open to every office role)."""
    order_id = make_order("awaiting_countersign", quantity="2400", price=PRICE, prepayment_pct="30")
    finance = as_user("finance")
    response = finance.post(f"/orders/{order_id}/payments",
                            data={"kind": "deposit", "amount": "7,654.32", "received_on": "2026-11-27"})
    assert response.status_code in (200, 303), text_of(response)[:300]
    assert "7,654.32" in text_of(finance.get(f"/orders/{order_id}/timeline"))
    for role in ("production", "warehouse"):
        page = text_of(as_user(role).get(f"/orders/{order_id}/timeline"))
        assert "Deposit" in page or "deposit" in page.lower(), role  # the payment is on the story…
        assert "7,654.32" not in page and "7654.32" not in page, role  # …without its amount
