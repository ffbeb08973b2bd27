"""The daily sheet (表2) in Chromium, in Chinese: on a phone the cards for the stand-up fit the screen
and a cause saves; on a tablet the table with the days as columns comes first."""
import os
import re
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

from webapp.extensions import db
from webapp.production.models import DailyPlan

from ..conftest import PASSWORD
from ..test_daily_sheet import FRI, WED, report  # noqa: F401  (the hand-checked week)
from .conftest import SCREENSHOTS
from .test_field_browser import assert_fits

pytestmark = pytest.mark.browser


@pytest.fixture
def week(app, work_order):
    """The test week's work order (100 pieces Friday to Wednesday, Wednesday a holiday), with reports."""
    from webapp.firm import CalendarDay
    from webapp.production.models import WorkOrder
    with app.app_context():
        row = db.session.get(WorkOrder, work_order.id)
        row.planned_start, row.planned_qc = FRI, WED
        db.session.add(CalendarDay(day=WED, name="Holiday", is_working=False))
        db.session.commit()
    report(app, work_order.id, "30", datetime(2026, 11, 20, 15, 30, tzinfo=timezone.utc))
    report(app, work_order.id, "41", datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc))
    return work_order


def log_in_zh(page, base, username):
    """Log in through the form (the user reads Chinese)."""
    page.goto(base + "/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("button[type=submit].wide").click()
    page.wait_for_load_state()


def test_daily_sheet_on_phone_and_tablet(app, live_server, context, browser_problems, shoot, make_user, week):
    make_user("production", username="boss", name="王主管", locale="zh")
    page = context.new_page()
    log_in_zh(page, live_server, "boss")
    page.goto(f"{live_server}/production/daily?from=2026-11-23&to=2026-11-29")
    expect(page.get_by_role("heading", level=1)).to_contain_text("生产/备货跟踪表")
    assert_fits(page)
    shoot(page, "daily-sheet-390-zh")
    card = page.locator(".daily-card").first
    cause_box = card.locator("details.daily-cause-box")
    if cause_box.get_attribute("open") is None:  # closed when the day is on plan: the summary opens it
        cause_box.locator("summary").click()
    card.get_by_label("偏差原因").select_option("equipment_failure")
    card.get_by_label("备注").fill("2号冲床故障")
    card.get_by_label("采取措施").fill("转到3号冲床")
    card.get_by_role("button", name="保存").click()
    expect(page.locator(".daily-card").first.get_by_role("status")).to_contain_text("已保存")
    with app.app_context():
        assert db.session.scalar(db.select(DailyPlan.action)) == "转到3号冲床"
    shoot(page, "daily-sheet-390-zh-saved")
    page.set_viewport_size({"width": 820, "height": 1180})
    page.reload()
    table_top = page.locator(".daily-table").bounding_box()["y"]
    assert table_top < page.locator(".daily-cards").bounding_box()["y"]
    assert_fits(page)
    shoot(page, "daily-sheet-820-zh")
    page.goto(f"{live_server}/production/daily/{week.id}/plan?from=2026-11-20&to=2026-11-25")
    page.set_viewport_size({"width": 390, "height": 844})
    assert_fits(page)
    shoot(page, "daily-plan-390-zh")
    page.emulate_media(media="print")
    page.goto(f"{live_server}/production/daily?from=2026-11-23&to=2026-11-29")
    expect(page.locator(".daily-cards")).to_be_hidden()
    expect(page.locator(".daily-grid")).to_be_visible()
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    if os.environ.get("SCREENSHOTS") == "1":
        (SCREENSHOTS / "daily-sheet-print.pdf").write_bytes(pdf)  # the sheet's own @page: A4 landscape (842 × 595 pt)
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)", pdf)
    assert boxes and all(float(w) > float(h) and abs(float(w) - 842) < 2 for w, h in boxes), boxes
    browser_problems.check(page)


