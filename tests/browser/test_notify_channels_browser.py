"""The notification channel pages on a phone in Chinese: the admin adds a WeCom robot (a wrong host is
refused in Chinese), sends a test message to a local fake group, and ticks "order shipped" for it;
nothing is wider than the phone."""
from playwright.sync_api import expect

from webapp.extensions import db
from webapp.notify import routing

from ..test_notify_channels import FakeReceiver
from .test_closing_browser import log_in
from .test_field_browser import assert_fits


def test_the_admin_sets_up_a_group_robot_on_a_phone(app, live_server, context, browser_problems, shoot, make_user):
    base = live_server
    make_user("admin", username="boss", name="系统管理员", locale="zh")
    fake = FakeReceiver()
    app.config["CHAT_ROBOT_EXTRA_HOSTS"] = ("127.0.0.1",)
    try:
        page = context.new_page()
        log_in(page, base, "boss")
        page.goto(f"{base}/admin/")
        page.get_by_role("link", name="通知渠道").click()
        expect(page.get_by_role("heading", name="通知渠道", level=1)).to_be_visible()
        expect(page.get_by_text("还没有群机器人。")).to_be_visible()
        shoot(page, "notify-zh-channels-empty")
        assert_fits(page)

        page.get_by_role("link", name="添加群机器人").click()
        page.get_by_label("名称").fill("发货群")
        page.get_by_label("Webhook 地址").fill("https://example.com/cgi-bin/webhook/send?key=abc")
        page.get_by_label("开启").check()
        page.get_by_role("button", name="保存机器人").click()
        expect(page.locator("#webhook_url-err")).to_contain_text("只能发送到")
        browser_problems.items[:] = [i for i in browser_problems.items if "422" not in i]
        assert_fits(page)
        shoot(page, "notify-zh-robot-wrong-host")

        page.get_by_label("Webhook 地址").fill(fake.url("/cgi-bin/webhook/send?key=group-key"))
        page.get_by_role("button", name="保存机器人").click()
        expect(page.get_by_role("status").filter(has_text="机器人已保存")).to_be_visible()
        fieldset = page.locator("fieldset").filter(has_text="订单已发货")
        fieldset.get_by_label("发货群").check()
        expect(fieldset.get_by_label("邮箱")).to_be_checked()
        assert_fits(page)
        shoot(page, "notify-zh-channels")
        page.get_by_role("button", name="保存通知渠道").click()
        expect(page.get_by_role("status").filter(has_text="通知渠道已保存。")).to_be_visible()

        page.get_by_role("link", name="发货群").first.click()
        page.get_by_role("button", name="发送测试消息").click()
        expect(page.get_by_role("status").filter(has_text="测试消息已发送")).to_be_visible()
        assert len(fake.requests) == 1 and "测试消息" in fake.bodies()[0]["markdown"]["content"]
        assert_fits(page)
        shoot(page, "notify-zh-robot")
        with app.app_context():
            robot = db.session.scalar(db.select(routing.ChatRobot))
            assert routing.robot_events(robot.id) == {"shipment.dispatched"}
    finally:
        fake.close()
