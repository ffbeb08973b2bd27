"""The board: each open work order's bar read through its accessible text (the SVG's <title> and
<desc>, the same words printed beside it), and its flags: late, at risk, blocked, waiting for
material or for an outsourced operation; filters by work centre and owner."""
import re
import secrets
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from webapp.extensions import db
from webapp.i18n import firm_today
from webapp.production.models import OutsourceTransfer, ProgressReport, WorkCentre, WorkOrder, WorkOrderOperation

from .helpers import text_of


def _svg_texts(page: str) -> list[tuple[str, str]]:
    """(title, desc) of every bar on the page, as a screen reader announces them."""
    return re.findall(r'<svg[^>]*role="img"[^>]*aria-labelledby="(wo\d+)-t \1-d"><title id="\1-t">([^<]*)</title>'
                      r'<desc id="\1-d">([^<]*)</desc>', page) and [
        (t, d) for _, t, d in re.findall(r'aria-labelledby="(wo\d+)-t \1-d"><title id="\1-t">([^<]*)</title>'
                                         r'<desc id="\1-d">([^<]*)</desc>', page)]


def test_late_work_order_is_read_from_the_svg_and_the_text(app, work_order, as_user):
    """Planned to finish three days ago and a quarter done: the bar's accessible name is the work
    order and its description says the plan, 25% done and Late; the same words are beside it."""
    with app.app_context():
        today = firm_today()
        row = db.session.get(WorkOrder, work_order.id)
        row.planned_start, row.planned_qc = today - timedelta(days=10), today - timedelta(days=3)
        db.session.add(ProgressReport(work_order_id=row.id, good_qty=Decimal("25"), worker_id=row.order.sales_rep_id))
        number = row.number
        db.session.commit()
    response = as_user("production").get("/production/board")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    [(title, desc)] = _svg_texts(page)
    assert title == f"Work order {number}"
    assert "25% done (25 of 100)." in desc and desc.endswith("Late.")
    assert desc in text_of(response)  # readable without the SVG


def test_at_risk_from_the_rate_since_the_actual_start(app, work_order, as_user):
    """Started 9 days ago (10 days counted), 10 good: one a day, 90 left finish long after the
    planned QC in five days: at risk, with the projected date said; not late yet."""
    with app.app_context():
        today = firm_today()
        row = db.session.get(WorkOrder, work_order.id)
        row.planned_start, row.planned_qc = today - timedelta(days=9), today + timedelta(days=5)
        row.status = "in_progress"
        row.actual_start = datetime.now(timezone.utc) - timedelta(days=9)
        db.session.add(ProgressReport(work_order_id=row.id, good_qty=Decimal("10"), worker_id=row.order.sales_rep_id))
        db.session.commit()
    page = as_user("production").get("/production/board").get_data(as_text=True)
    [(_, desc)] = _svg_texts(page)
    assert "At risk." in desc and "Late" not in desc and "At this rate it finishes" in desc
    assert 'class="projected"' in page


def test_blocked_material_and_outsourced_flags_and_filters(app, work_order, as_user, make_user):
    """Blocked shows as blocked; planned with a BOM waits for material; a batch sent out and not back
    waits for the outsourced operation; the centre filter keeps only work orders with an operation
    there, the owner filter only the owner's."""
    owner_id = make_user("worker", username="w1")
    with app.app_context():
        row = db.session.get(WorkOrder, work_order.id)
        centre = WorkCentre(code="PLT", name="Plating")
        db.session.add(centre)
        db.session.flush()
        operation = WorkOrderOperation(work_order_id=row.id, position=1, name="Plate", token=secrets.token_urlsafe(18),
                                       work_centre_id=centre.id, outsourced=True)
        db.session.add(operation)
        db.session.flush()
        db.session.add(OutsourceTransfer(number="WX-1", operation_id=operation.id, sent_qty=Decimal("50")))
        row.status, row.blocked_from, row.owner_id = "blocked", "in_progress", owner_id
        centre_id = centre.id
        db.session.commit()
    viewer = as_user("production")
    desc = _svg_texts(viewer.get("/production/board").get_data(as_text=True))[0][1]
    assert "Blocked by an anomaly" in desc and "Waiting for an outsourced operation" in desc
    assert _svg_texts(viewer.get(f"/production/board?centre={centre_id}").get_data(as_text=True))
    assert not _svg_texts(viewer.get(f"/production/board?centre={centre_id + 99}").get_data(as_text=True))
    assert _svg_texts(viewer.get(f"/production/board?owner={owner_id}").get_data(as_text=True))
    assert not _svg_texts(viewer.get(f"/production/board?owner={owner_id + 99}").get_data(as_text=True))
    with app.app_context():
        row = db.session.get(WorkOrder, work_order.id)
        row.status, row.bom_version_id = "planned", None
        db.session.execute(db.update(OutsourceTransfer).values(received_at=datetime.now(timezone.utc)))
        db.session.commit()
    desc = _svg_texts(viewer.get("/production/board").get_data(as_text=True))[0][1]
    assert "Blocked" not in desc and "outsourced" not in desc


def test_board_in_chinese_and_for_a_worker(app, work_order, as_user):
    """The board's words are translated; workers may look (workorder.view), customers' people not."""
    page = as_user("production").get("/production/board", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200 and "看板" in text_of(page)
    assert as_user("worker").get("/production/board").status_code == 200
    assert as_user("sales").get("/production/board").status_code == 403


def test_projection_counts_the_firms_working_days(app):
    """Started Monday 30 Nov 2026, 50 good by Friday 4 Dec: five working days, ten a day. The 30 left
    take three working days after Friday — not Saturday to Monday — so Wednesday 9 Dec; with Tuesday
    8 Dec a holiday on the firm's calendar, Thursday 10 Dec."""
    from types import SimpleNamespace

    from webapp.firm import CalendarDay
    from webapp.production.board import projected_finish
    from webapp.i18n import firm_zone
    with app.app_context():
        tz = firm_zone()
        started = datetime(2026, 11, 30, 9, 0, tzinfo=tz).astimezone(timezone.utc)
        row = SimpleNamespace(actual_start=started, good=Decimal("50"), remaining=Decimal("30"))
        friday = datetime(2026, 12, 4).date()
        assert projected_finish(row, friday) == datetime(2026, 12, 9).date()
        db.session.add(CalendarDay(day=datetime(2026, 12, 8).date(), is_working=False))
        db.session.commit()
        assert projected_finish(row, friday) == datetime(2026, 12, 10).date()
        # Nothing left: finishes today; nothing good yet or not started: no rate to go by.
        assert projected_finish(SimpleNamespace(actual_start=started, good=Decimal("80"), remaining=Decimal("0")),
                               friday) == friday
        assert projected_finish(SimpleNamespace(actual_start=None, good=Decimal("5"), remaining=Decimal("1")),
                               friday) is None
        # One piece in a week with a million to go: far past any plan, answered without walking years.
        slow = SimpleNamespace(actual_start=started, good=Decimal("1"), remaining=Decimal("1000000"))
        assert datetime(2030, 1, 1).date() < projected_finish(slow, friday) < datetime(2040, 1, 1).date()
