"""A stocking instruction (备货指令) raised on a phone in Chinese: the supervisor picks the product,
types "2,000", picks the day, and lands on the new work order's page for the floor, marked as stock;
the list shows it with its reason."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from webapp.extensions import db
from webapp.i18n import firm_today
from webapp.production.models import RoutingStep, WorkOrder

from .test_daily_sheet_browser import log_in_zh
from .test_field_browser import assert_fits

pytestmark = pytest.mark.browser


def test_a_supervisor_raises_a_stocking_instruction_on_a_phone(app, live_server, context, browser_problems, shoot,
                                                                 make_user, make_product):
    make_user("production", username="boss", name="王主管", locale="zh")
    product_id = make_product("KIT-9", on_hand="0")
    with app.app_context():
        db.session.add(RoutingStep(product_id=product_id, position=10, name="下料"))
        db.session.commit()
        due = firm_today() + timedelta(days=20)
    page = context.new_page()
    log_in_zh(page, live_server, "boss")
    page.goto(f"{live_server}/production/stocking")
    expect(page.get_by_role("heading", level=1)).to_have_text("备货指令")
    assert_fits(page)
    page.get_by_label("产品").select_option(str(product_id))
    page.get_by_label("数量").fill("2,000")
    page.get_by_label("入库日期").fill(due.isoformat())
    page.get_by_label("原因（安全库存、预测、框架订单……）").fill("安全库存")
    shoot(page, "stocking-new-390-zh")
    page.get_by_role("button", name="下达备货指令").click()
    with app.app_context():
        year = firm_today().year
    expect(page.get_by_role("heading", level=1)).to_have_text(f"BH-{year}-0001")
    expect(page.locator(".floor")).to_contain_text("备货（备货指令）")
    expect(page.locator(".floor")).to_contain_text("安全库存")
    assert_fits(page)
    shoot(page, "stocking-floor-390-zh")
    page.get_by_role("link", name="流程卡").click()  # the card that travels with the parts
    expect(page.locator("body")).to_contain_text("下料")
    page.go_back()
    with app.app_context():
        row = db.session.scalar(db.select(WorkOrder))
        assert row.order_id is None and row.quantity == 2000
    page.goto(f"{live_server}/production/stocking")
    expect(page.locator("ul.list").first).to_contain_text("安全库存")
