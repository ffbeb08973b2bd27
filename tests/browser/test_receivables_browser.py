"""Finance on a phone, in Chinese, on the order page's 发票与收款 section: an invoice larger than the
order comes back in place with its message and what was typed, the right one is recorded; a payment
is matched to it, and the same payment matched twice is refused in place — all through htmx."""
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import expect

from webapp.auth.models import User
from webapp.extensions import db
from webapp.orders import Payment

from .test_closing_browser import log_in
from .test_field_browser import assert_fits
from .test_order_desk_browser import assert_not_reloaded, mark_page

WALK = Path("/work/walk/shots")


def walk_shot(page, name: str) -> None:
    """A full-page picture for people to look at (when the walk folder exists)."""
    if WALK.is_dir():
        page.screenshot(path=str(WALK / f"invoices-{name}.png"), full_page=True, caret="initial")


def test_invoice_and_match_forms_on_the_order_page_in_chinese(app, live_server, browser, browser_context_args,
                                                              browser_problems, shoot, make_order, make_user):
    base = live_server
    order_id = make_order("ready_to_ship", customer="ACME")  # 1,130.00 including tax
    make_user("finance", username="chen", name="陈静", locale="zh")
    with app.app_context():
        finance_id = db.session.scalar(db.select(User.id).where(User.username == "chen"))
        db.session.add(Payment(order_id=order_id, kind="receipt", amount=Decimal("600.00"),
                               received_on=date(2026, 11, 10), reference="招商银行回单 1110-088",
                               recorded_by_id=finance_id))
        db.session.commit()

    context = browser_problems.watch(browser.new_context(**{**browser_context_args, "locale": "zh-CN"}))
    page = context.new_page()
    log_in(page, base, "chen")
    page.goto(f"{base}/orders/{order_id}")
    section = page.locator("#receivables")
    expect(section.get_by_role("heading", name="发票与收款")).to_be_visible()
    section.get_by_text("登记发票", exact=True).first.click()
    mark_page(page)
    section.get_by_label("发票号码").fill("26320000000000000123")
    section.get_by_label("含税金额").fill("１，２００.００")  # full-width digits, as a Chinese keyboard types them
    section.get_by_label("开票依据").select_option("m")
    section.get_by_label(re.compile("付款节点（")).fill("验收款")
    section.get_by_role("button", name="登记发票").click()
    expect(page.locator("#receivables .flash.error")).to_contain_text("发票金额超过订单：本订单只剩 ¥1,130.00 可开票。")
    assert_not_reloaded(page)
    expect(page.locator("#receivables").get_by_label("含税金额")).to_have_value("１，２００.００")
    # the 409 that brought the form back is the expected answer, not a problem
    browser_problems.items[:] = [i for i in browser_problems.items if "409" not in i]
    assert_fits(page)
    shoot(page, "invoices-zh-too-large")
    walk_shot(page, "too-large")
    page.locator("#receivables").get_by_label("含税金额").fill("1,130.00")
    page.locator("#receivables").get_by_role("button", name="登记发票").click()
    expect(page.locator("#receivables .flash")).to_contain_text("发票 26320000000000000123 已登记")
    assert_not_reloaded(page)

    section = page.locator("#receivables")
    section.get_by_text("收款核销到发票", exact=True).click()
    section.get_by_label("金额", exact=True).fill("600")
    section.get_by_role("button", name="核销", exact=True).click()
    expect(page.locator("#receivables .flash")).to_contain_text("收款已核销到发票 26320000000000000123。")
    expect(page.locator("#receivables")).to_contain_text("已核销 2026年11月10日 收款 ¥600.00")
    assert_not_reloaded(page)
    walk_shot(page, "matched")
    # A payment matched to the same invoice again: refused in place.
    page.evaluate("""() => {
        const form = document.querySelector('#receivables form[action$="/matches"]');
        return form === null; }""")
    with app.app_context():
        payment_id = db.session.scalar(db.select(Payment.id).where(Payment.order_id == order_id))
    # The match form is gone (nothing free to match): post the same pair as a stale page would.
    token = page.evaluate("document.querySelector('input[name=csrf_token]').value")
    answer = page.request.post(f"{base}/receivables/orders/{order_id}/matches", form={
        "csrf_token": token, "m-payment_id": str(payment_id), "m-invoice_id": "1", "m-amount": "10"},
        headers={"HX-Request": "true"})
    assert answer.status == 409 and "不能重复核销" in answer.text()
    assert_fits(page)
    shoot(page, "invoices-zh-matched")
    page.goto(f"{base}/receivables/")
    expect(page.get_by_role("heading", name="应收账款", level=1)).to_be_visible()
    assert_fits(page)
    walk_shot(page, "ageing")
    browser_problems.items[:] = [i for i in browser_problems.items if "409" not in i]
