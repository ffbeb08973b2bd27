"""The daily production/stocking tracking sheet (表2) on a small hand-checked data set: the plan spread
over working days (weekend and holiday skipped), days set by hand with the rest re-spread, actual
good pieces per firm-local day, cumulative plan vs actual, causes and actions, the XLSX export."""
import io
from datetime import date, datetime, timezone
from decimal import Decimal

import openpyxl
import pytest

from webapp.auth import User
from webapp.extensions import db
from webapp.firm import CalendarDay
from webapp.production import daily
from webapp.production.models import DailyPlan, ProgressReport, WorkOrder

from .helpers import text_of

FRI, SAT, SUN, MON, TUE, WED = (date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22), date(2026, 11, 23),
                                date(2026, 11, 24), date(2026, 11, 25))
RANGE = {"from": "2026-11-20", "to": "2026-11-26"}


@pytest.fixture
def sheet_order(app, work_order):
    """The work order (100 pieces) planned Friday to Wednesday, Wednesday a holiday: 3 working days."""
    with app.app_context():
        row = db.session.get(WorkOrder, work_order.id)
        row.planned_start, row.planned_qc = FRI, WED
        db.session.add(CalendarDay(day=WED, name="Holiday", is_working=False))
        db.session.commit()
    return work_order


def report(app, work_order_id: int, good: str, at: datetime):
    """A progress report of good pieces at a given (UTC) time."""
    with app.app_context():
        worker = db.session.scalar(db.select(User).where(User.username == "production-maker"))
        db.session.add(ProgressReport(work_order_id=work_order_id, good_qty=Decimal(good), worker_id=worker.id,
                                      occurred_at=at, received_at=at))
        db.session.commit()


def test_spread_whole_pieces_remainder_first():
    """100 over 3 days is 34/33/33; the days always add up, a fraction goes to the first day."""
    days = [FRI, MON, TUE]
    assert list(daily.spread(Decimal("100"), days).values()) == [34, 33, 33]
    assert list(daily.spread(Decimal("7"), days).values()) == [3, 2, 2]
    assert list(daily.spread(Decimal("2"), days).values()) == [1, 1, 0]
    assert sum(daily.spread(Decimal("10.5"), days).values()) == Decimal("10.5")
    assert daily.spread(Decimal("5"), []) == {}


def test_plan_skips_weekend_and_holiday(app, sheet_order):
    """Friday 34, Saturday and Sunday nothing, Monday 33, Tuesday 33, the Wednesday holiday nothing."""
    with app.app_context():
        row = daily.row_of(db.session.get(WorkOrder, sheet_order.id), FRI, date(2026, 11, 26))
        assert [d.planned for d in row.days] == [34, None, None, 33, 33, None, None]
        assert [d.working for d in row.days] == [True, False, False, True, True, False, True]
        assert row.days[-1].cum_planned == 100


def test_no_dates_no_plan(app, work_order):
    """A work order without planned dates has no plan (nothing invented)."""
    with app.app_context():
        row = db.session.get(WorkOrder, work_order.id)
        row.planned_start = row.planned_qc = None
        assert all(d.planned is None for d in daily.row_of(row, MON, TUE).days)


def test_actual_by_firm_local_day(app, sheet_order):
    """A report at 23:30 Shanghai time counts that day, one at 00:30 the next; cumulative and deviation."""
    report(app, sheet_order.id, "30", datetime(2026, 11, 20, 15, 30, tzinfo=timezone.utc))  # Fri 23:30 local
    report(app, sheet_order.id, "5", datetime(2026, 11, 20, 16, 30, tzinfo=timezone.utc))   # Sat 00:30 local
    report(app, sheet_order.id, "40", datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc))    # Mon 10:00
    report(app, sheet_order.id, "7", datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc))     # before the range
    with app.app_context():
        wo = db.session.get(WorkOrder, sheet_order.id)
        assert daily.actual_by_day(wo, FRI, SUN) == {FRI: 30, SAT: 5}
        row = daily.row_of(wo, FRI, TUE)
        fri, sat, _sun, mon, tue = row.days
        assert (fri.planned, fri.actual, fri.deviation, fri.cum_planned, fri.cum_actual) == (34, 30, -4, 34, 37)
        assert (sat.planned, sat.actual, sat.deviation, sat.cum_deviation) == (None, 5, 5, 8)
        assert (mon.actual, mon.cum_planned, mon.cum_actual, mon.cum_deviation) == (40, 67, 82, 15)
        assert (tue.actual, tue.deviation, tue.cum_planned, tue.cum_deviation) == (0, -33, 100, -18)


def test_days_set_by_hand_keep_the_total(app, sheet_order, as_user):
    """The supervisor sets Friday to 50: Monday and Tuesday share the other 50 (25/25); clearing Friday
    spreads evenly again."""
    boss = as_user("production")
    url = f"/production/daily/{sheet_order.id}/plan?from=2026-11-20&to=2026-11-25"
    page = boss.get(url)
    assert page.status_code == 200 and 'name="d-2026-11-20"' in text_of(page)
    assert boss.post(url, data={"d-2026-11-20": "50"}).status_code == 303
    with app.app_context():
        row = daily.row_of(db.session.get(WorkOrder, sheet_order.id), FRI, TUE)
        assert [d.planned for d in row.days] == [50, None, None, 25, 25]
        assert row.days[0].set_by_hand and not row.days[3].set_by_hand
    assert boss.post(url, data={"d-2026-11-20": "50", "d-2026-11-23": "41"}).status_code == 303
    with app.app_context():
        row = daily.row_of(db.session.get(WorkOrder, sheet_order.id), FRI, TUE)
        assert [d.planned for d in row.days] == [50, None, None, 41, 9]
    assert boss.post(url, data={}).status_code == 303
    with app.app_context():
        row = daily.row_of(db.session.get(WorkOrder, sheet_order.id), FRI, TUE)
        assert [d.planned for d in row.days] == [34, None, None, 33, 33]


def test_over_plan_refused_and_typed_kept(app, sheet_order, as_user):
    """Days set by hand above the quantity, or all days set short of it: 409 with the reason, nothing saved,
    what was typed shown back."""
    boss = as_user("production", locale="zh")
    url = f"/production/daily/{sheet_order.id}/plan?from=2026-11-20&to=2026-11-25"
    response = boss.post(url, data={"d-2026-11-20": "80", "d-2026-11-23": "30"})
    assert response.status_code == 409
    page = text_of(response)
    assert "110" in page and "100" in page and 'value="80"' in page and 'value="30"' in page
    response = boss.post(url, data={"d-2026-11-20": "10", "d-2026-11-23": "10", "d-2026-11-24": "10"})
    assert response.status_code == 409 and "70" in text_of(response)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(DailyPlan)) == 0


@pytest.mark.parametrize("typed", ["-5", "abc", "1e9", "NaN", "9999999", "1.23456"])
def test_bad_day_plan_refused(app, sheet_order, as_user, typed):
    """Negative, text, absurd or over-precise numbers: 422, the field marked, nothing saved."""
    boss = as_user("production")
    response = boss.post(f"/production/daily/{sheet_order.id}/plan?from=2026-11-20&to=2026-11-25",
                         data={"d-2026-11-23": typed})
    assert response.status_code == 422
    assert 'aria-invalid="true"' in text_of(response) and f'value="{typed}"' in text_of(response)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(DailyPlan)) == 0


def test_cause_and_action_saved_and_shown(app, sheet_order, as_user):
    """At the stand-up: the day's cause, note and action, shown on the sheet afterwards."""
    boss = as_user("production")
    response = boss.post(f"/production/daily/{sheet_order.id}/2026-11-23/cause?from=2026-11-20&to=2026-11-26",
                         data={"cause": "equipment_failure", "note": "Press 2 down", "action": "Moved to press 3"})
    assert response.status_code == 303
    with app.app_context():
        plan = db.session.scalar(db.select(DailyPlan))
        assert (plan.day, plan.cause, plan.note, plan.action, plan.planned) == (
            MON, "equipment_failure", "Press 2 down", "Moved to press 3", None)
    page = text_of(boss.get("/production/daily?from=2026-11-23&to=2026-11-29"))
    assert "Equipment failure" in page and "Moved to press 3" in page and "Press 2 down" in page
    reader = as_user("qc")
    assert "Moved to press 3" in text_of(reader.get("/production/daily?from=2026-11-23&to=2026-11-29"))


def test_bad_cause_refused(app, sheet_order, as_user):
    """A cause not on the list, an overlong note: 422, nothing saved."""
    boss = as_user("production")
    url = f"/production/daily/{sheet_order.id}/2026-11-23/cause?from=2026-11-20&to=2026-11-26"
    assert boss.post(url, data={"cause": "aliens", "note": "x", "action": ""}).status_code == 422
    response = boss.post(url, data={"cause": "other", "note": "x" * 2001, "action": "kept"})
    assert response.status_code == 422 and "kept" in text_of(response)
    assert boss.post(f"/production/daily/{sheet_order.id}/not-a-day/cause", data={"cause": "other"}).status_code == 404
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(DailyPlan)) == 0


def test_permissions(app, sheet_order, as_user):
    """Reading needs workorder.view, editing workorder.manage (production, operations)."""
    assert as_user("sales").get("/production/daily").status_code == 403
    assert as_user("sales").get("/production/daily.xlsx").status_code == 403
    qc = as_user("qc")
    assert qc.get("/production/daily").status_code == 200
    assert qc.post(f"/production/daily/{sheet_order.id}/2026-11-23/cause", data={"cause": "other"}).status_code == 403
    assert qc.get(f"/production/daily/{sheet_order.id}/plan").status_code == 403
    assert qc.post(f"/production/daily/{sheet_order.id}/plan", data={"d-2026-11-23": "1"}).status_code == 403
    assert as_user("operations").get(f"/production/daily/{sheet_order.id}/plan").status_code == 200
    assert app.test_client().get("/production/daily").status_code == 302


@pytest.mark.parametrize("query", ["from=2026-13-01", "from=2026-11-30&to=2026-11-01", "from=2026-01-01&to=2026-12-31",
                                   "from=abc"])
def test_bad_range(app, as_user, query):
    """A date that is not one, a range backwards or too long: 422 with the reason, this week shown."""
    response = as_user("production").get(f"/production/daily?{query}")
    assert response.status_code == 422 and 'class="error"' in text_of(response)


def test_page_shows_plan_actual_and_deviation(app, sheet_order, as_user):
    """The table has a column per day; the card for the first day shows its plan, actual and deviation."""
    report(app, sheet_order.id, "30", datetime(2026, 11, 20, 15, 30, tzinfo=timezone.utc))
    page = text_of(as_user("production").get("/production/daily?from=2026-11-20&to=2026-11-26"))
    assert page.count('scope="col"') == 9  # work order, 7 days, cumulative
    assert "34</span>/<span class=\"done\">30" in page and ">-4<" in page
    card = text_of(as_user("production").get("/production/daily?from=2026-11-20&to=2026-11-26&day=2026-11-20"))
    assert '<dd>34</dd>' in card and '<dd>30</dd>' in card and 'day=2026-11-20' in card


def xlsx_rows(response):
    """The cells of the first sheet of a downloaded XLSX."""
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = book.active
    return sheet, [[c.value for c in row] for row in sheet.iter_rows()]


def test_xlsx_in_chinese_and_english(app, sheet_order, as_user):
    """The template's columns with Chinese or English headers; numbers numeric, dates dates; the
    Chinese file name in filename*."""
    report(app, sheet_order.id, "30", datetime(2026, 11, 20, 15, 30, tzinfo=timezone.utc))
    boss = as_user("production", locale="zh")
    assert boss.post(f"/production/daily/{sheet_order.id}/2026-11-23/cause?from=2026-11-20&to=2026-11-26",
                     data={"cause": "material_shortage", "note": "钢板未到", "action": "催供应商"}).status_code == 303
    response = boss.get("/production/daily.xlsx?from=2026-11-20&to=2026-11-26")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''" in disposition
    assert "%E7%94%9F%E4%BA%A7" in disposition  # 生产
    sheet, rows = xlsx_rows(response)
    assert rows[0] == ["日期", "工单号", "产品/型号", "计划数量", "实际数量", "累计计划", "累计实际", "偏差", "偏差原因", "采取措施"]
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold
    with app.app_context():
        number = db.session.get(WorkOrder, sheet_order.id).number
    fri, mon, tue = rows[1:]
    assert fri[:8] == [datetime(2026, 11, 20), number, "BRK-1", 34, 30, 34, 30, -4]
    assert mon[:8] == [datetime(2026, 11, 23), number, "BRK-1", 33, 0, 67, 30, -33]
    assert mon[8:] == ["缺料：钢板未到", "催供应商"]
    assert tue[3:8] == [33, 0, 100, 30, -33]
    assert sheet["A2"].is_date and sheet["A2"].number_format == "yyyy-mm-dd"
    assert all(isinstance(v, int) for v in fri[3:8])
    english = as_user("production", locale="en").get("/production/daily.xlsx?from=2026-11-20&to=2026-11-26")
    _sheet, rows = xlsx_rows(english)
    assert rows[0] == ["Date", "Work order", "Product", "Planned", "Actual", "Cumulative plan", "Cumulative actual",
                       "Deviation", "Cause", "Action"]
    assert rows[2][8] == "Material shortage: 钢板未到"


def test_owner_filter_and_done_work_orders(app, sheet_order, as_user, make_user):
    """?owner= keeps that person's work orders; a done work order shows only in a range it reported in."""
    boss = as_user("production")
    other = make_user("production")
    with app.app_context():
        row = db.session.get(WorkOrder, sheet_order.id)
        row.owner_id = boss.user_id
        number = row.number
        db.session.commit()
    assert number in text_of(boss.get(f"/production/daily?from=2026-11-23&to=2026-11-29&owner={boss.user_id}"))
    assert number not in text_of(boss.get(f"/production/daily?from=2026-11-23&to=2026-11-29&owner={other}"))
    report(app, sheet_order.id, "10", datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc))
    with app.app_context():
        db.session.get(WorkOrder, sheet_order.id).status = "done"
        db.session.commit()
        assert [r.work_order.id for r in daily.sheet(MON, date(2026, 11, 29))] == [sheet_order.id]
        assert daily.sheet(date(2026, 11, 30), date(2026, 12, 6)) == []


def test_opened_on_a_weekend_or_holiday_it_shows_the_last_day_worked(app, sheet_order, as_user):
    """On Sunday 22 Nov the sheet opens on Friday 20 Nov (the stand-up's last day, not a day with no
    plan); with that Friday a holiday, on Thursday; a day asked for is shown as asked."""
    import re

    import time_machine

    def heading(path="/production/daily"):
        page = text_of(client.get(path))
        return re.search(r"<div class=\"daily-cards\">\s*<h2>(.*?)</h2>", page, re.S).group(1)

    with time_machine.travel(datetime(2026, 11, 22, 4, 0, tzinfo=timezone.utc), tick=False):
        client = as_user("production")  # logged in on that Sunday
        assert "Nov 20, 2026" in heading()
        assert "Nov 22, 2026" in heading("/production/daily?day=2026-11-22")
        with app.app_context():
            db.session.add(CalendarDay(day=FRI, name="Holiday", is_working=False))
            db.session.commit()
        assert "Nov 19, 2026" in heading()


def test_pages_follow_on_with_filters_and_causes_kept(app, make_order, as_user, monkeypatch):
    """Many work orders come a page at a time in the sheet's order (planned start, undated last):
    Next page goes on from the last row's place, so a work order finished between two clicks repeats
    or skips nothing; a link that is not the sheet's own opens the first page; saving a cause on a
    later page comes back to that page with its filters; the XLSX has every work order."""
    import re
    monkeypatch.setattr(daily, "SHEET_PAGE_SIZE", 2)
    for _ in range(5):
        make_order("in_production")
    with app.app_context():
        rows = db.session.scalars(db.select(WorkOrder).order_by(WorkOrder.id)).all()
        assert len(rows) >= 5
        for index, row in enumerate(rows):  # two share a start, one has none: every branch of the order
            row.planned_start = None if index == 0 else date(2026, 11, 20 + min(index, 3) // 2)
        db.session.commit()
        expected = [w.id for w in daily.work_orders_in(MON, date(2026, 11, 29))]
    assert len(expected) == len(rows) and expected[-1] == rows[0].id  # undated last
    boss = as_user("production")
    ids_of = lambda html: [int(i) for i in re.findall(r'<section class="card daily-card" id="wo-(\d+)">', html)]
    seen, url, finished = [], "/production/daily?from=2026-11-23&to=2026-11-29", None
    while url:
        html = boss.get(url).get_data(as_text=True)
        page = ids_of(html)
        assert 0 < len(page) <= 2
        seen += page
        more = re.search(r'href="([^"]+)">Next page', html)
        url = more.group(1).replace("&amp;", "&") if more else None
        if finished is None:
            finished = seen[-1]  # the first page's last row is finished between two clicks
            with app.app_context():
                db.session.get(WorkOrder, finished).status = "done"
                db.session.commit()
    assert seen == expected
    assert "First page" in html and "the XLSX has them all" in html
    first = boss.get("/production/daily?from=2026-11-23&to=2026-11-29").get_data(as_text=True)
    assert "First page" not in first
    for odd in ("x", "-3", "0", "999999", "9" * 40):
        assert ids_of(boss.get(f"/production/daily?from=2026-11-23&to=2026-11-29&after={odd}")
                      .get_data(as_text=True)) == ids_of(first), odd
    # A cause saved on the second page comes back to it, its owner filter kept.
    later = expected[3]
    response = boss.post(f"/production/daily/{later}/2026-11-23/cause?from=2026-11-23&to=2026-11-29"
                         f"&after={expected[2]}&owner={boss.user_id}",
                         data={"cause": "material_shortage", "note": "", "action": "Called the supplier"})
    assert response.status_code == 303
    assert f"after={expected[2]}" in response.location and f"owner={boss.user_id}" in response.location
    workbook = openpyxl.load_workbook(io.BytesIO(boss.get("/production/daily.xlsx?from=2026-11-23&to=2026-11-29").data))
    with app.app_context():  # the sheet's lines are the days with a plan or pieces: the dated ones
        numbers = {db.session.get(WorkOrder, i).number for i in expected if i not in (finished, rows[0].id)}
    assert len(numbers) > 2 and numbers <= {row[1] for row in workbook.active.iter_rows(min_row=2, values_only=True)}
