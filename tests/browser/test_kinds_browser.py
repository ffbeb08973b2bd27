"""Issue 13's other two kinds of firm on a Chinese phone (390×844): the client of a service project
accepts on their phone with one deliverable rejected first (a rejection without a comment comes back
with the message, the signature kept), staff rework it, everything accepted shows the signed copy and
its PDF; and a retail order entered at the counter ("1,500" of a stock item) ships from stock."""
import re
from decimal import Decimal

from playwright.sync_api import expect

from webapp.extensions import db
from webapp.orders.models import Order
from webapp.projects.models import Deliverable
from webapp.customers.models import Product
from webapp.shipping.models import Shipment

from ..helpers import customer_path
from ..test_projects import make_project  # noqa: F401  (the fixture)
from .test_closing_browser import log_in
from .test_field_browser import assert_fits
from .test_order_desk_browser import draw_signature


def test_project_accepted_on_a_phone_with_one_rejected_first(app, live_server, browser, browser_context_args,
                                                             browser_problems, make_project, shoot):
    order_id, sales = make_project()
    with app.app_context():
        first, second, third = [d.id for d in db.session.scalars(
            db.select(Deliverable).where(Deliverable.order_id == order_id).order_by(Deliverable.position))]
    link = live_server + customer_path(app, "project_acceptance", order_id)
    context = browser_problems.watch(browser.new_context(**{**browser_context_args, "locale": "zh-CN"}))
    try:
        page = context.new_page()
        page.goto(link)
        expect(page.get_by_role("heading", level=1)).to_contain_text("验收")
        assert_fits(page)
        page.locator(f"input[name=decision-{first}][value=accept]").check()
        page.locator(f"input[name=decision-{second}][value=reject]").check()
        page.locator("#name").fill("李经理")
        draw_signature(page)
        page.locator("#sign-form input[name=consent]").check()
        shoot(page, "project-zh-accept-form")
        page.locator("#sign-form button[type=submit]").click()  # the rejection without a comment
        expect(page.locator(".error-summary")).to_be_visible()
        expect(page.locator(f"#comment-{second}-err")).to_have_text("验收不通过时，请说明问题。")
        expect(page.locator(f"input[name=decision-{second}][value=reject]")).to_be_checked()
        expected = [item for item in browser_problems.items if "422" in item]
        for item in expected:
            browser_problems.items.remove(item)
        page.locator(f"#comment-{second}").fill("会议纪要缺少行动项清单")
        page.locator("#sign-form input[name=consent]").check()
        page.locator("#sign-form button[type=submit]").click()
        expect(page.locator("main")).to_contain_text("谢谢")
        expect(page.locator(f"#deliverable-{first}")).to_contain_text("已验收")
        expect(page.locator(f"#deliverable-{second}")).to_contain_text("返工")
        assert_fits(page)
        shoot(page, "project-zh-one-rejected")

        # staff rework it and hand it over again; the client accepts the rest on the same link
        assert sales.post(f"/projects/{order_id}/deliverables/{second}/hand-over",
                          data={f"h{second}-note": "已补充 18 项行动项"}).status_code == 303
        page.goto(link)
        page.locator(f"input[name=decision-{second}][value=accept]").check()
        page.locator(f"input[name=decision-{third}][value=accept]").check()
        page.locator("#name").fill("李经理")
        draw_signature(page)
        page.locator("#sign-form input[name=consent]").check()
        page.locator("#sign-form button[type=submit]").click()
        expect(page.get_by_role("heading", name="谢谢")).to_be_visible()
        expect(page.locator("main")).to_contain_text("会议纪要缺少行动项清单")
        assert_fits(page)
        shoot(page, "project-zh-accepted-copy")
        with page.expect_download() as download:
            page.get_by_role("link", name=re.compile("PDF")).click()
        assert download.value.suggested_filename.endswith(".pdf")
        browser_problems.check(page)
    finally:
        context.close()
    with app.app_context():
        assert db.session.get(Order, order_id).status == "delivered"


def test_retail_order_at_the_counter_ships_from_stock(app, live_server, open_context, browser_problems,
                                                      make_user, make_product, shoot):
    product_id = make_product("GEAR-45", on_hand="2000", price="38.00")
    make_user("sales", "warehouse", username="counter", name="柜台 小王", locale="zh")
    context = open_context()
    try:
        page = context.new_page()
        page.set_extra_http_headers({"Accept-Language": "zh-CN"})
        log_in(page, live_server, "counter")
        page.goto(live_server + "/retail/new")
        expect(page.get_by_role("heading", level=1)).to_have_text("新建零售单")
        options = page.locator("#items-0-product_id option")
        expect(options.nth(1)).to_contain_text("库存 2,000")
        page.locator("#name").fill("张先生")
        page.locator("#phone").fill("13800001111")
        page.locator("#address").fill("杭州市西湖区文三路 1 号")
        page.locator("#items-0-product_id").select_option(str(product_id))
        page.locator("#items-0-quantity").fill("1,500")
        assert_fits(page)
        shoot(page, "retail-zh-counter-form")
        page.locator("form button.wide[type=submit]").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("零售单")
        expect(page.locator("main")).to_contain_text("已保存")
        assert_fits(page)
        shoot(page, "retail-zh-order")
        page.locator("main a[href*='/shipping/']").first.click()
        expect(page.locator("main")).to_contain_text("GEAR-45")
        browser_problems.check(page)
    finally:
        context.close()
    with app.app_context():
        order = db.session.scalars(db.select(Order).where(Order.kind == "retail")).one()
        assert order.status == "effective" and order.lines[0].quantity == Decimal("1500")
        shipment = db.session.scalars(db.select(Shipment).where(Shipment.order_id == order.id)).one()
        assert shipment.lines[0].from_stock
        assert db.session.get(Product, product_id).on_hand == Decimal("500")
