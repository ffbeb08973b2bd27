"""After-sales to the end on a phone in Chinese: a fault ticket opened with its type, handed to QC (its
clock shown), answered with a solution, the customer's confirmation taken by phone; the survey answered by
phone on the customer's form; nothing scrolls sideways at 390 px. Screenshots go to /work/walk/shots when
that folder exists (the lead's walk-through), else to the test artifacts."""
from pathlib import Path

from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.test_aftersales_end import receive

from .conftest import SCREENSHOTS

WALK = Path("/work/walk/shots")


def log_in(page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    expect(page.locator("nav.tabs")).to_be_visible()


def snap(page, name: str) -> None:
    """A full-page screenshot, and no sideways scroll on the phone."""
    folder = WALK if WALK.is_dir() else SCREENSHOTS
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"aftersales-{name}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), f"{name} scrolls sideways"


def test_a_ticket_to_the_end_and_a_phone_survey_on_a_phone_in_chinese(live_server, context, browser_problems,
                                                                      make_order, make_user, app):
    from datetime import datetime, timezone
    base = live_server
    order_id = make_order("in_production")
    receive(app, order_id, datetime.now(timezone.utc), delivered=False)
    make_user("aftersales", username="tingwu", name="吴婷", locale="zh")
    context.set_extra_http_headers({"Accept-Language": "zh-CN,zh;q=0.9"})
    page = context.new_page()
    log_in(page, base, "tingwu")

    page.goto(f"{base}/aftersales/orders/{order_id}")
    page.locator("summary", has_text="新建服务单").click()
    page.locator("select[name=t-kind]").select_option("fault")
    page.locator("input[name=t-subject]").fill("齿轮箱异响")
    page.locator("textarea[name=t-description]").fill("运行约 2,000 小时后出现异响，请派人检查。")
    page.locator("form[action$='/tickets'] button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("齿轮箱异响")
    expect(page.locator("dl.facts")).to_contain_text("故障")
    expect(page.locator("dl.facts")).to_contain_text("解决时限")

    page.locator("select[name=a-department]").select_option("qc")
    page.locator("textarea[name=a-note]").fill("请检测返回齿轮的硬度。")
    page.locator("form[action$='/assign'] button[type=submit]").click()
    expect(page.locator("dl.facts")).to_contain_text("处理部门")
    expect(page.locator("dl.facts")).to_contain_text("16 个工作小时")
    snap(page, "ticket-with-qc")

    page.locator("textarea[name=m-body]").fill("技术员周一上门维修。")
    page.locator("select[name=m-solution]").select_option("repair")
    page.locator("form[action$='/respond'] button[type=submit]").click()
    page.locator("input[name=p-note]").fill("钱经理")
    page.locator("form[action$='/confirm-by-phone'] button[type=submit]").click()
    expect(page.locator("dl.facts")).to_contain_text("电话")
    expect(page.locator("#history-h")).to_be_visible()
    snap(page, "ticket-confirmed-by-phone")

    # the order delivered: the survey is sent; its answers are taken by phone on the same form
    receive(app, order_id, datetime.now(timezone.utc))
    page.goto(f"{base}/aftersales/orders/{order_id}")
    page.locator("a", has_text="录入电话回访的答复").click()
    expect(page.locator("form.card")).to_be_visible()
    snap(page, "phone-survey")
    for name, value in (("requirement_response", "5"), ("delivery_timeliness", "4"), ("service_quality", "4")):
        page.locator(f"input[name={name}][value='{value}']").check()
    page.locator("form.card button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("电话")
    snap(page, "order-after-phone-survey")
    browser_problems.check(page)
