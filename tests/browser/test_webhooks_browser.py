"""The webhook admin pages on a phone in Chinese: a loopback URL refused with the message, then
allowed; the secret shown once; a test event and a failed delivery listed with their answers;
nothing wider than the screen."""
import re

from playwright.sync_api import expect

from ..test_webhooks import Receiver
from .test_closing_browser import log_in
from .test_field_browser import assert_fits


def test_the_webhook_pages_on_a_phone_in_chinese(app, live_server, browser, browser_context_args,
                                                 browser_problems, shoot, make_user):
    base = live_server
    receiver = Receiver()
    try:
        make_user("admin", username="boss", name="管理员", locale="zh")
        context = browser_problems.watch(browser.new_context(**{**browser_context_args, "locale": "zh-CN"}))
        page = context.new_page()
        log_in(page, base, "boss")
        page.goto(f"{base}/admin/")
        page.get_by_role("link", name="Webhook", exact=True).click()
        expect(page.locator("h1")).to_have_text("Webhook")
        page.get_by_role("link", name="添加接收地址").click()
        page.get_by_label("地址", exact=True).fill(receiver.url)
        page.get_by_label("描述").fill("ERP 系统")
        page.get_by_label("订单生效").check()
        page.get_by_label("货物已发出").check()
        page.get_by_role("button", name="添加").click()
        expect(page.locator(".field.invalid")).to_contain_text("该地址指向本机或内网地址")
        assert_fits(page)
        shoot(page, "webhooks-refused-zh")
        # the 422 that brought the form back is the expected answer, not a problem
        expected = [item for item in browser_problems.items if "422" in item and "/admin/webhooks/new" in item]
        assert len(expected) == 1, browser_problems.items
        browser_problems.items.remove(expected[0])
        page.get_by_label("允许内网或本机地址").check()
        page.get_by_role("button", name="添加").click()
        expect(page.locator("h1")).to_have_text("签名密钥")
        expect(page.locator("#webhook-secret")).to_have_value(re.compile(r"^whsec_"))
        assert_fits(page)
        shoot(page, "webhooks-secret-zh")
        page.get_by_role("link", name="Webhook 接收地址").click()
        receiver.plan = [500]
        page.get_by_role("button", name="发送测试事件").click()
        expect(page.locator(".deliveries")).to_contain_text("应答：HTTP 500")
        page.get_by_role("button", name="重新发送").click()
        expect(page.locator(".deliveries .badge")).to_have_text("已送达")
        assert len(receiver.requests) == 2
        assert_fits(page)
        shoot(page, "webhooks-endpoint-zh")
        page.goto(f"{base}/admin/webhooks")
        expect(page.locator(".deliveries")).to_contain_text("测试事件")
        assert_fits(page)
        shoot(page, "webhooks-list-zh")
    finally:
        receiver.stop()
