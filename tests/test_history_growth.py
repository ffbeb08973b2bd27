"""The production board and the KPI dashboard cost the same however long the firm's history: the
statements one request sends and the work orders and reports it loads, counted on the demo firm
with years of `flask bench-data` history added, then with three times as much (the style of
test_query_counts.py). The board flags, counts and orders every open work order from SQL sums and
draws one page of them; the dashboard's work facts are summed by the database; a repeat view of the
dashboard is answered from the kept cards until something they are made of changes."""
import re
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from webapp.extensions import db
from webapp.production import board as board_service
from webapp.production import earnings
from webapp.production.models import OutsourceTransfer, ProgressReport, QcRejection, WorkOrder

from .conftest import demo_login
from .test_query_counts import counting, grow, loading


def board_cost(app, client, url: str = "/production/board") -> tuple[int, int, int, str]:
    """Statements, work orders and reports loaded by one GET of the board (after one that warms),
    the order of the open work orders made afresh (not the one kept from the warming GET)."""
    assert client.get(url).status_code == 200
    app.extensions.pop("board_order", None)
    with counting(app) as statements, loading(WorkOrder) as work_orders, loading(ProgressReport) as reports:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements), len(work_orders), len(reports), response.get_data(as_text=True)


def reopen(app, count: int) -> None:
    """Put count done work orders of the history back on the floor (in progress, QC not passed):
    more open work orders than a page of the board, each with its reports."""
    with app.app_context():
        ids = db.session.scalars(db.select(WorkOrder.id).where(WorkOrder.status == "done")
                                 .order_by(WorkOrder.id.desc()).limit(count)).all()
        db.session.execute(db.update(WorkOrder).where(WorkOrder.id.in_(ids))
                           .values(status="in_progress", actual_qc=None, actual_done=None))
        db.session.commit()


def rows_of(html: str) -> list[str]:
    """The work order numbers on a page of the board, in order."""
    return re.findall(r'<article class="board-row[^"]*">\s*<div class="board-text">\s*<h2><a href="[^"]+">([^<]+)</a>',
                      html)


def test_the_board_stays_the_same_size_with_three_times_the_history(demo_app):
    """At N and 3N orders of history (and more open work orders than a page), one view of the board
    sends the same statements, loads no report and at most a page of work orders; the pages follow
    on from each other through every open work order, each once, the counts are over all of them."""
    size = board_service.BOARD_PAGE_SIZE
    grow(demo_app, 150, seed=31)
    reopen(demo_app, size + 5)
    supervisor = demo_login(demo_app, "zhang.wei")
    statements_n, work_orders_n, reports_n, html_n = board_cost(demo_app, supervisor)
    grow(demo_app, 300, seed=32)
    reopen(demo_app, 2 * size)
    statements_3n, work_orders_3n, reports_3n, html_3n = board_cost(demo_app, supervisor)
    assert statements_n == statements_3n
    assert reports_n == reports_3n == 0
    assert work_orders_n <= size and work_orders_3n <= size
    assert len(rows_of(html_3n)) == size and "Next page" in html_3n
    late = re.search(r'flag-late">Late: (\d+)<', html_3n)
    with demo_app.app_context():
        from webapp.i18n import firm_today
        expected_late = db.session.scalar(db.select(db.func.count()).select_from(WorkOrder).where(
            WorkOrder.status != "done", WorkOrder.planned_qc < firm_today(), WorkOrder.actual_qc.is_(None)))
    assert late and int(late.group(1)) == expected_late > size  # counted over every page, not this one
    with demo_app.app_context():
        open_numbers = set(db.session.scalars(db.select(WorkOrder.number).where(WorkOrder.status != "done")))
    seen, url, finished = [], "/production/board", None
    while url:
        html = supervisor.get(url).get_data(as_text=True)
        seen += rows_of(html)
        more = re.search(r'href="(/production/board\?after=[\d.]+)">Next page', html.replace("&amp;", "&"))
        url = more.group(1) if more else None
        if finished is None:
            # Between two clicks the last row of the first page is finished (the board's order is
            # worked out again): the next page goes on from that row's place, repeating nothing.
            finished = seen[-1]
            with demo_app.app_context():
                db.session.execute(db.update(WorkOrder).where(WorkOrder.number == finished).values(status="done"))
                db.session.commit()
    assert len(seen) == len(set(seen)) and set(seen) == open_numbers
    first = supervisor.get("/production/board").get_data(as_text=True)
    assert "First page" in html and "First page" not in first
    # A link that is not the board's own (an old id, a typed value) opens the first page.
    for odd in ("123", "x.y", "1.2.3.4.5", "9" * 40):
        assert rows_of(supervisor.get(f"/production/board?after={odd}").get_data(as_text=True)) == rows_of(first), odd


def outsource_and_reject() -> tuple[int, int]:
    """The generated history has no outsourced last operation or QC rejection among the open work
    orders: make one of each (a batch back from the supplier and one still out; 15 scrapped by QC), so
    that the SQL sums' every branch is compared with the models'. Their ids."""
    with_operations = db.session.scalars(db.select(WorkOrder).where(
        WorkOrder.status.in_(board_service.OPEN_STATES), WorkOrder.operations.any())
        .order_by(WorkOrder.id).limit(2)).all()
    outsourced, rejected = with_operations
    last = outsourced.operations[-1]
    last.outsourced = True
    db.session.add_all([
        OutsourceTransfer(number=f"OUT-{uuid.uuid4().hex[:8]}", operation_id=last.id, sent_qty=Decimal("1200"),
                          received_good=Decimal("1150"), received_scrap=Decimal("50"),
                          received_at=datetime.now(timezone.utc)),
        OutsourceTransfer(number=f"OUT-{uuid.uuid4().hex[:8]}", operation_id=last.id, sent_qty=Decimal("300")),  # not back yet
        QcRejection(work_order_id=rejected.id, quantity=Decimal("15"), disposition="scrap",
                    inspector_id=rejected.owner_id or 1)])
    db.session.commit()
    return outsourced.id, rejected.id


def test_the_boards_sums_are_the_work_orders_own(demo_app):
    """Each open work order's good pieces as the board sums them in SQL equal WorkOrder.good (its
    last operation's, an outsourced one's received, less QC's rejections)."""
    grow(demo_app, 60, seed=33)
    with demo_app.app_context():
        outsource_and_reject()
        facts = board_service.open_facts(board_service._open_conditions())
        assert len(facts) > 5
        work_orders = [db.session.get(WorkOrder, fact.id) for fact in facts]
        for fact, work_order in zip(facts, work_orders):
            assert fact.good == work_order.good, fact.id
        # Each way WorkOrder.good counts is in the data: a last operation's reports, the work order's
        # own reports without operations, an outsourced last operation, QC's rejections; and pieces made.
        kinds = {"operations": any(w.operations and not w.operations[-1].outsourced for w in work_orders),
                 "none": any(not w.operations for w in work_orders),
                 "outsourced": any(w.operations and w.operations[-1].outsourced for w in work_orders),
                 "rejected": any(w.rejections for w in work_orders),
                 "made": any(f.good > 0 for f in facts)}
        assert all(kinds.values()), kinds


def kpi_cost(app, client, url: str = "/kpi/?period=year") -> tuple[int, int, int, str]:
    """Statements, work orders and reports loaded by a first view of url (the kept cards forgotten)."""
    app.extensions.pop("kpi_cards", None)
    with counting(app) as statements, loading(WorkOrder) as work_orders, loading(ProgressReport) as reports:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(statements), len(work_orders), len(reports), response.get_data(as_text=True)


def test_the_kpi_dashboard_stays_the_same_size_with_three_times_the_history(demo_app):
    """A year's dashboard (twelve years of trend: the whole history) at N and 3N orders sends the
    same statements and loads no work order or report: the facts are summed by the database."""
    manager = demo_login(demo_app, "zhao.min")
    grow(demo_app, 150, seed=34)
    statements_n, work_orders_n, reports_n, _ = kpi_cost(demo_app, manager)
    grow(demo_app, 300, seed=35)
    statements_3n, work_orders_3n, reports_3n, html = kpi_cost(demo_app, manager)
    assert statements_n == statements_3n
    assert work_orders_n == work_orders_3n == 0 and reports_n == reports_3n == 0
    with demo_app.app_context():
        done = db.session.scalar(db.select(db.func.count()).select_from(WorkOrder).where(WorkOrder.status == "done"))
    assert done > 300  # the history the facts were read from


def test_the_work_facts_are_the_work_orders_own(demo_app):
    """Each work fact's good, scrap and labour (summed by the database) equal what WorkOrder.good,
    WorkOrder.scrap and earnings.labour make of the loaded work order."""
    from webapp.kpi import measures
    grow(demo_app, 60, seed=36)
    with demo_app.app_context():
        outsourced_id, rejected_id = outsource_and_reject()
        for work_order_id in (outsourced_id, rejected_id):  # done in the window, so they are facts
            db.session.get(WorkOrder, work_order_id).status = "done"
            db.session.get(WorkOrder, work_order_id).actual_done = datetime.now(timezone.utc)
        db.session.commit()
        start = datetime(2000, 1, 1, tzinfo=timezone.utc)
        facts = measures.work_facts(start, datetime.now(timezone.utc) + timedelta(days=1))
        assert len(facts) > 20
        for fact in facts:
            work_order = db.session.get(WorkOrder, fact.work_order_id)
            labour = earnings.labour(work_order)
            assert (fact.good, fact.scrap, fact.labour, fact.labour_missing) == (
                work_order.good, work_order.scrap, labour.amount, labour.missing), fact.number
        assert any(f.labour > 0 for f in facts) and any(f.labour_missing for f in facts)
        assert {outsourced_id, rejected_id} <= {f.work_order_id for f in facts}
        paid_by_time = [f for f in facts if f.labour > 0 and any(
            earnings.basis(o) == "time" for o in db.session.get(WorkOrder, f.work_order_id).operations)]
        assert paid_by_time  # minutes × the centre's hourly rate, summed per operation by the database


def cards_of(html: str) -> list[str]:
    """The dashboard's KPI cards as the page shows them."""
    return re.findall(r'<section class="card kpi-card".*?</section>', html, re.S)


def test_a_repeat_view_of_the_dashboard_is_kept_until_its_facts_change(demo_app):
    """The second view of the same dashboard sends only the version check; a work order passing QC
    in the period (an ORM change) is on the next view, as a view computed afresh shows it."""
    manager = demo_login(demo_app, "zhao.min")
    first = cards_of(manager.get("/kpi/").get_data(as_text=True))
    with counting(demo_app) as statements:
        again = cards_of(manager.get("/kpi/").get_data(as_text=True))
    assert again == first
    with counting(demo_app) as cold:
        demo_app.extensions.pop("kpi_cards", None)
        manager.get("/kpi/")
    assert len(statements) < len(cold) - 5
    with demo_app.app_context():
        work_order = db.session.scalar(db.select(WorkOrder).where(WorkOrder.status != "done").order_by(WorkOrder.id)
                                       .limit(1))
        db.session.add(ProgressReport(work_order_id=work_order.id, good_qty=Decimal("7"), scrap_qty=Decimal("3"),
                                      worker_id=work_order.owner_id or 1))
        work_order.status, work_order.actual_done = "done", datetime.now(timezone.utc)
        db.session.commit()
    changed = cards_of(manager.get("/kpi/").get_data(as_text=True))
    demo_app.extensions.pop("kpi_cards", None)
    fresh = cards_of(manager.get("/kpi/").get_data(as_text=True))
    assert len(first) == 6 and changed != first and changed == fresh


def page_text(html: str) -> str:
    """The page without what differs between two requests (tokens, the time it was drawn)."""
    return re.sub(r'name="csrf_token"[^>]*>|"X-CSRFToken": "[^"]*"|"csrf": "[^"]*"|"renderedAt": "[^"]*"'
                  r'|rendered-at" content="[^"]*"|nonce="[^"]*"', "", html)


def test_a_kept_board_follows_the_floor(demo_app):
    """A repeat view of the board reads only its page; a work order blocked and reported on since
    (ORM changes, as the floor's own pages make them) is on the next view as a fresh view shows it."""
    supervisor = demo_login(demo_app, "zhang.wei")
    first = page_text(supervisor.get("/production/board").get_data(as_text=True))
    with counting(demo_app) as statements:
        assert page_text(supervisor.get("/production/board").get_data(as_text=True)) == first
    demo_app.extensions.pop("board_order", None)
    with counting(demo_app) as cold:
        supervisor.get("/production/board")
    assert len(statements) < len(cold)
    with demo_app.app_context():
        work_order = db.session.scalar(db.select(WorkOrder).where(WorkOrder.status == "in_progress")
                                       .order_by(WorkOrder.id).limit(1))
        work_order.status = "blocked"
        db.session.add(ProgressReport(work_order_id=work_order.id, good_qty=Decimal("1"), scrap_qty=Decimal("0"),
                                      worker_id=work_order.owner_id or 1))
        db.session.commit()
    changed = page_text(supervisor.get("/production/board").get_data(as_text=True))
    demo_app.extensions.pop("board_order", None)
    fresh = page_text(supervisor.get("/production/board").get_data(as_text=True))
    assert changed != first and changed == fresh


def test_delivery_facts_read_in_chunks_are_the_same_as_read_at_once(demo_app, monkeypatch):
    """A long window's promised orders are read a few thousand at a time (SQLite binds at most 32,766
    parameters): with chunks of three orders, every boundary falls inside the data, and the facts —
    amended orders' original dates, lines and receipts — are the same as read in one go."""
    from webapp.kpi import measures
    grow(demo_app, 120, seed=37)
    with demo_app.app_context():
        first, last = datetime(2000, 1, 1).date(), datetime.now(timezone.utc).date()
        whole = measures.delivery_facts(first, last)
        monkeypatch.setattr(measures, "IDS_AT_ONCE", 3)
        chunked = measures.delivery_facts(first, last)
    assert len(whole) > 30 and any(f.delivered_on for f in whole) and any(not f.on_time for f in whole)
    assert chunked == whole


def test_kept_cards_are_never_another_persons(demo_app):
    """With sales reps limited to their own customers, the manager and two reps open the same period
    one after another (each view kept): each sees the cards a fresh view computes for them, never the
    one kept for the person before."""
    from webapp.firm import get_settings
    grow(demo_app, 60, seed=38)
    with demo_app.app_context():
        get_settings().sales_own_customers_only = True
        db.session.commit()
    people = {name: demo_login(demo_app, name) for name in ("zhao.min", "wang.fang", "lucy")}
    kept_views = {name: cards_of(client.get("/kpi/").get_data(as_text=True)) for name, client in people.items()}
    for name, client in people.items():
        demo_app.extensions.pop("kpi_cards", None)
        assert cards_of(client.get("/kpi/").get_data(as_text=True)) == kept_views[name], name
    assert len({tuple(cards) for cards in kept_views.values()}) == 3  # three scopes, three sets of figures


def test_the_daily_sheets_cumulative_start_is_summed_by_the_database(demo_app):
    """Each work order's good pieces before the daily sheet's first day, summed by the database, equal
    the pieces per day the sheet counts, added up (the sum once read every report of every open work
    order's history): with reports before and after the day, and every way a work order counts."""
    from webapp.i18n import firm_today
    from webapp.production import daily, operations
    grow(demo_app, 60, seed=34)
    with demo_app.app_context():
        outsourced_id, _rejected_id = outsource_and_reject()
        today = firm_today()
        work_orders = daily.work_orders_in(today - timedelta(days=6), today)
        assert outsourced_id in {w.id for w in work_orders}
        assert {"operations", "none", "outsourced"} <= {
            "none" if not w.operations else "outsourced" if w.operations[-1].outsourced else "operations"
            for w in work_orders}
        for first in (today - timedelta(days=90), today - timedelta(days=3), today + timedelta(days=1)):
            summed = operations.good_before(work_orders, first, daily.EPOCH)
            by_day = operations.actual_by_day_of(work_orders, daily.EPOCH, first - timedelta(days=1))
            assert summed == {wid: sum(days.values(), Decimal(0)) for wid, days in by_day.items()}, first
        assert summed[outsourced_id] == Decimal("1150")  # the batch back today; the one still out is not
        assert sum(1 for good in summed.values() if good > 0) > 5


def test_the_daily_sheet_stays_a_page_with_three_times_the_history(demo_app):
    """With more open work orders than a page, at N and 3N orders of history, the daily sheet sends
    the same statements, loads at most a page of work orders (and one to know there is more) and no
    report as an object, and its pages follow on through every work order of the week, each once."""
    from webapp.i18n import firm_today
    from webapp.production import daily
    size = daily.SHEET_PAGE_SIZE
    grow(demo_app, 150, seed=35)
    reopen(demo_app, size + 5)
    supervisor = demo_login(demo_app, "zhang.wei")

    def cost() -> tuple[int, int, int, str]:
        assert supervisor.get("/production/daily").status_code == 200
        with counting(demo_app) as statements, loading(WorkOrder) as work_orders, loading(ProgressReport) as reports:
            response = supervisor.get("/production/daily")
        assert response.status_code == 200
        return len(statements), len(work_orders), len(reports), response.get_data(as_text=True)

    cards = lambda html: re.findall(r'<section class="card daily-card" id="wo-(\d+)">', html)
    statements_n, work_orders_n, reports_n, html_n = cost()
    grow(demo_app, 300, seed=36)
    reopen(demo_app, 2 * size)
    statements_3n, work_orders_3n, reports_3n, html_3n = cost()
    assert statements_n == statements_3n and reports_n == reports_3n == 0
    assert work_orders_n <= size + 1 and work_orders_3n <= size + 1
    assert len(cards(html_3n)) == size and "Next page" in html_3n
    seen, url = [], "/production/daily"
    while url:
        html = supervisor.get(url).get_data(as_text=True)
        seen += [int(i) for i in cards(html)]
        more = re.search(r'href="([^"]+)">Next page', html)
        url = more.group(1).replace("&amp;", "&") if more else None
    with demo_app.app_context():
        first, last = daily.week_of(firm_today())
        expected = [w.id for w in daily.work_orders_in(first, last)]
    assert len(expected) > 2 * size and seen == expected
