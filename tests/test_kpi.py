"""The six KPIs (docs/kpis.md) on a small hand-checked firm, on SQLite and PostgreSQL: each number
worked out by hand below from its definition, the period's edges in the firm's time zone
(Asia/Shanghai, UTC+8), a period with no data, bad filters, who may look, and the downloads."""
import csv
import io
import json
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
import time_machine
from openpyxl import load_workbook

from webapp.aftersales.models import Survey
from webapp.costing.models import CostLine, CostSheet
from webapp.extensions import db
from webapp.kpi import measures
from webapp.kpi.periods import BadPeriod, make, parse
from webapp.links import AccessLink
from webapp.orders.models import Order, OrderLine, OrderVersion
from webapp.production.models import OutsourceTransfer, ProgressReport, WorkOrder, WorkOrderOperation
from webapp.requirements.models import Requirement, RequirementRound
from webapp.shipping.models import DeliveryReceipt, ReceiptLine, Shipment, ShipmentLine
from webapp.stock.models import BomLine, BomVersion, Location, Lot, Material, StockMove

from .helpers import text_of

BOTH = pytest.mark.parametrize("app", ["sqlite", "postgres"], indirect=True)
# The firm's "now" for every test: Thursday 10 December 2026, noon in Shanghai.
NOW = datetime(2026, 12, 10, 4, 0, tzinfo=timezone.utc)
NOV = "period=month&at=2026-11"


def utc(y, mo, d, h, mi=0):
    """A UTC instant."""
    return datetime(y, mo, d, h, mi, tzinfo=timezone.utc)


def local(y, mo, d, h, mi=0):
    """A Shanghai wall-clock time, as the UTC instant it is (8 hours earlier)."""
    from zoneinfo import ZoneInfo
    return datetime(y, mo, d, h, mi, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(timezone.utc)


class Firm:
    """Rows written straight into the tables: the numbers below are what the definitions give."""

    def __init__(self, sales_id, customers):
        self.sales_id, self.customers, self.n, self.orders = sales_id, customers, 0, 0

    def next(self) -> int:
        self.n += 1
        return self.n

    def requirement(self, abbr, created, sent=None, status="sent"):
        req = Requirement(customer_id=self.customers[abbr], product="Bracket", quantity=Decimal("10"),
                          sales_rep_id=self.sales_id, created_at=created, status=status)
        db.session.add(req)
        db.session.flush()
        if sent is not None:
            db.session.add(RequirementRound(requirement_id=req.id, number=1, snapshot="{}", sent_at=sent,
                                            sent_by_id=self.sales_id))
        return req

    def order(self, abbr, delivery, lines=(("BRK", "100"),), status="delivered", original=None, product_id=None):
        self.orders += 1
        n = self.orders
        order = Order(customer_id=self.customers[abbr], sales_rep_id=self.sales_id, number=f"K-{n:03d}",
                      delivery_date=delivery, status=status, approved_at=utc(2026, 9, 1, 2),
                      version=2 if original else 1)
        db.session.add(order)
        db.session.flush()
        for position, (model, qty) in enumerate(lines, 1):
            db.session.add(OrderLine(order_id=order.id, position=position, model=model, quantity=Decimal(qty),
                                     unit_price=Decimal("1"), unit_price_incl=Decimal("1.13"), product_id=product_id))
        for version, day in ((1, original or delivery), (2, delivery)) if original else ((1, delivery),):
            db.session.add(OrderVersion(order_id=order.id, version=version, sha256="0" * 64,
                                        terms_json=json.dumps({"delivery_date": day.isoformat()})))
        db.session.flush()
        return order

    def receive(self, order, signed_at, quantities, condition="ok"):
        shipment = Shipment(number=f"S-{self.next()}", order_id=order.id, created_by_id=self.sales_id,
                            status="delivered")
        db.session.add(shipment)
        db.session.flush()
        receipt = DeliveryReceipt(shipment_id=shipment.id, signer_name="Ann", consent_text="ok", consent_version="1",
                                  note_json="{}", note_sha256="0" * 64, signed_at=signed_at)
        db.session.add(receipt)
        db.session.flush()
        for line, qty in zip(order.lines, quantities):
            if qty is None:
                continue
            sline = ShipmentLine(shipment_id=shipment.id, order_line_id=line.id, quantity=Decimal(qty))
            db.session.add(sline)
            db.session.flush()
            db.session.add(ReceiptLine(receipt_id=receipt.id, shipment_line_id=sline.id, received_qty=Decimal(qty),
                                       condition=condition))
        db.session.flush()

    def survey(self, order, answered, ratings=None):
        link = AccessLink(purpose="survey", object_id=order.id, nonce="n", token_hash=f"{self.next():064d}",
                          expires_at=utc(2027, 1, 1, 0))
        db.session.add(link)
        db.session.flush()
        a, b, c = ratings or (None, None, None)
        db.session.add(Survey(order_id=order.id, link_id=link.id, status="answered" if answered else "sent",
                              answered_at=answered, requirement_response=a, delivery_timeliness=b, service_quality=c))

    def cost(self, order, finalised, lines):
        sheet = CostSheet(order_id=order.id, finalised_at=finalised)
        db.session.add(sheet)
        db.session.flush()
        for position, (category, budget, actual) in enumerate(lines, 1):
            db.session.add(CostLine(cost_sheet_id=sheet.id, position=position, category=category,
                                    budget=Decimal(budget), actual=None if actual is None else Decimal(actual)))


@pytest.fixture
def firm(app, make_user, make_customer, make_product):
    """The hand-checked firm (see each test for its numbers)."""
    sales = make_user("sales", username="sally")
    customers = {"ACME": make_customer("ACME"), "BETA": make_customer("BETA")}
    pin, gear = make_product("PIN-1"), make_product("GEAR-1")
    with app.app_context():
        f = Firm(sales, customers)
        # 1. Requirements. November 2026, every customer: 4 of 6 on time.
        f.requirement("ACME", local(2026, 11, 2, 9), local(2026, 11, 2, 15))  # on time
        f.requirement("ACME", local(2026, 11, 6, 17), local(2026, 11, 9, 16))  # Fri 17:00 → due Mon 17:00: on time
        f.requirement("ACME", local(2026, 11, 6, 17), local(2026, 11, 9, 18))  # an hour late
        f.requirement("ACME", local(2026, 11, 20, 10), None, status="draft")  # never sent, time over: late
        f.requirement("ACME", local(2026, 11, 30, 23, 30), local(2026, 12, 1, 10))  # Nov 30 in Shanghai: November
        f.requirement("ACME", local(2026, 12, 1, 0, 30), local(2026, 12, 1, 9))  # still Nov 30 in UTC: December
        f.requirement("ACME", local(2026, 11, 10, 9), None, status="cancelled")  # left out
        f.requirement("BETA", local(2026, 11, 3, 9), local(2026, 11, 3, 11))  # on time
        # 2. Order lines originally due in November: 2 of 5 on time.
        o1 = f.order("ACME", date(2026, 11, 30))
        f.receive(o1, local(2026, 11, 30, 23, 30), ["100"])  # the last evening of the month: on time
        o2 = f.order("ACME", date(2026, 11, 29))
        f.receive(o2, local(2026, 11, 30, 0, 30), ["100"])  # 29 Nov in UTC, 30 Nov in Shanghai: 1 day late
        o3 = f.order("ACME", date(2026, 12, 20), lines=(("GEAR", "50"),), original=date(2026, 11, 16))
        f.receive(o3, local(2026, 11, 15, 10), ["30"])
        f.receive(o3, local(2026, 11, 25, 10), ["20"])  # whole on 25 Nov: 9 days past the ORIGINAL date
        o4 = f.order("BETA", date(2026, 11, 10), lines=(("A", "10"), ("B", "5")))
        f.receive(o4, local(2026, 11, 9, 10), ["10", None])  # line A on time
        f.receive(o4, local(2026, 11, 9, 10), [None, "5"], condition="damaged")  # line B never whole: 30 days
        f.order("ACME", date(2026, 11, 12), status="cancelled")  # left out
        f.order("ACME", date(2026, 11, 5), original=date(2026, 10, 20))  # originally October: left out
        # 3. Surveys answered in November: ratings 5+4+5 and 3+3+4 = 24 over 6 = 4.00.
        f.survey(o1, local(2026, 11, 12, 9), (5, 4, 5))
        f.survey(o2, local(2026, 11, 20, 9), (3, 3, 4))
        f.survey(o3, local(2026, 12, 1, 0, 10), (1, 1, 1))  # December in Shanghai
        f.survey(o4, None)  # not answered
        # 4. Cost sheets finalised in November: |330 − 300| + |450 − 500| = 80 over 800 = 10 %.
        f.cost(o1, local(2026, 11, 5, 9), [("material", "100", "120"), ("labour", "200", "210")])
        f.cost(o2, local(2026, 11, 6, 9), [("material", "500", "450")])
        f.cost(o3, local(2026, 11, 7, 9), [("material", "100", None)])  # incomplete: left out
        f.cost(o4, local(2026, 10, 7, 9), [("material", "100", "900")])  # October
        # 5 and 6. Work orders done in November.
        line = f.order("ACME", date(2027, 1, 10), lines=(("PIN-1", "90"),), status="in_production",
                       product_id=pin).lines[0]
        steel = Material(code="STEEL", name="Steel bar")
        store = Location(code="MAIN", name="Main store")
        db.session.add_all([steel, store])
        db.session.flush()
        lot = Lot(material_id=steel.id, code="L1", token="lot-token-1")
        bom_pin, bom_gear = BomVersion(product_id=pin), BomVersion(product_id=gear)
        db.session.add_all([lot, bom_pin, bom_gear])
        db.session.flush()
        db.session.add_all([BomLine(bom_id=bom_pin.id, material_id=steel.id, quantity_per=Decimal("1")),
                            BomLine(bom_id=bom_gear.id, material_id=steel.id, quantity_per=Decimal("1"))])
        w1 = WorkOrder(number="W-1", token="w1", order_id=line.order_id, order_line_id=line.id, quantity=Decimal("90"),
                       status="done", actual_done=local(2026, 11, 15, 10), bom_version_id=bom_pin.id)
        w2 = WorkOrder(number="W-2", token="w2", product_id=gear, quantity=Decimal("50"), status="done",
                       actual_done=local(2026, 11, 20, 10), bom_version_id=bom_gear.id)  # for stock
        w3 = WorkOrder(number="W-3", token="w3", product_id=gear, quantity=Decimal("10"), status="done",
                       actual_done=local(2026, 12, 2, 10))  # December
        db.session.add_all([w1, w2, w3])
        db.session.flush()
        plating = WorkOrderOperation(work_order_id=w1.id, position=1, name="Plating", token="op1", outsourced=True)
        turning = WorkOrderOperation(work_order_id=w1.id, position=2, name="Turning", token="op2",
                                     piece_rate=Decimal("2"))
        db.session.add_all([plating, turning])
        db.session.flush()
        db.session.add(OutsourceTransfer(number="T-1", operation_id=plating.id, sent_qty=Decimal("100"),
                                         received_good=Decimal("95"), received_scrap=Decimal("5"), cost=Decimal("95"),
                                         received_at=local(2026, 11, 10, 9)))
        db.session.add(ProgressReport(work_order_id=w1.id, operation_id=turning.id, good_qty=Decimal("90"),
                                      scrap_qty=Decimal("5"), worker_id=sales))
        db.session.add(ProgressReport(work_order_id=w2.id, good_qty=Decimal("50"), worker_id=sales))
        db.session.add(ProgressReport(work_order_id=w3.id, good_qty=Decimal("10"), scrap_qty=Decimal("10"),
                                      worker_id=sales))
        for wo, kind, qty, value in ((w1, "issue", "-100", "-500"), (w1, "return", "8", "40"),
                                     (w2, "issue", "-50", "-100")):
            db.session.add(StockMove(kind=kind, material_id=steel.id, lot_id=lot.id, location_id=store.id,
                                     quantity=Decimal(qty), value=Decimal(value), work_order_id=wo.id))
        db.session.commit()
        return {"customers": customers, "pin": pin, "gear": gear, "late_order": o3.id}


def nov(app, kpi, customers=None):
    """kpi's measure for November 2026 (and its facts)."""
    with app.app_context():
        period = make("month", 2026, 11)
        from webapp.kpi.views import KPIS, Filters, read_facts
        facts = read_facts(KPIS[kpi], period, period, Filters(period, None, customers, None))
        return KPIS[kpi].measure(facts), facts


@BOTH
def test_requirement_response_counts_24_working_hours_and_the_firms_days(app, firm):
    with time_machine.travel(NOW, tick=False):
        m, facts = nov(app, "response")
        assert (m.numerator, m.denominator, m.value) == (4, 6, Decimal("0.6667"))
        a, _ = nov(app, "response", [firm["customers"]["ACME"]])
        assert (a.numerator, a.denominator, a.value) == (3, 5, Decimal("0.6000"))


@BOTH
def test_on_time_delivery_is_against_the_original_date_in_the_firms_time_zone(app, firm):
    with time_machine.travel(NOW, tick=False):
        m, facts = nov(app, "on-time")
        assert (m.numerator, m.denominator, m.value) == (2, 5, Decimal("0.4000"))
        late = {(f.order_number, f.line): (f.promised, f.delivered_on, f.days_late) for f in facts if not f.on_time}
        assert late == {("K-002", "1. BRK"): (date(2026, 11, 29), date(2026, 11, 30), 1),
                        ("K-003", "1. GEAR"): (date(2026, 11, 16), date(2026, 11, 25), 9),
                        ("K-004", "2. B"): (date(2026, 11, 10), None, 30)}


@BOTH
def test_satisfaction_cost_deviation_waste_and_marginal_cost(app, firm):
    with time_machine.travel(NOW, tick=False):
        s, _ = nov(app, "satisfaction")
        assert (s.numerator, s.denominator, s.value, s.extra["satisfied"]) == (24, 6, Decimal("4.00"), Decimal("0.5"))
        c, facts = nov(app, "cost")
        assert (c.numerator, c.denominator, c.value) == (Decimal("80"), Decimal("800"), Decimal("0.1000"))
        assert (c.extra["over"], c.extra["orders"]) == (1, 2)
        w, work = nov(app, "waste")
        # Scrap: W-1 5 at plating + 5 at turning, W-2 none: 10 of 150. Material: 460 + 100 issued, the
        # BOM's 90 + 50 pieces at 5 and 2 yuan = 450 + 100: 10 lost of 560.
        assert (w.numerator, w.denominator, w.value) == (Decimal("10"), Decimal("150"), Decimal("0.0667"))
        assert (w.extra["issued"], w.extra["standard"], w.extra["material_rate"]) == (
            Decimal("560.00"), Decimal("550.00"), Decimal("0.0179"))
        with app.app_context():
            pin = measures.marginal_measure(work, firm["pin"])
            gear = measures.marginal_measure(work, firm["gear"])
        # PIN-1: material 460 + labour 90 × 2 + plating 95 = 735 over 90 good; GEAR-1: 100 over 50.
        assert (pin.numerator, pin.denominator, pin.value) == (Decimal("735.00"), Decimal("90"), Decimal("8.17"))
        assert (gear.numerator, gear.denominator, gear.value) == (Decimal("100.00"), Decimal("50"), Decimal("2.00"))


@BOTH
def test_dashboard_shows_numbers_charts_and_no_data(app, firm, as_user):
    client = as_user("manager")
    with time_machine.travel(NOW, tick=False):
        page = text_of(client.get(f"/kpi/?{NOV}"))
        assert "66.7%" in page and "40.0%" in page and "4.00 / 5" in page
        assert 'role="img"' in page and "<desc" in page and "2026-11: 40.0%" in page
        desc = page[page.find('id="c-on-time-d"'):]
        desc = desc[:desc.find("</desc>")]
        # October's one line (originally due then, never delivered) is 0 %; September had none: no data.
        assert "2026-10: 0.0%" in desc and "2026-09: no data" in desc
        assert 'style="' not in page[page.find("<main"):]  # the strict CSP forbids style attributes
        empty = text_of(client.get("/kpi/?period=month&at=2025-03"))
        assert empty.count("No data in this period.") == 6 and "0.0%" not in empty


@BOTH
@pytest.mark.parametrize("query", ["period=week", "period=month&at=2026-13", "period=quarter&at=2026-Q5",
                                   "period=year&at=0001", "customer=abc", "customer=99999",
                                   "customer=%EF%BC%91", "at=" + "9" * 500, "product=-1"])
def test_bad_filters_answer_400_with_a_message(app, firm, as_user, query):
    response = as_user("manager").get(f"/kpi/?{query}")
    assert response.status_code == 400
    assert 'role="alert"' in text_of(response)
    assert as_user("finance").get(f"/kpi/on-time?{query}").status_code == 400


def test_a_nul_byte_is_cleaned_not_a_500(app, as_user):
    """The app strips NUL bytes from query values (inputs.py): 2026-11 followed by NUL is 2026-11."""
    page = text_of(as_user("manager").get("/kpi/?at=2026-11%00"))
    assert "KPIs · 2026-11" in page


def test_bad_period_messages_are_translated(app, as_user):
    client = as_user("manager", locale="zh")
    page = text_of(client.get("/kpi/?period=month&at=2026-13"))
    assert "月份" in page


@BOTH
def test_floor_and_warehouse_may_not_look(app, firm, as_user):
    for role in ("worker", "warehouse", "qc"):
        client = as_user(role)
        assert client.get("/kpi/").status_code == 403
        assert client.get(f"/kpi/cost?{NOV}").status_code == 403
        assert client.get(f"/kpi/orders/{firm['late_order']}/delays").status_code == 403


@BOTH
def test_drill_down_xlsx_and_csv_hold_the_lines_behind_the_number(app, firm, as_user):
    client = as_user("manager")
    with time_machine.travel(NOW, tick=False):
        page = text_of(client.get(f"/kpi/late?{NOV}"))
        assert "K-003" in page and f"/kpi/orders/{firm['late_order']}/delays" in page and "K-001" not in page
        response = client.get(f"/kpi/on-time?{NOV}&format=xlsx")
        assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
        sheet = load_workbook(io.BytesIO(response.data)).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][:4] == ("Order", "Customer", "Line", "Quantity")
        by_line = {(r[0], r[2]): r for r in rows[1:]}
        assert len(by_line) == 5
        assert by_line[("K-003", "1. GEAR")][4].date() == date(2026, 11, 16)  # the original date
        assert by_line[("K-003", "1. GEAR")][5].date() == date(2026, 12, 20)  # the amended one
        assert by_line[("K-003", "1. GEAR")][7] == 9
        cost = load_workbook(io.BytesIO(client.get(f"/kpi/over-budget?{NOV}&format=xlsx").data)).active
        assert [c.value for c in cost[2]][:6] == ["K-001", "ACME Ltd", 300, 330, 30, 0.1]
        text = client.get(f"/kpi/cost?{NOV}&format=csv").data.decode("utf-8-sig")
        assert list(csv.reader(io.StringIO(text)))[0][:2] == ["Order", "Customer"]
        chinese = as_user("manager", locale="zh")
        zh = load_workbook(io.BytesIO(chinese.get(f"/kpi/satisfaction?{NOV}&format=xlsx").data)).active
        assert zh["A1"].value == "订单" and zh.max_row == 3


@BOTH
def test_delay_causes_show_the_anomalies(app, firm, as_user):
    from webapp.production.models import Anomaly
    with app.app_context():
        order_id = firm["late_order"]
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
        wo = WorkOrder(number="W-9", token="w9", order_id=order_id, order_line_id=line_id, quantity=Decimal("50"),
                       status="done")
        db.session.add(wo)
        db.session.flush()
        user_id = db.session.scalar(db.select(Requirement.sales_rep_id).limit(1))
        db.session.add(Anomaly(work_order_id=wo.id, kind="equipment_failure", severity="blocking",
                               note="Lathe spindle broke", new_eta=date(2026, 11, 25), eta_reason="Spare part",
                               reported_by_id=user_id))
        db.session.commit()
    with time_machine.travel(NOW, tick=False):
        page = text_of(as_user("manager").get(f"/kpi/orders/{order_id}/delays"))
    assert "Lathe spindle broke" in page and "Equipment failure" in page.replace("equipment failure", "Equipment failure")
    assert "9 days late" in page
    with time_machine.travel(NOW, tick=False):  # K-004's line B came damaged: shown as a cause
        damaged = text_of(as_user("finance").get(f"/kpi/orders/{order_id + 1}/delays"))
    assert "Signed for with a problem" in damaged and "Damaged" in damaged and "30 days late" in damaged


def test_periods_parse_and_edges(app):
    with app.app_context():
        assert parse("quarter", "2026-Q4").first == date(2026, 10, 1)
        assert parse("quarter", "2026-Q4").last == date(2026, 12, 31)
        assert parse("year", "2024").last == date(2024, 12, 31)
        nov_ = parse("month", "2026-11")
        assert nov_.end == utc(2026, 11, 30, 16)  # Shanghai midnight of 1 December
        with pytest.raises(BadPeriod):
            parse("month", "2026-1")


@BOTH
def test_causes_that_cost_most_and_who_sees_costs(app, firm, as_user):
    """The causes list adds up the cause amounts of November's finalised sheets, costliest first; cost
    KPIs and lists are for who may see costs (finance, the manager, the roles the firm allows)."""
    from webapp.costing.models import CostCause, CostLineCause
    with app.app_context():
        price = CostCause(key=None, name="Steel price rise", position=1)
        rework = CostCause(key=None, name="Rework", position=2)
        db.session.add_all([price, rework])
        db.session.flush()
        lines = db.session.scalars(db.select(CostLine).join(CostSheet).order_by(CostLine.id)).all()
        # K-001's material (+20) and labour (+10); K-004's (October) 800 must not count in November.
        db.session.add_all([CostLineCause(cost_line_id=lines[0].id, cause_id=price.id, amount=Decimal("15")),
                            CostLineCause(cost_line_id=lines[0].id, cause_id=rework.id, amount=Decimal("5")),
                            CostLineCause(cost_line_id=lines[1].id, cause_id=rework.id, amount=Decimal("10")),
                            CostLineCause(cost_line_id=lines[-1].id, cause_id=price.id, amount=Decimal("800"))])
        db.session.commit()
    manager = as_user("manager")
    with time_machine.travel(NOW, tick=False):
        sheet = load_workbook(io.BytesIO(manager.get(f"/kpi/causes?{NOV}&format=xlsx").data)).active
        assert [[c.value for c in row] for row in sheet.iter_rows(min_row=2)] == [
            ["Steel price rise", 15, 1, 1], ["Rework", 15, 1, 2]]
        beta = manager.get(f"/kpi/causes?{NOV}&customer={firm['customers']['BETA']}")
        assert "No data in this period." in text_of(beta)
        with app.app_context():
            from webapp.firm import get_settings
            get_settings().cost_roles = "operations"  # this firm keeps costs from sales
            db.session.commit()
        sales = as_user("sales")
        page = text_of(sales.get(f"/kpi/?{NOV}"))
        assert "On-time delivery" in page and "Order cost deviation" not in page and "Marginal cost" not in page
        assert "¥" not in page[page.find("<main"):]
        for path in ("cost", "marginal", "over-budget", "causes"):
            assert sales.get(f"/kpi/{path}?{NOV}").status_code == 403, path
        waste = load_workbook(io.BytesIO(sales.get(f"/kpi/waste?{NOV}&format=xlsx").data)).active
        assert waste.max_column == 6  # pieces only, no material money
        assert as_user("finance").get(f"/kpi/causes?{NOV}").status_code == 200
        assert manager.get("/kpi/nonsense").status_code == 404


@BOTH
def test_a_sales_rep_limited_to_own_customers_sees_only_their_figures(app, firm, as_user):
    """With "sales reps see only their own customers" on, a rep's KPIs count only their customers,
    and another customer in the URL is refused (400, never that customer's figures)."""
    from webapp.customers.models import Customer
    from webapp.firm import get_settings
    client = as_user("sales", username="rep")
    with app.app_context():
        from webapp.auth.models import User
        rep = db.session.scalar(db.select(User).where(User.username == "rep"))
        db.session.get(Customer, firm["customers"]["ACME"]).owner_id = rep.id
        get_settings().sales_own_customers_only = True
        db.session.commit()
    with time_machine.travel(NOW, tick=False):
        page = text_of(client.get(f"/kpi/?{NOV}"))
        assert "3 of 5 requirement records" in page and "BETA Ltd" not in page
        assert client.get(f"/kpi/?{NOV}&customer={firm['customers']['BETA']}").status_code == 400
        late = text_of(client.get(f"/kpi/late?{NOV}"))
        assert "K-002" in late and "K-004" not in late
