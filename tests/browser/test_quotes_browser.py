"""A quotation (报价) from a confirmed requirement on a phone in Chinese: the Quote button on the
requirement, the form prefilled, "2,000" typed, the estimate with its sources, a missing rate named
and sending refused, then typed by hand, sent, and the customer's acceptance making the order."""
import re
import shutil
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import expect

from webapp.costing.quote_models import Quote
from webapp.extensions import db
from webapp.orders.models import Order
from webapp.production.models import WorkCentre

from ..conftest import PASSWORD
from ..test_quotes import bracket  # noqa: F401  (the hand-checked product and its confirmed requirement)
from .conftest import SCREENSHOTS
from .test_field_browser import assert_fits

WALK = Path("/work/walk/shots")


def log_in(page, base: str, username: str) -> None:
    """Log in through the login form as a person who reads Chinese."""
    page.goto(base + "/login")
    page.get_by_label(re.compile("Username|用户名")).fill(username)
    page.get_by_label(re.compile("Password|密码")).fill(PASSWORD)
    page.locator("form button.wide[type=submit]").click()
    expect(page.get_by_role("heading", name="我的待办", level=1)).to_be_visible()


def keep(shoot, page, name: str) -> None:
    """A screenshot for people to look at (SCREENSHOTS=1), also copied to the walk-through folder."""
    path = shoot(page, f"quotes-{name}")
    if path is not None and WALK.parent.exists():
        WALK.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, WALK / path.name)


def test_a_quotation_from_a_requirement_on_a_phone_in_chinese(app, bracket, live_server, context,  # noqa: F811
                                                              browser_problems, shoot, make_user):
    base = live_server
    make_user("sales", username="xiao.li", name="李销售", locale="zh")
    with app.app_context():  # the cutting cell has lost its rate: the estimate must say so
        db.session.get(WorkCentre, bracket["cnc_id"]).hourly_rate = Decimal("0")
        db.session.commit()
    page = context.new_page()
    log_in(page, base, "xiao.li")
    page.goto(f"{base}/requirements/{bracket['requirement_id']}")
    page.get_by_role("link", name="报价", exact=True).click()
    expect(page.get_by_role("heading", name="新建报价", level=1)).to_be_visible()
    expect(page.get_by_label("型号")).to_have_value("WB-20")
    expect(page.get_by_label("数量")).to_have_value("2000")
    page.get_by_label("数量").fill("2,000")
    page.get_by_text("手工成本估算").click()  # folded away until needed
    page.locator("#typed_logistics").fill("500")
    page.locator("#note_logistics").fill("两托盘发苏州")
    assert_fits(page)
    keep(shoot, page, "01-new-from-requirement")
    page.get_by_role("button", name="保存并估算").click()

    expect(page.get_by_role("heading", name=re.compile(r"报价单 QT-\d{4}-0001"), level=1)).to_be_visible()
    missing = page.locator("#missing")
    expect(missing).to_contain_text("WB-20 的工序“Cut”既无计件单价，也无工作中心小时工价。")
    expect(page.get_by_text("¥24,000.00").first).to_be_visible()  # direct material still computed
    assert_fits(page)
    keep(shoot, page, "02-missing-rate")
    page.get_by_role("button", name="标记为已发给客户").click()
    expect(page.locator("#missing")).to_contain_text("既无计件单价")  # refused (409), the page says why
    expected = [item for item in browser_problems.items if "409" in item]
    assert len(expected) == 1, browser_problems.items
    browser_problems.items.remove(expected[0])
    with app.app_context():
        assert db.session.scalar(db.select(Quote.status)) == "draft"

    page.get_by_role("link", name="编辑", exact=True).click()
    page.locator("#typed_labour").fill("9,000")
    page.locator("#note_labour").fill("切割按 60 元/小时（设备组长确认）")
    page.get_by_role("button", name="保存并估算").click()
    expect(page.locator("#missing")).to_have_count(0)
    expect(page.get_by_text("¥36,150.00").first).to_be_visible()
    expect(page.get_by_text("¥24.10").first).to_be_visible()
    page.get_by_text("直接材料的来源").click()
    expect(page.get_by_text("移动加权平均价").first).to_be_visible()
    assert_fits(page)
    keep(shoot, page, "03-estimate-complete")
    page.get_by_role("button", name="标记为已发给客户").click()
    expect(page.locator(".badge.s-sent")).to_be_visible()
    page.locator("#accept-note").fill("客户邮件确认")
    page.get_by_role("button", name="客户已接受：起草订单").click()
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    expect(page.get_by_role("link", name=re.compile(r"QT-\d{4}-0001"))).to_be_visible()
    assert_fits(page)
    keep(shoot, page, "04-order-from-quotation")
    with app.app_context():
        order = db.session.scalar(db.select(Order))
        assert order.lines[0].unit_price == Decimal("24.10") and order.budget_labour == Decimal("9000.00")
    page.goto(f"{base}/costing/quotes")
    expect(page.get_by_role("heading", name="报价单", level=1)).to_be_visible()
    assert_fits(page)
    keep(shoot, page, "05-list")
    browser_problems.check(page)
    assert SCREENSHOTS  # where shoot() keeps them
