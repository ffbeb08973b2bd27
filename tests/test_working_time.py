"""Planned dates land on the firm's working days, and each clock says whether it counts working
time: the follow-up "within 3 days" is 3 working days, the "24 hours" are 24 working hours."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from flask_babel import force_locale

from webapp import clocks
from webapp.admin.calendar import is_working_day
from webapp.admin.models import CalendarDay
from webapp.aftersales import services as aftersales
from webapp.aftersales.models import FollowUp
from webapp.extensions import db
from webapp.orders.models import Order
from webapp.production.models import WorkOrder

from .helpers import text_of

SHANGHAI = ZoneInfo("Asia/Shanghai")
FRIDAY = date(2026, 12, 4)


def test_working_days_skip_weekends_and_holidays_and_count_swapped_days(app):
    """Three working days after a Friday is Wednesday; a holiday pushes it on; a swapped Saturday
    counts; going back from a Sunday starts on Friday."""
    with app.app_context():
        assert clocks.shift_working_days(FRIDAY, 3) == date(2026, 12, 9)
        assert clocks.shift_working_days(date(2026, 12, 6), -3) == date(2026, 12, 2)
        assert clocks.shift_working_days(date(2026, 12, 6), 0) == FRIDAY
        db.session.add(CalendarDay(day=date(2026, 12, 8), name="Holiday", is_working=False))
        db.session.flush()
        assert clocks.shift_working_days(FRIDAY, 3) == date(2026, 12, 10)
        db.session.add(CalendarDay(day=date(2026, 12, 5), name="调休", is_working=True))
        db.session.flush()
        assert clocks.shift_working_days(FRIDAY, 3) == date(2026, 12, 9)


def test_follow_up_after_a_friday_receipt_is_due_on_wednesday_and_says_working_days(app, make_order, as_user):
    """A receipt signed on Friday 16:00 plans the call for Wednesday 16:00 (not Monday); the list
    says "3 working days" in English and "3 个工作日" in Chinese."""
    order_id = make_order("in_production")
    signed = datetime(2026, 12, 4, 16, 0, tzinfo=SHANGHAI)
    with app.app_context(), app.test_request_context("/", method="POST"):
        aftersales.on_receipt(db.session.get(Order, order_id), signed)
        db.session.commit()
        follow_up = db.session.scalar(db.select(FollowUp))
        assert follow_up.due_at == datetime(2026, 12, 9, 16, 0, tzinfo=SHANGHAI)
    sales = as_user("sales")
    with time_machine.travel(datetime(2026, 12, 5, 9, 0, tzinfo=SHANGHAI), tick=False):
        assert "(3 working days)" in text_of(sales.get("/aftersales/"))
    with app.test_request_context("/"), force_locale("zh"):
        assert clocks.FOLLOW_UP.rule() == "3 个工作日"
        assert clocks.FIRST_RESPONSE.rule() == "24 个工作小时"


def test_milestones_planned_back_from_delivery_land_on_working_days(app, make_order):
    """Work-order milestones never fall on a weekend or a holiday, and keep their order."""
    monday = date(2026, 12, 14)
    with app.app_context():
        db.session.add(CalendarDay(day=date(2026, 12, 10), name="Holiday", is_working=False))
        db.session.commit()
    order_id = make_order("in_production", delivery_date=monday)
    with app.app_context():
        work_orders = db.session.scalars(db.select(WorkOrder).where(WorkOrder.order_id == order_id)).all()
        assert work_orders
        for work_order in work_orders:
            milestones = [work_order.planned_materials, work_order.planned_start, work_order.planned_qc]
            assert all(is_working_day(day) for day in milestones), milestones
            assert milestones == sorted(milestones) and milestones[-1] < monday
            # QC 2 working days before Monday 14th: Friday 11th is one, Thursday 10th a holiday,
            # Wednesday 9th the second.
            assert work_order.planned_qc == date(2026, 12, 9)


def test_return_case_clock_counts_working_hours(app):
    """A return case started from a receipt signed on Saturday morning is due on Tuesday at 00:00:
    the 24 working hours are all of Monday."""
    with app.app_context():
        saturday = datetime(2026, 12, 5, 10, 0, tzinfo=SHANGHAI)
        assert clocks.RETURN_START.due(saturday) == datetime(2026, 12, 8, 0, 0, tzinfo=SHANGHAI)
        assert clocks.RETURN_START.due(saturday) - saturday > timedelta(hours=24)
