"""Work-centre capacity on the firm's calendar and where the open work orders' load falls, checked
by hand on a week with a holiday; the load page marks an overload in words, not colour alone."""
import secrets
from datetime import date
from decimal import Decimal

from webapp.extensions import db
from webapp.firm import CalendarDay
from webapp.production import centres
from webapp.production.models import WorkCentre, WorkOrder, WorkOrderOperation

from .helpers import text_of

MONDAY = date(2030, 1, 7)  # a Wednesday holiday (9 Jan) and a swapped working Saturday (12 Jan) that week


def _calendar():
    db.session.add_all([CalendarDay(day=date(2030, 1, 9), name="holiday", is_working=False),
                        CalendarDay(day=date(2030, 1, 12), name="调休", is_working=True)])


def _centre(code="CNC", hours="7.5", shifts=2) -> WorkCentre:
    centre = WorkCentre(code=code, name=code, hours_per_day=Decimal(hours), shifts=shifts)
    db.session.add(centre)
    db.session.flush()
    return centre


def _plan(work_order_id: int, centre: WorkCentre, minutes: str, start: date, qc: date) -> WorkOrder:
    work_order = db.session.get(WorkOrder, work_order_id)
    work_order.planned_start, work_order.planned_qc = start, qc
    db.session.add(WorkOrderOperation(work_order_id=work_order.id, position=1, name="Turn", token=secrets.token_urlsafe(18),
                                      work_centre_id=centre.id, minutes_per_piece=Decimal(minutes)))
    db.session.flush()
    return work_order


def test_capacity_of_a_week_with_a_holiday_and_a_swapped_saturday(app):
    """Mon–Fri less the Wednesday holiday plus the worked Saturday: 5 days × 7.5 h × 2 shifts = 75 h;
    the next week is a plain one (5 × 15 = 75 h too); a week with only the holiday: 4 × 15 = 60 h."""
    with app.app_context():
        _calendar()
        db.session.add(CalendarDay(day=date(2030, 1, 22), name="holiday", is_working=False))
        centre = _centre()
        assert centres.weekly_capacity_hours(centre, MONDAY) == Decimal("75")
        assert centres.weekly_capacity_hours(centre, date(2030, 1, 21)) == Decimal("60")
        assert [d.day for d in centres.working_days(MONDAY, date(2030, 1, 13))] == [7, 8, 10, 11, 12]


def test_load_is_spread_over_the_working_days_between_start_and_qc(app, work_order):
    """100 pieces × 6 min = 10 h from Thu 10 Jan to Tue 15 Jan: working days Thu, Fri, Sat (swapped),
    Mon, Tue = 2 h each, so 6 h in the week of 7 Jan and 4 h in the week of 14 Jan."""
    with app.app_context():
        _calendar()
        centre = _centre()
        _plan(work_order.id, centre, "6", date(2030, 1, 10), date(2030, 1, 15))
        data = centres.load_table(MONDAY, 3)
        cells = data["cells"][centre.id]
        assert cells[MONDAY].load == Decimal("6")
        assert cells[date(2030, 1, 14)].load == Decimal("4")
        assert cells[date(2030, 1, 21)].load == 0
        assert not cells[MONDAY].over


def test_reported_pieces_leave_the_load_and_an_overload_is_marked(app, work_order, as_user):
    """Good pieces already made no longer load the centre; 100 × 60 min = 100 h in one 4-day week of
    one 8-hour shift (32 h) is an overload, and the load page says so in words."""
    from webapp.production import services
    with app.app_context(), app.test_request_context():
        centre = _centre("WELD", "8", 1)
        work_order_row = _plan(work_order.id, centre, "60", date(2030, 1, 7), date(2030, 1, 11))
        db.session.add(CalendarDay(day=date(2030, 1, 9), name="holiday", is_working=False))
        from webapp.auth import User
        maker = db.session.scalar(db.select(User).where(User.username == "production-maker"))
        services.report(work_order_row, maker, Decimal("40"), Decimal("0"), "", [])
        db.session.commit()
        cell = centres.load_table(MONDAY, 1)["cells"][centre.id][MONDAY]
        assert cell.capacity == Decimal("32")
        assert cell.load == Decimal("60")  # 60 pieces left × 1 h
        assert cell.over and cell.percent == 188
    page = text_of(as_user("production").get("/production/centres/load?from=2030-01-07&weeks=2"))
    assert "Overloaded" in page and "60 / 32 h" in page


def test_feasibility_load_for_an_order_not_yet_released(app, make_order, make_product):
    """weekly_load_by_centre(order) counts an order under review from its lines' routings: 100 ×
    3 min = 5 h over the working days of the two weeks up to its delivery date."""
    from webapp.customers import Product
    from webapp.orders.models import Order
    from webapp.production.models import RoutingStep
    order_id = make_order("in_review", delivery_date=date(2030, 1, 18))
    product_id = make_product("ASM-1")
    with app.app_context(), app.test_request_context():
        centre = _centre("ASM", "8", 1)
        order = db.session.get(Order, order_id)
        product = db.session.get(Product, product_id)
        order.lines[0].product_id = product.id
        db.session.add(RoutingStep(product_id=product.id, position=1, name="Assemble", work_centre_id=centre.id,
                                   minutes_per_piece=Decimal("3")))
        db.session.flush()
        weeks = centres.weekly_load_by_centre(order, 4)
        assert [w["is_delivery_week"] for w in weeks] == [False, False, True, False]
        this = [w["centres"][0]["this_order"] for w in weeks]
        assert sum(this) == Decimal("5") and this[1] == this[2] == Decimal("2.5")
        assert weeks[2]["centres"][0]["capacity"] == Decimal("40")


# --- work centres and the routing editor -----------------------------------------------------------

def _routing_form(csrf: str, rows: list[dict]) -> dict:
    data = {"csrf_token": csrf, "rows": str(len(rows))}
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"step-{i}-{key}"] = value
    return data


def test_routing_editor_saves_reorders_and_refuses_bad_rows(app, make_product, as_user):
    """Bad rows come back 422 with a translated message each and what was typed kept, nothing saved:
    negative minutes, an absurd piece rate, outsourced without a supplier; good rows save in the
    order of their step numbers."""
    from webapp.production.models import RoutingStep
    from webapp.purchasing.models import Supplier
    product_id = make_product("GR-1")
    with app.app_context():
        centre = _centre("CNC")
        supplier = Supplier(name="Heat treat Co")
        db.session.add(supplier)
        db.session.commit()
        centre_id, supplier_id = centre.id, supplier.id
    editor = as_user("production")
    url = f"/production/routing/{product_id}"
    assert editor.get(url).status_code == 200
    bad = editor.post(url, csrf=False, data=_routing_form(editor.csrf_token(), [
        {"position": "1", "name": "Turn", "work_centre_id": str(centre_id), "minutes_per_piece": "-2"},
        {"position": "2", "name": "Grind", "work_centre_id": str(centre_id), "minutes_per_piece": "3",
         "piece_rate": "99999"},
        {"position": "3", "name": "Harden", "outsourced": "1", "minutes_per_piece": "0"}]),
        headers={"Accept-Language": "zh-CN"})
    assert bad.status_code == 422
    page = text_of(bad)
    assert "不能小于" in page or "至少" in page, page  # minutes at least 0, in Chinese
    assert "外协工序需要选择供应商" in page and 'value="99999"' in page and 'value="-2"' in page
    with app.app_context():
        assert not db.session.scalars(db.select(RoutingStep)).all()
    good = editor.post(url, csrf=False, data=_routing_form(editor.csrf_token(), [
        {"position": "2", "name": "Harden", "outsourced": "1", "supplier_id": str(supplier_id),
         "minutes_per_piece": "0", "lead_days": "5"},
        {"position": "1", "name": "Turn", "work_centre_id": str(centre_id), "minutes_per_piece": "2.5",
         "piece_rate": "0.8"},
        {"position": "", "name": "", "minutes_per_piece": ""}]))
    assert good.status_code == 303
    with app.app_context():
        steps = db.session.scalars(db.select(RoutingStep).order_by(RoutingStep.position)).all()
        assert [(s.position, s.name, s.outsourced, s.lead_days) for s in steps] == [
            (1, "Turn", False, 0), (2, "Harden", True, 5)]
    moved = editor.post(url, csrf=False, data={**_routing_form(editor.csrf_token(), [
        {"position": "1", "name": "Turn", "work_centre_id": str(centre_id), "minutes_per_piece": "2.5"},
        {"position": "2", "name": "Harden", "outsourced": "1", "supplier_id": str(supplier_id),
         "minutes_per_piece": "0"}]), "move": "1-up"})
    assert moved.status_code == 200 and text_of(moved).index("Harden") < text_of(moved).index('value="Turn"')
    assert as_user("worker").post(url, csrf=False, data={"csrf_token": "x", "rows": "0"}).status_code in (400, 403)


def test_work_centre_rate_only_for_price_roles_and_bad_hours(app, as_user):
    """The hourly rate is a price: production (no price role) neither sees nor sets it; operations
    does. 3 shifts × 9 h is more than a day: refused with a message, 422."""
    production = as_user("production")
    assert "Hourly rate" not in text_of(production.get("/production/centres"))
    bad = production.post("/production/centres", data={"c-code": "W1", "c-name": "Weld", "c-hours_per_day": "9",
                                                        "c-shifts": "3", "c-active": "y"})
    assert bad.status_code == 422 and "cannot be more than 24 hours" in text_of(bad)
    assert production.post("/production/centres", data={"c-code": "W1", "c-name": "Weld", "c-hours_per_day": "8",
                                                         "c-shifts": "2", "c-hourly_rate": "99",
                                                         "c-active": "y"}).status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(WorkCentre)).hourly_rate == 0
    operations = as_user("operations")
    assert "Hourly rate" in text_of(operations.get("/production/centres"))


def test_the_feasibility_review_reads_the_centre_load_through_the_registry(app, make_order):
    """The orders domain cannot import production: it asks registry.page_context("order_feasibility",
    order), empty without work centres, the weekly load by centre with them."""
    from webapp import registry
    from webapp.orders.models import Order
    order_id = make_order("in_review", delivery_date=date(2030, 1, 18))
    with app.app_context(), app.test_request_context():
        order = db.session.get(Order, order_id)
        assert registry.page_context("order_feasibility", order) == {"centre_load": []}
        _centre("ASM", "8", 1)
        weeks = registry.page_context("order_feasibility", order)["centre_load"]
        assert len(weeks) == 6 and sum(w["is_delivery_week"] for w in weeks) == 1
        assert weeks[0]["centres"][0]["code"] == "ASM"


def test_load_counts_pieces_still_ahead_of_each_operation(app, work_order):
    """Reported per operation: 60 good at turning leaves 40 to turn (40 × 6 min = 4 h) while
    grinding, not reported yet, still has all 100 ahead (100 × 3 min = 5 h)."""
    from webapp.production.models import ProgressReport
    with app.app_context():
        centre = _centre()
        work_order_row = _plan(work_order.id, centre, "6", date(2030, 1, 7), date(2030, 1, 11))
        grind = WorkOrderOperation(work_order_id=work_order_row.id, position=2, name="Grind",
                                   token=secrets.token_urlsafe(18), work_centre_id=centre.id,
                                   minutes_per_piece=Decimal("3"))
        db.session.add(grind)
        db.session.flush()
        turn = work_order_row.operations[0]
        db.session.add(ProgressReport(work_order_id=work_order_row.id, operation_id=turn.id, good_qty=Decimal("60"),
                                      worker_id=work_order_row.order.sales_rep_id))
        db.session.commit()
        assert centres.load_table(MONDAY, 1)["cells"][centre.id][MONDAY].load == Decimal("9")
