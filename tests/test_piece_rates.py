"""Piece-rate earnings (计件工资) and labour cost from reports on a small hand-checked data set.

The work order of tests/test_operations.py: 1 下料 ¥0.125 a piece; 2 机加工 no piece rate, its work
centre ¥60.00 an hour; 3 焊接 no piece rate, its work centre with no hourly rate (missing).

    Wu   下料   40 good            40 × 0.125        =  5.00
    Wu   机加工 30 good, 45 min    45 × 60.00 / 60   = 45.00          Wu: 50.00
    Li   下料   21 good            21 × 0.125 = 2.625 → 2.63 (half up)
    Li   焊接   10 good, 20 min    no rate: missing                Li:  2.63 + 1 missing
    labour cost of the work order: 5 + 45 + 2.625 = 52.625 → 52.63; 焊接 named as missing.
Wu's 下料 report is made at 00:30 on 2 November in Shanghai (1 November in UTC): it is in November's
second day, and outside a period ending on 1 November."""
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from webapp.extensions import db
from webapp.production.models import ProgressReport, WorkOrder
from webapp.wallclock import frozen

from .helpers import text_of
from .test_operations import add_operations, post


@pytest.fixture
def rates(app, work_order, as_user):
    """The hand-checked reports; the clients of Wu and Li."""
    ops = add_operations(app, work_order.id)
    wu = as_user("worker", name="Wu Worker")
    li = as_user("worker", name="Li Worker")
    assert post(wu, ops.tokens[0], good="40").status_code == 303
    assert post(wu, ops.tokens[1], good="30", minutes="45").status_code == 303
    assert post(li, ops.tokens[0], good="21").status_code == 303
    assert post(li, ops.tokens[2], good="10", minutes="20").status_code == 303
    with app.app_context():
        rows = db.session.scalars(db.select(ProgressReport).order_by(ProgressReport.id)).all()
        rows[0].occurred_at = datetime(2026, 11, 1, 16, 30, tzinfo=timezone.utc)  # 00:30 on the 2nd locally
        for row in rows[1:]:
            row.occurred_at = datetime(2026, 11, 3, 2, 0, tzinfo=timezone.utc)
        db.session.commit()
    return wu, li, ops


def test_earnings_per_worker_and_operation_by_hand(app, rates):
    """Each worker's lines and totals as computed by hand; a missing rate is None, never 0."""
    from webapp.production.earnings import earnings
    wu, li, _ops = rates
    with app.app_context():
        people = {p.worker.name: p for p in earnings(date(2026, 11, 2), date(2026, 11, 30))}
        assert [(line.operation.name, line.good, line.minutes, line.basis, line.amount)
                for line in people["Wu Worker"].lines] == [
            ("下料", Decimal("40"), Decimal("0"), "piece", Decimal("5.00")),
            ("机加工", Decimal("30"), Decimal("45"), "time", Decimal("45.00"))]
        assert people["Wu Worker"].total == Decimal("50.00") and people["Wu Worker"].missing == 0
        assert [(line.operation.name, line.basis, line.amount) for line in people["Li Worker"].lines] == [
            ("下料", "piece", Decimal("2.63")), ("焊接", "missing", None)]
        assert people["Li Worker"].total == Decimal("2.63") and people["Li Worker"].missing == 1
        # The period is the firm's days: Wu's 00:30 report is on the 2nd, not in a period ending the 1st.
        first = {p.worker.name: p.total for p in earnings(date(2026, 11, 1), date(2026, 11, 1))}
        assert first == {}
        second = {p.worker.name: p.total for p in earnings(date(2026, 11, 2), date(2026, 11, 2))}
        assert second == {"Wu Worker": Decimal("5.00")}


def test_labour_cost_of_the_work_order_by_hand(app, work_order, rates):
    """Pieces × piece rate + minutes × hourly rate / 60, rounded to the fen half up at the end; the
    operation with no rate is named."""
    from webapp.production.earnings import labour, labour_cost
    with app.app_context():
        row = db.session.get(WorkOrder, work_order.id)
        assert labour_cost(row) == Decimal("52.63")
        assert labour(row).missing == ["焊接"]


def test_the_piece_rate_page_shows_the_table_totals_and_the_missing_rate(app, rates, as_user):
    """Finance reads each worker's lines and totals; the missing rate is said, not shown as ¥0."""
    finance = as_user("finance")
    page = text_of(finance.get("/production/piece-rates?from=2026-11-01&to=2026-11-30"))
    assert "Wu Worker · ¥50.00" in page and "Li Worker · ¥2.63" in page
    assert "Rate missing" in page and "1 line has no rate" in page and "¥0.00" not in page
    assert "¥60.00 / hour" in page and "¥0.125 / piece" in page
    page = text_of(finance.get(f"/production/piece-rates?from=2026-11-01&to=2026-11-30&worker={rates[0].user_id}"))
    assert "Wu Worker" in page and "Li Worker · " not in page
    zh = as_user("manager", locale="zh")
    page = text_of(zh.get("/production/piece-rates?from=2026-11-01&to=2026-11-30"))
    assert "计件工资" in page and "缺少单价" in page


@pytest.mark.parametrize("query, message", [
    ("from=2026-11-31&to=2026-12-01", "Enter the dates as YYYY-MM-DD."),
    ("from=yesterday&to=2026-12-01", "Enter the dates as YYYY-MM-DD."),
    ("from=2026-12-02&to=2026-12-01", "The end date is before the start date."),
    ("from=2020-01-01&to=2026-12-01", "Choose at most a year."),
])
def test_bad_periods_are_refused_with_a_message(app, as_user, query, message):
    """A date that is not one, an end before the start, more than a year: 422 with the reason."""
    response = as_user("production").get(f"/production/piece-rates?{query}")
    assert response.status_code == 422 and message in text_of(response)


@pytest.mark.parametrize("role, status", [("production", 200), ("operations", 200), ("finance", 200),
                                          ("manager", 200), ("worker", 403), ("sales", 403), ("warehouse", 403)])
def test_who_reads_the_piece_rate_report(app, as_user, role, status):
    """Production, operations, finance and the manager read everyone's earnings; nobody else."""
    assert as_user(role).get("/production/piece-rates").status_code == status


def test_a_worker_sees_only_their_own_earnings(app, rates, as_user):
    """My earnings: this week, last week, this month, the worker's own lines only."""
    wu, li, _ops = rates
    with frozen(datetime(2026, 11, 10, 4, 0, tzinfo=timezone.utc)):  # Tuesday 10 November, Shanghai noon
        page = text_of(wu.get("/production/my-earnings"))
        assert "This week · ¥0.00" in page and "Last week · ¥50.00" in page and "This month · ¥50.00" in page
        assert "Li Worker" not in page and "2.63" not in page
        page = text_of(li.get("/production/my-earnings"))
        assert "This month · ¥2.63" in page and "has no rate yet" in page and "Wu Worker" not in page
        assert "45.00" not in page
    assert as_user("sales").get("/production/my-earnings").status_code == 403
