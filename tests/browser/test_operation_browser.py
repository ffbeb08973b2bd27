"""A worker scans a process card (流程卡) on a phone in Chromium, in Chinese at 390 px: the card's
operation page opens, one tap on +10 saves, a detailed report keeps scrap reason and minutes; and
reports recorded without signal at an operation the phone never opened reach the server when it
returns — the one within what the previous operation passed applied, the one beyond it kept as a
visible conflict."""
from decimal import Decimal

from playwright.sync_api import expect

from webapp.auth import User
from webapp.extensions import db
from webapp.production import services as production
from webapp.production.models import ProgressReport, WorkOrder, WorkOrderOperation

from ..conftest import PASSWORD
from ..test_operations import add_operations
from .test_field_browser import assert_fits
from .test_offline_browser import offline_noise_only, outbox, poll, ready_for_offline, wait_db
from .test_order_desk_browser import settle


def log_in_zh(page, base: str, username: str) -> None:
    """Log in through the login form (the page in English until the person's language is known)."""
    page.goto(base + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".top .who")).to_be_visible()


def carded_work_order(app, make_order, make_user, first_good: int = 0):
    """Huang's work order with three operations (下料, 机加工, 焊接); 下料 has first_good pieces."""
    order_id = make_order("in_production")
    huang = make_user("worker", username="huang", name="黄师傅", locale="zh")
    with app.app_context():
        work_order = db.session.scalar(db.select(WorkOrder).where(WorkOrder.order_id == order_id))
        work_order.owner_id = huang
        db.session.commit()
        wo_id = work_order.id
    ops = add_operations(app, wo_id)
    if first_good:
        with app.app_context(), app.test_request_context("/"):
            production.report(db.session.get(WorkOrder, wo_id), db.session.get(User, huang), Decimal(first_good),
                              Decimal("0"), "", [], step=db.session.get(WorkOrderOperation, ops.ids[0]))
            db.session.commit()
    return huang, wo_id, ops


def op_good(app, operation_id: int) -> Decimal:
    """An operation's good pieces in the database."""
    return db.session.get(WorkOrderOperation, operation_id).good


def test_report_an_operation_from_a_process_card(app, live_server, context, browser_problems, shoot, make_order,
                                                 make_user):
    huang, wo_id, ops = carded_work_order(app, make_order, make_user)
    page = context.new_page()
    log_in_zh(page, live_server, "huang")
    page.goto(f"{live_server}/o/{ops.tokens[0]}")  # what the camera opens from the card's QR
    expect(page.get_by_role("heading", level=1)).to_have_text("1/3 · 下料")
    expect(page.locator(".op-counts")).to_contain_text("应生产")
    assert_fits(page)
    shoot(page, "operation-01-card-opened-zh")
    page.get_by_role("button", name="+10 良品").click()  # the second tap: saved
    expect(page.get_by_role("status").first).to_contain_text("下料 已保存：良品 10，报废 0。")
    with app.app_context():
        assert op_good(app, ops.ids[0]) == Decimal("10")
    page.get_by_text("报工（含报废、工时、备注或照片）").click()
    form = page.locator("details form")
    form.get_by_label("良品数").fill("4")
    form.get_by_label("报废数").fill("1")
    form.get_by_label("工时（分钟）").fill("35")
    form.get_by_label("报废原因").select_option(label="材料缺陷")
    shoot(page, "operation-02-detailed-form-zh")
    form.get_by_role("button", name="保存报工").click()
    expect(page.get_by_role("status").first).to_contain_text("良品 4，报废 1")
    with app.app_context():
        row = db.session.scalars(db.select(ProgressReport).order_by(ProgressReport.id.desc())).first()
        assert (row.good_qty, row.scrap_qty, row.scrap_reason, row.minutes, row.worker_id) == (
            Decimal("4"), Decimal("1"), "material", Decimal("35"), huang)
    page.goto(f"{live_server}/o/{ops.tokens[1]}")
    expect(page.get_by_role("heading", level=1)).to_have_text("2/3 · 机加工")
    expect(page.locator(".op-counts")).to_contain_text("下料 已转出")
    expect(page.get_by_role("button", name="+10 良品")).to_be_visible()
    assert_fits(page)
    shoot(page, "operation-03-next-operation-zh")
    page.get_by_role("link", name="的全部工序").click()
    expect(page.locator("ol.operations li")).to_have_count(3)
    assert_fits(page)
    shoot(page, "operation-04-work-order-operations-zh")
    page.goto(f"{live_server}/production/my-earnings")
    expect(page.get_by_role("heading", level=1)).to_have_text("我的计件工资")
    settle(page)
    assert_fits(page)
    shoot(page, "operation-05-my-earnings-zh")
    browser_problems.check(page)


def test_operation_reports_recorded_offline_apply_or_show_a_conflict(app, live_server, context, browser_problems,
                                                                     shoot, make_order, make_user):
    huang, wo_id, ops = carded_work_order(app, make_order, make_user, first_good=10)
    page = context.new_page()
    log_in_zh(page, live_server, "huang")
    ready_for_offline(page, huang)
    context.set_offline(True)
    response = page.goto(f"{live_server}/o/{ops.tokens[1]}")  # never opened: kept for Huang's work order
    assert response.from_service_worker, "the operation's page did not come from the service worker"
    expect(page.get_by_role("heading", level=1)).to_have_text("2/3 · 机加工")
    page.get_by_role("button", name="+5 良品").click()
    expect(page.locator("#outbox-badge")).to_contain_text("1")
    page.get_by_text("报工（含报废、工时、备注或照片）").click()
    form = page.locator("details form")
    form.get_by_label("良品数").fill("8")  # 5 + 8 is more than the 10 下料 passed
    form.get_by_label("工时（分钟）").fill("50")
    form.get_by_role("button", name="保存报工").click()
    expect(page.locator("#outbox-badge")).to_contain_text("2")
    assert_fits(page)
    shoot(page, "operation-06-offline-two-waiting-zh")
    with app.app_context():
        assert op_good(app, ops.ids[1]) == 0
    context.set_offline(False)
    wait_db(app, lambda: op_good(app, ops.ids[1]), Decimal("5"))
    poll(page, "Outbox.entries().then(list => list.some(e => e.status === 'conflict'))", timeout=20)
    entries = outbox(page)
    assert [e["status"] for e in entries] == ["conflict"], entries
    assert "上道工序（下料）已转出 10 件" in entries[0]["message"], entries
    with app.app_context():
        assert op_good(app, ops.ids[1]) == Decimal("5")
    page.reload()
    shoot(page, "operation-07-conflict-zh")
    offline_noise_only(browser_problems, "409 (CONFLICT)")
    browser_problems.check(page)


def test_the_piece_rate_report_on_a_phone(app, live_server, context, browser_problems, shoot, make_order,
                                         make_user):
    """Finance reads the piece-rate report at 390 px in Chinese: per worker, the missing rate said."""
    huang, wo_id, ops = carded_work_order(app, make_order, make_user, first_good=40)
    with app.app_context(), app.test_request_context("/"):
        work_order, worker = db.session.get(WorkOrder, wo_id), db.session.get(User, huang)
        for index, (good, minutes) in ((1, (30, 45)), (2, (10, 20))):
            production.report(work_order, worker, Decimal(good), Decimal("0"), "", [], minutes=Decimal(minutes),
                              step=db.session.get(WorkOrderOperation, ops.ids[index]))
        db.session.commit()
    make_user("finance", username="fiona", name="财务小周", locale="zh")
    page = context.new_page()
    log_in_zh(page, live_server, "fiona")
    page.goto(f"{live_server}/production/piece-rates")
    expect(page.get_by_role("heading", level=1)).to_have_text("计件工资")
    expect(page.locator("section.card h2")).to_have_text("黄师傅 · ¥50.00")  # 40 × 0.125 + 45 min × ¥60/h
    expect(page.get_by_text("缺少单价").first).to_be_visible()
    settle(page)
    assert_fits(page)
    shoot(page, "operation-08-piece-rates-zh")
    browser_problems.check(page)
