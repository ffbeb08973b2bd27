"""Issue 13 in Chromium, on phones, in Chinese: an exchange from the damage the customer reports on the
receipt page to the replacement they sign for. Customer care starts the case, books the collection
with a carrier (the select shows its record) and a window; the return's courier confirms the
collection on their link; the goods are inspected with a photo; a replacement shipment is made,
packed and dispatched; the customer signs for it on the same receipt page and the case closes."""
import re
import time

import pytest
from playwright.sync_api import expect

from webapp.extensions import db
from webapp.orders.models import OrderLine
from webapp.shipping.models import Carrier, ReturnCase, Shipment

from ..helpers import jpeg_bytes
from ..test_shipping import link_path, new_shipment, packed
from .test_closing_browser import log_in
from .test_field_browser import assert_fits
from .test_order_desk_browser import draw_signature


def sign(page, base, path, *, damaged: bool):
    """The customer signs on the receipt page (a damaged line with a note when damaged)."""
    page.goto(base + path + "/receipt")
    expect(page.locator("h1")).to_contain_text("签收")
    if damaged:
        page.locator("select[name$='-condition']").select_option("damaged")
        page.locator("input[name$='-note']").fill("外箱压扁，50 件齿面磕弯")
    page.locator("input[name=name]").fill("钱经理")
    draw_signature(page)
    page.locator("#sign-form input[type=checkbox][name=consent]").check()
    page.locator("#sign-form button[type=submit]").click()


def wait_for(app, check, what: str):
    """Poll the database until check() holds (what reached the server, not what the page says)."""
    for _ in range(400):
        with app.app_context():
            if check():
                return
        time.sleep(0.05)
    raise AssertionError(what)


@pytest.mark.slow
def test_an_exchange_from_damage_reported_to_the_replacement_delivered(app, live_server, browser,
                                                                      browser_context_args, browser_problems, shoot,
                                                                      make_order, make_user, as_user, tmp_path):
    base = live_server
    contexts = []

    def open_context():
        """A phone (390 × 844) reading Chinese."""
        contexts.append(browser_problems.watch(browser.new_context(**{**browser_context_args, "locale": "zh-CN"})))
        return contexts[-1]
    order_id = make_order("ready_to_ship", quantity="1200")
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
        db.session.add(Carrier(name="顺丰速运", code="SF", phone="95338"))
        db.session.commit()
    warehouse = as_user("warehouse")
    assert new_shipment(warehouse, order_id, line_id, "1,200").status_code == 303
    with app.app_context():
        shipment_id = db.session.scalar(db.select(Shipment.id))
    packed(app, warehouse, shipment_id)
    assert warehouse.post(f"/shipping/{shipment_id}/dispatch", data={"note": ""}).status_code == 303
    make_user("aftersales", username="amy", name="吴婷", locale="zh")

    # --- the customer reports the damage when signing, on their phone ----------------------------
    customer = open_context().new_page()
    sign(customer, base, link_path(app, "delivery_receipt", shipment_id), damaged=True)
    expect(customer.get_by_text(re.compile("很抱歉"))).to_be_visible()
    wait_for(app, lambda: db.session.scalar(db.select(ReturnCase.id)), "no return case opened")
    with app.app_context():
        case_id = db.session.scalar(db.select(ReturnCase.id))

    # --- customer care starts the case and books the collection ---------------------------------
    care = open_context().new_page()
    log_in(care, base, "amy")
    care.goto(f"{base}/shipping/{shipment_id}")
    care.locator("#returns textarea#action").fill("取回压坏的货，补发 1,200 件")
    care.locator("#returns").get_by_role("button", name="开始处理退换货").click()
    care.get_by_role("link", name="打开退换货单").first.click()
    expect(care.locator("h1")).to_contain_text("退换货单")
    booking = care.locator("form[action$='/collection']")
    select = booking.get_by_label("承运商或自有车辆")
    expect(select.locator("option", has_text="顺丰速运 · 暂无签收记录")).to_have_count(1)
    select.select_option(label="顺丰速运 · 暂无签收记录")
    booking.get_by_label("取件日期").fill("2026-12-03")
    booking.get_by_label("开始时间").fill("09:00")
    booking.get_by_label("结束时间").fill("12:00")
    booking.get_by_label("给取件员的备注").fill("2 号门卫处取件")
    assert_fits(care)
    shoot(care, "issue13-zh-return-book-collection")
    care.get_by_role("button", name="预约上门取件").click()
    expect(care.locator("p.flash")).to_contain_text("已预约上门取件")
    expect(care.get_by_text("取件链接")).to_be_visible()

    # --- the return's courier confirms the collection on their link ---------------------------
    courier = open_context().new_page()
    courier.goto(base + link_path(app, "return_pickup", case_id))
    expect(courier.locator("h1")).to_contain_text("退货取件")
    expect(courier.get_by_text("2 号门卫处取件")).to_be_visible()
    body = courier.locator("main").inner_text()
    assert "¥" not in body and "10.00" not in body  # no prices for the courier
    assert_fits(courier)
    shoot(courier, "issue13-zh-return-courier")
    courier.get_by_role("button", name="货物已取回").click()
    expect(courier.get_by_text("已确认取件，谢谢！")).to_be_visible()

    # --- inspected on arrival, with a photo -----------------------------------------------------
    care.reload()
    care.get_by_label("收回数量").fill("1,200")
    care.get_by_label("检验发现").fill("50 件齿面磕弯，其余外观良好；全部换新")
    photo = tmp_path / "returned.jpg"
    photo.write_bytes(jpeg_bytes(size=(1600, 1200)))
    care.locator("input[type=file][name='in-photos']").set_input_files(str(photo))
    care.get_by_role("button", name="记录检验结果").click()
    expect(care.get_by_role("heading", name="到货检验").first).to_be_visible()
    expect(care.locator("dl.facts")).to_contain_text("截止")

    # --- a replacement shipment -----------------------------------------------------------------
    care.get_by_text("安排补发").first.click()
    quantity = care.locator(f"input[name='qty-{line_id}']")
    expect(quantity).to_have_value("1200")  # what the customer found wrong, pre-filled
    care.get_by_role("button", name="生成补发发货单").click()
    expect(care.locator("h1")).to_contain_text("-R1")
    with app.app_context():
        replacement_id = db.session.scalar(db.select(Shipment.id).where(Shipment.return_case_id == case_id))
    packed(app, warehouse, replacement_id)
    assert warehouse.post(f"/shipping/{replacement_id}/dispatch", data={"note": ""}).status_code == 303

    # --- the customer signs for the replacement on the same receipt page --------------------------
    sign(customer, base, link_path(app, "delivery_receipt", replacement_id), damaged=False)
    expect(customer.get_by_role("heading", name="谢谢")).to_be_visible()
    wait_for(app, lambda: db.session.get(ReturnCase, case_id).status == "closed", "the case did not close")
    care.goto(f"{base}/shipping/returns/{case_id}")
    expect(care.locator("h1")).to_contain_text("已结案")
    expect(care.locator("dl.facts")).to_contain_text("已换货")
    assert_fits(care)
    shoot(care, "issue13-zh-return-closed-replaced")
    for page in (customer, care, courier):
        browser_problems.check(page)
    for context in contexts:
        context.close()
    with app.app_context():
        case = db.session.get(ReturnCase, case_id)
        assert case.outcome == "replaced" and case.received_qty == 1200
