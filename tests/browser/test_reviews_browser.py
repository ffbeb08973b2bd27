"""Review and improvement (复盘) on a phone in Chinese: the owner opens the overdue list, opens their
action, is told a note is needed, and marks it done; no page is wider than the phone."""
import re
from datetime import datetime, timedelta, timezone

from playwright.sync_api import expect

from webapp.extensions import db
from webapp.i18n import firm_today
from webapp.reviews.models import ImprovementAction
from webapp.wallclock import frozen

from ..test_reviews import make_action, make_review
from .test_closing_browser import log_in
from .test_field_browser import assert_fits


def test_the_owner_marks_an_overdue_action_done_from_the_overdue_list(app, live_server, context, browser_problems,
                                                                      shoot, make_user):
    base = live_server
    people = {"finance": make_user("finance", username="fin", name="陈静", locale="zh"),
              "zhang": make_user("production", username="zhang", name="张伟", locale="zh")}
    with app.app_context():
        today = firm_today()
    review_id = make_review(app, people, month=(today.replace(day=1) - timedelta(days=1)).replace(day=1),
                            held=today - timedelta(days=10))
    with frozen(datetime.now(timezone.utc) - timedelta(days=10)):
        action_id = make_action(app, review_id, people["zhang"], today - timedelta(days=3), causes=("rework",),
                                title="齿轮热处理参数固化")

    page = context.new_page()
    log_in(page, base, "zhang")
    page.get_by_role("link", name="复盘").first.click()
    page.get_by_role("link", name="逾期措施").click()
    expect(page.get_by_role("heading", name="改进措施", level=1)).to_be_visible()
    row = page.locator("table.stack tbody tr").filter(has_text="齿轮热处理参数固化")
    expect(row.locator(".badge.s-late")).to_have_text("已逾期")
    expect(row).to_contain_text("返工")
    assert_fits(page)
    shoot(page, "reviews-zh-overdue-list")

    row.get_by_role("link", name="齿轮热处理参数固化").click()
    expect(page).to_have_url(re.compile(rf"/reviews/actions/{action_id}$"))
    page.get_by_role("button", name="标记完成").click()  # without a note
    expect(page.locator("#note-err")).to_contain_text("请填写处理措施")
    # the 422 that brought the form back is the expected answer, not a problem
    browser_problems.items[:] = [i for i in browser_problems.items if "422" not in i]
    page.get_by_label("备注").fill("淬火温度、保温时间已写入工艺卡 GC-45 第 3 版")
    page.get_by_role("button", name="标记完成").click()
    expect(page.get_by_role("status").filter(has_text="已标记完成。")).to_be_visible()
    expect(page.locator("dl.figures .badge.s-done")).to_have_text("已完成")
    expect(page.get_by_text("淬火温度、保温时间已写入工艺卡 GC-45 第 3 版")).to_be_visible()
    assert_fits(page)
    shoot(page, "reviews-zh-action-done")
    page.goto(f"{base}/reviews/actions?status=overdue")
    expect(page.get_by_text("没有逾期的改进措施。")).to_be_visible()
    with app.app_context():
        action = db.session.get(ImprovementAction, action_id)
        assert (action.status, action.done_by_id) == ("done", people["zhang"])
