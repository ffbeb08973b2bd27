"""The board on a phone (390 px) and a tablet (820 px) in Chinese: bars with accessible names, the
flags in words, nothing wider than the screen. A 60×40 mm label printed to PDF by Chromium itself
(its @page size) and the process card's QR codes as Chromium draws them decode with zbar."""
import re
import secrets
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from webapp.extensions import db
from webapp.i18n import firm_today
from webapp.production.models import ProgressReport, WorkCentre, WorkOrder, WorkOrderOperation

from .conftest import SCREENSHOTS, TABLET
from .test_qr_browser import context_as, log_in, zbar  # noqa: F401  (context_as: a fixture)

PHONE_ZH = {"locale": "zh-CN"}
TABLET_ZH = {"locale": "zh-CN", "viewport": TABLET, "is_mobile": False, "has_touch": True, "device_scale_factor": 1}


@pytest.fixture
def three_work_orders(app, make_order):
    """A late one, one at risk, a blocked one (three orders of three customers), with operations."""
    ids = [make_order("in_production", customer=c) for c in ("HDJM", "SZPX", "NBGR")]
    with app.app_context():
        today = firm_today()
        centre = WorkCentre(code="CNC", name="数控车床")
        db.session.add(centre)
        db.session.flush()
        rows = [db.session.scalar(db.select(WorkOrder).where(WorkOrder.order_id == i)) for i in ids]
        late, risky, blocked = rows
        late.planned_start, late.planned_qc = today - timedelta(days=12), today - timedelta(days=2)
        risky.planned_start, risky.planned_qc = today - timedelta(days=6), today + timedelta(days=4)
        risky.status, risky.actual_start = "in_progress", datetime.now(timezone.utc) - timedelta(days=6)
        blocked.planned_start, blocked.planned_qc = today + timedelta(days=1), today + timedelta(days=15)
        blocked.status, blocked.blocked_from = "blocked", "planned"
        operations = {}
        for row in rows:
            operations[row.id] = WorkOrderOperation(work_order_id=row.id, position=1, name="车削",
                                                    token=secrets.token_urlsafe(18), work_centre_id=centre.id,
                                                    minutes_per_piece=Decimal("2"))
            db.session.add(operations[row.id])
        db.session.flush()
        for row, good in ((late, "30"), (risky, "7")):  # reported at the operation (its good is the job's)
            db.session.add(ProgressReport(work_order_id=row.id, operation_id=operations[row.id].id,
                                          good_qty=Decimal(good), worker_id=row.order.sales_rep_id))
        db.session.commit()
        return [(r.id, r.number, r.token) for r in rows]


@pytest.mark.parametrize("where", ["phone", "tablet"])
def test_board_at_phone_and_tablet_width_in_chinese(app, live_server, context_as, browser_problems, make_user,
                                                    three_work_orders, shoot, where):
    """Each work order's bar is an image named by its number and described in words; the flags read
    逾期 / 有风险 / 因异常停工 in text; the page never scrolls sideways."""
    make_user("production", username="zhou.sup")
    page = context_as(**(PHONE_ZH if where == "phone" else TABLET_ZH)).new_page()
    log_in(page, live_server, "zhou.sup")
    page.goto(f"{live_server}/production/board")
    for _, number, _ in three_work_orders:
        expect(page.get_by_role("img", name=f"工单 {number}")).to_be_visible()
    text = page.locator(".board").inner_text()
    assert "有风险" in text and "因异常停工" in text and re.search("逾期|延期|迟", text), text
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    bar = page.locator(".board-svg svg").first.bounding_box()
    assert bar["width"] > (300 if where == "phone" else 400), bar
    if where == "tablet":  # the timeline: text and bar side by side, the axis above
        expect(page.locator(".board-head svg")).to_be_visible()
        row = page.locator(".board-row").first
        assert row.locator(".board-svg").bounding_box()["x"] > row.locator(".board-text").bounding_box()["x"] + 200
    shoot(page, f"board-{where}-zh")
    browser_problems.check(page)


@pytest.mark.skipif(not (shutil.which("zbarimg") and shutil.which("pdftoppm")), reason="zbarimg/pdftoppm needed")
def test_label_printed_by_chromium_is_60_by_40_and_decodes(app, live_server, context_as, browser_problems, make_user,
                                                           three_work_orders, tmp_path):
    """Chromium prints the label page on the page size its print CSS names (@page 60mm 40mm): one
    page of 170.08 × 113.39 pt whose QR zbar reads as the work order's address."""
    wo_id, number, token = three_work_orders[0]
    make_user("production", username="zhou.sup")
    page = context_as(**PHONE_ZH).new_page()
    log_in(page, live_server, "zhou.sup")
    page.goto(f"{live_server}/production/wo/{wo_id}/label/60x40")
    expect(page.locator(".label-page svg")).to_be_visible()
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    # Chromium rounds the page to its layout units: within half a point of 170.08 × 113.39
    assert len(boxes) == 1 and abs(float(boxes[0][0]) - 170.08) < 0.5 and abs(float(boxes[0][1]) - 113.39) < 0.5, boxes
    (tmp_path / "label.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "300", "-png", str(tmp_path / "label.pdf"), str(tmp_path / "p")], check=True)
    [png] = list(tmp_path.glob("p*.png"))
    assert zbar(png) == f"{live_server}/w/{token}"
    browser_problems.check(page)


def test_process_card_codes_decode_from_the_page(app, live_server, context_as, browser_problems, make_user,
                                                 three_work_orders, tmp_path):
    """The process card as Chromium draws it: the work order's QR and the operation's QR, each
    screenshotted, decode to /w/<token> and /o/<token>."""
    wo_id, number, token = three_work_orders[0]
    with app.app_context():
        op_token = db.session.scalar(db.select(WorkOrderOperation.token).where(WorkOrderOperation.work_order_id == wo_id))
    make_user("production", username="zhou.sup")
    page = context_as(viewport={"width": 1000, "height": 1300}, is_mobile=False, device_scale_factor=1,
                      locale="zh-CN").new_page()
    log_in(page, live_server, "zhou.sup")
    page.goto(f"{live_server}/production/wo/{wo_id}/card")
    own, first = page.locator("#qr-work-order svg"), page.locator("#qr-op-1 svg")
    expect(own).to_be_visible()
    own.screenshot(path=str(tmp_path / "own.png"))
    first.screenshot(path=str(tmp_path / "op.png"))
    assert zbar(tmp_path / "own.png") == f"{live_server}/w/{token}"
    assert zbar(tmp_path / "op.png") == f"{live_server}/o/{op_token}"
    expect(page.get_by_text("流程卡").first).to_be_visible()
    if SCREENSHOTS:
        pass
    browser_problems.check(page)


def test_routing_editor_and_load_page_on_a_phone(app, live_server, context_as, browser_problems, make_user,
                                                 make_product, three_work_orders, shoot):
    """On a phone in Chinese: an outsourced step without a supplier is refused beside its field, the
    typed rows kept; the load page's week table scrolls in its own box and says 超负荷 in words."""
    product_id = make_product("GR-7")
    with app.app_context():
        centre = db.session.scalar(db.select(WorkCentre))
        centre.hours_per_day, centre.shifts = Decimal("0.5"), 1  # half an hour a day: the three overload it
        db.session.commit()
    make_user("production", username="zhou.sup")
    page = context_as(**PHONE_ZH).new_page()
    log_in(page, live_server, "zhou.sup")
    page.goto(f"{live_server}/production/routing/{product_id}")
    page.locator("#step-0-name").fill("热处理")
    page.locator("#step-0-minutes_per_piece").fill("0")
    page.locator("input[name=step-0-outsourced]").check()
    page.get_by_role("button", name="保存工艺路线").click()
    expect(page.locator("#step-0-supplier_id-err")).to_have_text("外协工序需要选择供应商。")
    expect(page.locator("#step-0-name")).to_have_value("热处理")
    # the 422 that brought the form back is the expected answer, not a problem
    expected = [item for item in browser_problems.items if "422" in item and "/production/routing/" in item]
    browser_problems.items.remove(expected[0])
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    shoot(page, "routing-phone-zh")
    page.goto(f"{live_server}/production/centres/load")
    expect(page.get_by_text("超负荷").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    shoot(page, "load-phone-zh")
    page.goto(f"{live_server}/production/wo/{three_work_orders[0][0]}/card")
    shoot(page, "card-phone-zh")
    browser_problems.check(page)
