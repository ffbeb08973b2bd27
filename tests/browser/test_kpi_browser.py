"""The manager opens the KPI dashboard on a phone in Chinese, reads the charts as a screen reader
would (their accessible names and the hidden tables of values), and drills from the on-time rate to
the late lines and an order's delay causes. Nothing scrolls sideways; the CSP holds (no inline style)."""
import re
from datetime import date
from decimal import Decimal

import time_machine
from playwright.sync_api import expect

from webapp.auth.models import User
from webapp.extensions import db
from webapp.orders.models import OrderLine
from webapp.production.models import Anomaly, WorkOrder

from ..test_kpi import NOW, firm  # noqa: F401  (the hand-checked firm)
from .test_closing_browser import log_in
from .test_field_browser import assert_fits


def test_dashboard_charts_read_aloud_and_drill_to_delay_causes(app, firm, live_server, context,  # noqa: F811
                                                                browser_problems, shoot, make_user):
    make_user("manager", username="mgr", name="赵经理", locale="zh")
    with app.app_context():
        order_id = firm["late_order"]
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
        wo = WorkOrder(number="W-9", token="w9", order_id=order_id, order_line_id=line_id, quantity=Decimal("50"),
                       status="done")
        db.session.add(wo)
        db.session.flush()
        db.session.add(Anomaly(work_order_id=wo.id, kind="equipment_failure", severity="blocking",
                               note="车床主轴损坏", new_eta=date(2026, 11, 25), eta_reason="等备件",
                               reported_by_id=db.session.scalar(db.select(User.id).where(User.username == "mgr"))))
        db.session.commit()
    with time_machine.travel(NOW, tick=True):
        page = context.new_page()
        log_in(page, live_server, "mgr")
        page.goto(live_server + "/kpi/?period=month&at=2026-11")
        expect(page.get_by_role("heading", level=1)).to_have_text("绩效指标 · 2026-11")
        # The nav tab is there for the manager.
        expect(page.get_by_role("navigation", name="主导航").get_by_role("link", name="绩效指标")).to_be_visible()
        card = page.locator("#kpi-on-time")
        expect(card.locator(".big")).to_have_text("40.0%")
        chart = card.get_by_role("img")
        expect(chart).to_have_accessible_name(re.compile(r"交付准时率，最近 12 期.*2026-11：40\.0%"))
        # The hidden table a screen reader reads: every period and its value, no data as words.
        table = card.locator(".sr-only table")
        expect(table.locator("tr", has_text="2026-11")).to_contain_text("40.0%")
        expect(table.locator("tr", has_text="2026-10")).to_contain_text("0.0%")  # the line first due in October
        expect(table.locator("tr", has_text="2026-09")).to_contain_text("无数据")
        expect(page.locator("#kpi-satisfaction .big")).to_have_text("4.00 / 5")
        expect(page.locator("#kpi-response .big")).to_have_text("66.7%")
        assert_fits(page)
        shoot(page, "kpi-dashboard")
        card.get_by_role("link", name=re.compile("查看该数字背后的记录")).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("交付准时率")
        row = page.locator("tbody tr", has_text="K-003")
        expect(row).to_contain_text("9")
        assert_fits(page)
        shoot(page, "kpi-on-time")
        row.get_by_role("link", name="原因").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("延期原因")
        expect(page.get_by_text("车床主轴损坏")).to_be_visible()
        expect(page.get_by_text("已逾期 9 天")).to_be_visible()
        assert_fits(page)
        shoot(page, "kpi-delays")
        # A bad period: a message in Chinese, the form to correct it, never a 500.
        response = page.goto(live_server + "/kpi/?period=quarter&at=2026-Q5")
        assert response.status == 400
        expect(page.get_by_role("alert")).to_contain_text("2026-Q5")
        shoot(page, "kpi-bad-period")
        # The 400 itself is the one console line the browser writes: expected, so taken off the list.
        expected = [item for item in browser_problems.items if "400" in item and "2026-Q5" in item]
        assert len(expected) == 1, browser_problems.items
        browser_problems.items.remove(expected[0])
    browser_problems.check(page)
