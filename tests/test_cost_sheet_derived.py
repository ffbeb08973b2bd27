"""The cost sheet fills itself from the records (issue 14), checked by hand on one small order worked
through the real services: materials issued and returned at the moving average, reports paid by the
piece and by the hour, an outsourced batch, two shipments, a return case with its costs and a credit;
then the firm's overhead rule, typed against derived actuals, cause codes with amounts, cause totals
at the firm's month edge, the settings page, the drill-down, and two finance users saving at once.

The order: 100 brackets (BRK-1), budget ¥100 per category (finance's review in make_order).

Material (moving average per material, fen):
    steel: receive S-1 30 kg @ 6.00 (180.00)      avg 6.00
           issue S-1 10 kg                       -60.00    left 20 kg, 120.00
           receive S-2 20 kg @ 7.50 (150.00)     40 kg, 270.00, avg 6.75
           issue S-1 10 kg at 6.75               -67.50
           issue S-2 8 kg at 6.75                -54.00
           return S-2 3 kg at what S-2 went out at (54.00 / 8 = 6.75): +20.25
           steel to the work order: 60 + 67.50 + 54 - 20.25        = 161.25
    pins:  receive P-1 500 @ 0.10; issue 210 (21.00); return 10 (1.00)  = 20.00
    material                                                          = 181.25
Labour (operations from the product's routing):
    1 下料 at CNC (¥60/h), 1.5 min a piece, ¥0.80 a piece
        60 good + 2 scrap, no minutes: pay 60 × 0.80 = 48.00, hours by the routing 1.5 × 62 = 93 min
        40 good, 50 min:               pay 40 × 0.80 = 32.00, 50 min
    2 热处理 sent out (no work centre): 100 sent, 100 back, supplier charged "1,250.00"
    3 装配 at ASM (¥48/h), 2 min a piece, no piece rate: paid by the hour
        70 good, 95 min: 95 × 48 / 60 = 76.00
        30 good, 45 min: 45 × 48 / 60 = 36.00
    own labour 48 + 32 + 76 + 36 = 192.00; with outsourcing 192 + 1250    = 1442.00
Logistics: shipment 1 "1,230.50" + shipment 2 80.00 + the return's freight 120.00   = 1430.50
After-sales: the return's scrap 45.60 + rework 30.00 + the credit 200.00           = 275.60
Overhead: None without a rule. Rule 60 % at ¥50 a machine hour, 40 % at 10 % of direct cost:
    machine hours (operations at a work centre): 93 + 50 + 95 + 45 = 283 min = 283/60 h
    0.6 × 50 × 283/60 = 141.50; direct cost = material + own labour = 181.25 + 192 = 373.25
    (the outsourced batch uses none of the firm's overhead), 0.4 × 0.10 × 373.25 = 14.93
    overhead 141.50 + 14.93                                                       = 156.43
"""
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest
import time_machine

from webapp.auth.models import User
from webapp.costing import overhead, services
from webapp.costing.models import CostCause, CostLine, CostLineCause, CostSheet
from webapp.extensions import db
from webapp.orders.models import Order, OrderLine

from .helpers import at_once, count, text_of

D = Decimal
BOTH = pytest.mark.parametrize("app", [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
], indirect=True)

DERIVED = {"material": D("181.25"), "labour": D("1442.00"), "overhead": None,
           "logistics": D("1430.50"), "aftersales": D("275.60")}
BLANK = {f"{kind}_{c}": "" for kind in ("actual", "cause") for c in DERIVED}


def derived(app, order_id):
    """derived_actuals() of the order, read in a fresh app context."""
    with app.app_context(), app.test_request_context():
        return services.derived_actuals(db.session.get(Order, order_id))


def person(username):
    """A user row by username (inside an app context)."""
    return db.session.scalar(db.select(User).where(User.username == username))


def released(app, make_order, customer="ORD"):
    """Setup through the real services: the product with its BOM (0.25 kg steel, 2 pins a piece) and
    routing (下料 at CNC, 热处理 sent out, 装配 at ASM), steel S-1 and pins P-1 received, the order
    approved and released: its work order copies the routing and holds the BOM's materials."""
    from webapp.customers.models import Product
    from webapp.orders import services as orders
    from webapp.production import centres
    from webapp.purchasing.models import Supplier
    from webapp.stock import bom, ledger
    from webapp.stock.models import Location, Material
    order_id = make_order("effective", quantity="100", customer=customer)
    with app.app_context(), app.test_request_context("/", method="POST"):
        operations = person("operations-maker")
        order = db.session.get(Order, order_id)
        product = db.session.scalar(db.select(Product).where(Product.model == "BRK-1"))
        if product is None:
            product = Product(model="BRK-1", name="支架", unit="pcs")
            steel = Material(code="SPCC-2.0", name="冷轧板 2.0", stock_unit="kg", purchase_unit="kg")
            pin = Material(code="PIN-3", name="销 Ø3", stock_unit="pcs", purchase_unit="pcs")
            store = Location(code="A", name="原料仓")
            supplier = Supplier(name="恒温热处理厂")
            db.session.add_all([product, steel, pin, store, supplier])
            db.session.flush()
            bom.save_bom(product, [bom.BomInput(steel.id, D("0.25")), bom.BomInput(pin.id, D("2"))], None)
            cnc = centres.save_centre(None, {"code": "CNC", "name": "CNC cell", "hourly_rate": D("60")}, operations)
            asm = centres.save_centre(None, {"code": "ASM", "name": "Assembly", "hourly_rate": D("48")}, operations)
            centres.save_routing(product, [
                {"name": "下料", "work_centre_id": cnc.id, "minutes_per_piece": D("1.5"), "piece_rate": D("0.80"),
                 "outsourced": False, "supplier_id": None, "lead_days": 0},
                {"name": "热处理", "work_centre_id": None, "minutes_per_piece": D("0"), "piece_rate": None,
                 "outsourced": True, "supplier_id": supplier.id, "lead_days": 3},
                {"name": "装配", "work_centre_id": asm.id, "minutes_per_piece": D("2"), "piece_rate": None,
                 "outsourced": False, "supplier_id": None, "lead_days": 0}], operations)
            ledger.receive(steel, D("30"), store, unit_cost=D("6.00"), lot_code="S-1")
            ledger.receive(pin, D("500"), store, unit_cost=D("0.10"), lot_code="P-1")
        order.lines[0].product_id = product.id
        if not order.prepayment_satisfied:
            orders.override_prepayment(order, "test", operations)
        orders.simple_transition(order, "start_production", operations)
        db.session.commit()
        work_order = order.work_orders[0]
        return SimpleNamespace(order=order_id, work_order=work_order.id, token=work_order.token,
                               ops=[o.token for o in work_order.operations], op_ids=[o.id for o in work_order.operations],
                               line=order.lines[0].id)


def issue(client, token, lot, quantity, direction="issue"):
    """The warehouse issues (or takes back) a lot on the work order's materials page."""
    response = client.post(f"/w/{token}/materials/{direction}", data={"i-lot": lot, "i-quantity": quantity})
    assert response.status_code == 303, text_of(response)[:2000]


def report(client, op_token, **fields):
    """A worker's report at an operation, as the process card's detailed form sends it."""
    data = {"p-good": "0", "p-scrap": "0", **{f"p-{k}": v for k, v in fields.items()}}
    response = client.post(f"/o/{op_token}/report", data=data)
    assert response.status_code == 303, re.findall(r'class="error"[^>]*>([^<]*)<', text_of(response))


def receive_steel_s2(app):
    """The second steel delivery, dearer: 20 kg at ¥7.50."""
    from webapp.stock import ledger
    from webapp.stock.models import Location, Material
    with app.app_context(), app.test_request_context("/", method="POST"):
        steel = db.session.scalar(db.select(Material).where(Material.code == "SPCC-2.0"))
        ledger.receive(steel, D("20"), db.session.scalar(db.select(Location)), unit_cost=D("7.50"), lot_code="S-2")
        db.session.commit()


@pytest.fixture
def worked(app, make_order, as_user):
    """The hand-worked order of the module docstring, through the real pages and services."""
    from .test_shipping import new_shipment, signed_with_damage
    ids = released(app, make_order)
    warehouse, worker, supervisor = as_user("warehouse"), as_user("worker", name="Wu"), as_user("production")
    issue(warehouse, ids.token, "S-1", "10")
    receive_steel_s2(app)
    issue(warehouse, ids.token, "S-1", "10")
    issue(warehouse, ids.token, "S-2", "8")
    issue(warehouse, ids.token, "P-1", "210")
    issue(warehouse, ids.token, "S-2", "3", "return")
    issue(warehouse, ids.token, "P-1", "10", "return")
    report(worker, ids.ops[0], good="60", scrap="2", scrap_reason="material")
    report(worker, ids.ops[0], good="40", minutes="50")
    sent = supervisor.post(f"/production/operations/{ids.op_ids[1]}/outsource", data={"s-quantity": "100"})
    assert sent.status_code == 303, text_of(sent)[:2000]
    with app.app_context():
        from webapp.production.models import OutsourceTransfer
        transfer = db.session.scalar(db.select(OutsourceTransfer.id))
    back = supervisor.post(f"/production/outsourcing/{transfer}/receive",
                           data={f"r{transfer}-good": "100", f"r{transfer}-scrap": "0", f"r{transfer}-cost": "1,250.00"})
    assert back.status_code == 303, text_of(back)[:2000]
    report(worker, ids.ops[2], good="70", minutes="95")
    report(worker, ids.ops[2], good="30", minutes="45")
    with app.app_context(), app.test_request_context("/", method="POST"):
        from webapp.production import services as floor
        from webapp.production.models import WorkOrder
        work_order = db.session.get(WorkOrder, ids.work_order)
        floor.move(work_order, "finish", person("production-maker"))
        floor.move(work_order, "pass_qc", person("qc-maker"))
        db.session.commit()
        assert db.session.get(Order, ids.order).status == "ready_to_ship"
    assert new_shipment(warehouse, ids.order, ids.line, "60", cost="1,230.50").status_code == 303
    _shipment, case_id = signed_with_damage(app, warehouse, ids.order, ids.line, quantity="40", received="38")
    aftersales = as_user("aftersales")
    assert aftersales.post(f"/shipping/returns/{case_id}/start", data={"action": "Credit the bent ones"}
                           ).status_code == 303
    for kind, amount in (("freight", "120"), ("scrap", "45.60"), ("rework", "30")):
        assert warehouse.post(f"/shipping/returns/{case_id}/costs", data={
            "co-kind": kind, "co-amount": amount, "co-note": f"return {kind}"}).status_code == 303
    assert aftersales.post(f"/shipping/returns/{case_id}/credit", data={"cr-amount": "200", "cr-note": "2 bent"}
                           ).status_code == 303
    ids.case = case_id
    return ids


def set_rules(app, rules):
    """The firm's overhead rules through overhead.save_rules: {basis: (rate, share)}."""
    with app.app_context(), app.test_request_context("/", method="POST"):
        overhead.save_rules({basis: rules.get(basis, (None, None)) for basis in overhead.BASES})
        db.session.commit()


@BOTH
def test_derived_actuals_of_a_worked_order_by_hand(app, worked):
    """Each category as the module docstring works it out by hand: material 181.25 (issued less
    returned at the moving average), labour 1442.00 (piece pay 80 + hourly pay 112 + the supplier's
    1250), logistics 1430.50, after-sales 275.60, overhead None while the firm has no rule."""
    assert derived(app, worked.order) == DERIVED
    with app.app_context(), app.test_request_context():
        [row] = services.recorded_costs(db.session.get(Order, worked.order))
        assert (row["material"], row["labour"], row["outsourcing"], row["labour_missing"]) == (
            D("181.25"), D("192.00"), D("1250.00"), [])
        # 93 + 50 + 95 + 45 minutes, all at a work centre; the outsourced operation has no reports
        assert row["machine_hours"] == row["labour_hours"] == D("283") / 60


@BOTH
def test_overhead_by_the_firms_rule_by_hand(app, worked):
    """60 % at ¥50 a machine hour and 40 % at 10 % of direct cost: 0.6 × 50 × 283/60 = 141.50 plus
    0.4 × 0.10 × (181.25 + 192.00) = 14.93, together 156.43. One rule at 100 % of ¥30 a labour
    hour: 30 × 283/60 = 141.50. The other categories do not move."""
    set_rules(app, {"machine_hour": (D("50"), D("60")), "direct_cost": (D("10"), D("40"))})
    assert derived(app, worked.order) == {**DERIVED, "overhead": D("156.43")}
    set_rules(app, {"labour_hour": (D("30"), D("100"))})
    assert derived(app, worked.order)["overhead"] == D("141.50")


def test_hours_take_the_routing_minutes_only_when_the_report_has_none(app, make_order, as_user):
    """work_order_hours(): a report's own minutes when given, else the routing's minutes a piece ×
    (good + scrap); machine hours only at a work centre. 下料 40 good + 2 scrap without minutes:
    1.5 × 42 = 63 min; 下料 10 good with 7 minutes: 7 (not 15); a report with no operation at all
    (queued before the work order had operations) with 20 minutes: labour, not machine.
    machine = 70 min, labour = 90 min."""
    from webapp.production.models import ProgressReport, WorkOrder
    ids = released(app, make_order)
    worker = as_user("worker")
    report(worker, ids.ops[0], good="40", scrap="2", scrap_reason="material")
    report(worker, ids.ops[0], good="10", minutes="7")
    with app.app_context():
        # SHORTCUT: no page makes a report without an operation on a routed work order any more.
        db.session.add(ProgressReport(work_order_id=ids.work_order, operation_id=None, operation="",
                                      good_qty=D("0"), scrap_qty=D("1"), minutes=D("20"), worker_id=worker.user_id))
        db.session.commit()
        machine, labour = overhead.work_order_hours(db.session.get(WorkOrder, ids.work_order))
        assert (machine, labour) == (D("70") / 60, D("90") / 60)


# --- typed against derived actuals ------------------------------------------------------------------

def actual_cells(page: str) -> list[str]:
    """The Actual column of the sheet's table as shown: the five lines, then the total."""
    return re.findall(r'<td class="num" data-label="Actual">([^<]*)</td>', page)


def lines_of(app, order_id) -> dict:
    """The saved sheet's lines by category as plain tuples (actual, source, entered_by_id, entered_at)."""
    with app.app_context():
        sheet = db.session.scalar(db.select(CostSheet).where(CostSheet.order_id == order_id))
        return {line.category: (line.actual, line.source, line.entered_by_id, line.entered_at) for line in sheet.lines}


@BOTH
def test_blank_keeps_the_records_a_typed_value_is_marked_with_who_and_when(app, make_order, as_user):
    """Released order, S-1 10 kg issued (10 × 6.00 = 60.00). Saved with material blank, overhead
    "2,000" and logistics "２，０００" (full width): material derived 60.00 with nobody named; overhead
    and logistics manual 2000 by Fang, stamped with her time. Ling saving the same numbers later does not
    take them over; Ling typing 1,500 does (at her time). Logistics blanked again: derived 0, nobody."""
    ids = released(app, make_order)
    issue(as_user("warehouse"), ids.token, "S-1", "10")
    fang, ling = as_user("finance", name="Fang"), as_user("finance", name="Ling")
    # Shortly after now (a session logged in now stays valid): microseconds dropped, as stored.
    first = (datetime.now(timezone.utc) + timedelta(minutes=10)).replace(microsecond=0)
    with time_machine.travel(first, tick=False):
        response = fang.post(f"/costing/orders/{ids.order}", data={
            **BLANK, "actual_overhead": "2,000", "actual_logistics": "２，０００"})
        assert response.status_code == 303, text_of(response)[-3000:]
    lines = lines_of(app, ids.order)
    assert lines["material"] == (D("60.00"), "derived", None, None)
    assert lines["labour"] == (D("0"), "derived", None, None)  # no report yet
    assert lines["overhead"] == (D("2000"), "manual", fang.user_id, first)
    assert lines["logistics"] == (D("2000"), "manual", fang.user_id, first)
    # Every later request also travels (the session was last seen at `first`; it may not go back).
    later = first + timedelta(hours=1)
    with time_machine.travel(later, tick=False):
        page = text_of(fang.get(f"/costing/orders/{ids.order}"))
        assert "typed by Fang" in page and "from the records" in page
        assert ling.post(f"/costing/orders/{ids.order}", data={
            **BLANK, "actual_overhead": "2000.00", "actual_logistics": "1,500"}).status_code == 303
    lines = lines_of(app, ids.order)
    assert lines["overhead"] == (D("2000"), "manual", fang.user_id, first)  # unchanged: still Fang's
    assert lines["logistics"] == (D("1500"), "manual", ling.user_id, later)
    with time_machine.travel(later + timedelta(minutes=5), tick=False):
        assert ling.post(f"/costing/orders/{ids.order}", data={**BLANK, "actual_overhead": "2000"}).status_code == 303
    lines = lines_of(app, ids.order)
    assert lines["logistics"] == (D("0"), "derived", None, None)
    assert count(app, CostLine) == 5


@BOTH
def test_a_later_issue_moves_a_derived_line_on_the_page_but_not_a_finalised_sheet(app, make_order, as_user):
    """Saved with material derived at 60.00 (S-1 10 kg). S-1 5 kg more (5 × 6.00): the page shows
    90.00 at once while the saved row still says 60.00 (a page view writes nothing); finalising
    stores 90.00. 4 kg more after that (24.00): the records say 114.00, the finalised sheet keeps
    90.00 on its page and in its row."""
    ids = released(app, make_order)
    warehouse, finance = as_user("warehouse"), as_user("finance")
    issue(warehouse, ids.token, "S-1", "10")
    assert finance.post(f"/costing/orders/{ids.order}", data={**BLANK, "actual_overhead": "100"}).status_code == 303
    issue(warehouse, ids.token, "S-1", "5")
    assert actual_cells(text_of(finance.get(f"/costing/orders/{ids.order}")))[0] == "¥90.00"
    assert lines_of(app, ids.order)["material"][0] == D("60.00")
    assert finance.post(f"/costing/orders/{ids.order}/finalise").status_code == 303
    assert lines_of(app, ids.order)["material"] == (D("90.00"), "derived", None, None)
    issue(warehouse, ids.token, "S-1", "4")
    assert derived(app, ids.order)["material"] == D("114.00")
    cells = actual_cells(text_of(finance.get(f"/costing/orders/{ids.order}")))
    assert cells[0] == "¥90.00" and cells[-1] == "¥190.00"  # 90 + 0 + 100 + 0 + 0
    assert lines_of(app, ids.order)["material"][0] == D("90.00")


# --- cause codes ---------------------------------------------------------------------------------

def cause_id(app, key):
    """A built-in cause's id."""
    with app.app_context():
        return db.session.scalar(db.select(CostCause.id).where(CostCause.key == key))


def causes(category, *rows):
    """Form fields of a line's cause rows: (cause id, amount, note) each."""
    data = {}
    for index, (cause, amount, note) in enumerate(rows):
        data.update({f"causes_{category}-{index}-cause": str(cause), f"causes_{category}-{index}-amount": amount,
                     f"causes_{category}-{index}-note": note})
    return data


def saved_causes(app, order_id) -> dict:
    """{category: [(cause key or name, amount, note)]} as saved."""
    with app.app_context():
        sheet = db.session.scalar(db.select(CostSheet).where(CostSheet.order_id == order_id))
        if sheet is None:
            return {}
        return {line.category: [(lc.cause.key or lc.cause.name, lc.amount, lc.note) for lc in line.causes]
                for line in sheet.lines if line.causes}


@pytest.fixture
def costed(app, make_order):
    """An order in production with nothing recorded: every derived actual 0 against a budget of 100."""
    return make_order("in_production")


def test_several_causes_with_amounts_a_blank_takes_the_rest_signed_like_the_variance(app, costed, as_user):
    """Material typed 160 (variance +60): price increase 40 "steel up", scrap blank → +20. Labour from
    the records, 0 (variance -100, a saving): estimating error 30, other blank → -30 and -70. Two blanks
    on after-sales typed 100.05 (variance +0.05): 0.05 / 2 = 0.025 → 0.03 half up, the last 0.02.
    The form shows the amounts unsigned again, as typed."""
    finance = as_user("finance")
    response = finance.post(f"/costing/orders/{costed}", data={
        **BLANK, "actual_material": "160", "actual_overhead": "100", "actual_aftersales": "100.05",
        **causes("material", (cause_id(app, "price_increase"), "40", "steel up"), (cause_id(app, "scrap"), "", "")),
        **causes("labour", (cause_id(app, "estimating_error"), "30", ""), (cause_id(app, "other"), "", "fewer hours")),
        **causes("aftersales", (cause_id(app, "rework"), "", ""), (cause_id(app, "other"), "", ""))})
    assert response.status_code == 303, re.findall(r'class="error"[^>]*>([^<]*)<', text_of(response))
    assert saved_causes(app, costed) == {
        "material": [("price_increase", D("40"), "steel up"), ("scrap", D("20"), "")],
        "labour": [("estimating_error", D("-30"), ""), ("other", D("-70"), "fewer hours")],
        "aftersales": [("rework", D("0.03"), ""), ("other", D("0.02"), "")]}
    page = text_of(finance.get(f"/costing/orders/{costed}"))
    assert re.findall(r'name="causes_labour-1-amount" type="text" value="([^"]*)"', page) == ["70.00"]
    assert re.findall(r'name="causes_labour-0-amount" type="text" value="([^"]*)"', page) == ["30.00"]


@BOTH
@pytest.mark.parametrize("case, fields, message", [
    ("no variance", {"actual_overhead": "100", **causes("overhead", ("other", "", ""))},
     "This line has no variance"),
    ("more than the variance", {**causes("material", ("price_increase", "50", ""), ("scrap", "20.01", ""))},
     "The causes explain ¥70.01, more than the variance of ¥60.00."),
    ("a saving explained too much", {**causes("labour", ("other", "100.01", ""))},
     "The causes explain ¥100.01, more than the variance of ¥100.00."),
    ("twice", {**causes("material", ("scrap", "10", ""), ("scrap", "", ""))}, "Each cause may be given once on a line."),
    ("amount without a cause", {"causes_material-0-cause": "", "causes_material-0-amount": "10"},
     "Choose the cause this amount or note belongs to."),
    ("tampered id", {**causes("material", ("99999", "10", ""))}, "Choose a cause from the list."),
    ("not a number", {"causes_material-0-cause": "1 OR 1=1", "causes_material-0-amount": "10"},
     "Choose a cause from the list."),
    ("negative amount", {**causes("material", ("scrap", "-5", ""))}, "at least 0"),
])
def test_causes_that_cannot_stand_are_refused_and_nothing_is_saved(app, costed, as_user, case, fields, message):
    """Material typed 160 (variance +60), labour 0 (variance -100), overhead 100 (no variance), over
    a first good save: each refusal is a 422 with its message on the page, what was typed kept, and
    the saved sheet (actuals and causes) unchanged."""
    finance = as_user("finance")
    good = {**BLANK, "actual_material": "150", "actual_overhead": "90",
            **causes("material", (cause_id(app, "price_increase"), "", ""))}
    assert finance.post(f"/costing/orders/{costed}", data=good).status_code == 303
    before = (lines_of(app, costed), saved_causes(app, costed))
    ids = {key: cause_id(app, key) for key in ("other", "price_increase", "scrap")}
    fields = {k: str(ids.get(v, v)) if k.endswith("-cause") else v for k, v in fields.items()}
    response = finance.post(f"/costing/orders/{costed}", data={
        **BLANK, "actual_material": "160", "actual_overhead": "90", **fields})
    page = text_of(response)
    assert response.status_code == 422, case
    assert message in page, (case, re.findall(r'class="error"[^>]*>([^<]*)<', page))
    assert 'value="160"' in page
    assert (lines_of(app, costed), saved_causes(app, costed)) == before
    assert count(app, CostLineCause) == 1


def test_cause_messages_in_chinese(app, costed, as_user):
    """The same refusals read in Chinese by a finance user whose language is Chinese."""
    finance = as_user("finance", locale="zh")
    scrap = cause_id(app, "scrap")
    for fields, english in (
            ({"actual_overhead": "100", **causes("overhead", (scrap, "", ""))}, "This line has no variance"),
            ({"actual_material": "160", **causes("material", (scrap, "70", ""))}, "The causes explain"),
            ({"actual_material": "160", **causes("material", (scrap, "10", ""), (scrap, "", ""))}, "Each cause may"),
            ({"actual_material": "160", "causes_material-0-cause": "", "causes_material-0-amount": "1"}, "Choose the cause"),
            ({"actual_material": "160", **causes("material", (99999, "10", ""))}, "Choose a cause")):
        response = finance.post(f"/costing/orders/{costed}", data={**BLANK, "actual_overhead": "90", **fields})
        page = text_of(response)
        errors = re.findall(r'class="error"[^>]*>([^<]*)<', page)
        assert response.status_code == 422 and errors, english
        assert english not in page, (english, errors)
        assert all(re.search(r"[\u4e00-\u9fff]", e) for e in errors), errors
    assert count(app, CostSheet) == 0


def test_a_hidden_cause_stays_on_its_line_and_selectable_there(app, costed, as_user):
    """Price increase on material, then the firm hides it: the sheet still offers it (so the line can
    be saved again unchanged) and shows it; a hidden cause no line uses is not offered and refused."""
    finance = as_user("finance")
    price, rework = cause_id(app, "price_increase"), cause_id(app, "rework")
    data = {**BLANK, "actual_material": "160", "actual_overhead": "90",
            **causes("material", (price, "", "steel up"))}
    assert finance.post(f"/costing/orders/{costed}", data=data).status_code == 303
    with app.app_context():
        for cause in db.session.scalars(db.select(CostCause).where(CostCause.id.in_([price, rework]))):
            cause.active = False
        db.session.commit()
    page = text_of(finance.get(f"/costing/orders/{costed}"))
    assert f'<option selected value="{price}">' in page or f'value="{price}" selected' in page
    assert f'value="{rework}"' not in page
    assert finance.post(f"/costing/orders/{costed}", data=data).status_code == 303
    assert saved_causes(app, costed)["material"] == [("price_increase", D("60"), "steel up")]
    refused = finance.post(f"/costing/orders/{costed}", data={**data, **causes("overhead", (rework, "", ""))})
    assert refused.status_code == 422 and "Choose a cause from the list." in text_of(refused)


# --- cause totals at the firm's month edge ----------------------------------------------------------

def save_and_finalise(app, order_id, at, actuals, cause_rows, finalise=True):
    """Finance saves (services.save) and finalises the order's sheet at the instant at (UTC);
    cause_rows: {category: [(cause key, amount or None, note)]}."""
    with time_machine.travel(at, tick=False), app.app_context(), app.test_request_context("/", method="POST"):
        finance = person("finance-maker")
        order = db.session.get(Order, order_id)
        keyed = {c.key: c.id for c in db.session.scalars(db.select(CostCause))}
        services.save(order, actuals, {}, finance, causes={
            category: [services.CauseEntry(keyed[key], amount, note) for key, amount, note in rows]
            for category, rows in cause_rows.items()})
        if finalise:
            services.finalise(order, finance)
        db.session.commit()


def totals(app, first=None, last=None, customer=None):
    """cause_totals() as (key, amount, orders, lines) tuples, in its order."""
    from datetime import date
    with app.app_context(), app.test_request_context():
        customer_id = None
        if customer:
            from webapp.customers.models import Customer
            customer_id = db.session.scalar(db.select(Customer.id).where(Customer.abbreviation == customer))
        return [(t.cause.key, t.amount, t.orders, t.lines)
                for t in services.cause_totals(first and date(*first), last and date(*last), customer_id)]


@BOTH
def test_cause_totals_by_firm_local_month_and_customer(app, make_order):
    """Budgets 100 a category.
    A (ACME) finalised 2026-10-31 15:30 UTC = 23:30 in Shanghai: October. Material 160: price +40,
      scrap +20 (blank); labour 0 (records): estimating error -100.
    B (BETA) finalised 2026-10-31 16:30 UTC = 00:30 on 1 November in Shanghai: November. Material
      130: price +30; labour typed 150: delay overtime +50.
    C (ACME) finalised 2026-11-15: material 110: scrap +10.
    D (BETA) saved with material 190: price +90 but never finalised: counted nowhere.
    October: price 40, scrap 20, estimating -100. November: delay 50, price 30, scrap 10.
    All: price 70 on 2 orders, delay 50, scrap 30 on 2 orders, estimating -100. ACME: price 40,
    scrap 30 (2 orders, 2 lines), estimating -100. BETA in October: nothing."""
    a, c = make_order("in_production", customer="ACME"), make_order("in_production", customer="ACME")
    b, d = make_order("in_production", customer="BETA"), make_order("in_production", customer="BETA")
    utc = timezone.utc
    save_and_finalise(app, a, datetime(2026, 10, 31, 15, 30, tzinfo=utc), {"material": D("160"), "overhead": D("100")},
                      {"material": [("price_increase", D("40"), ""), ("scrap", None, "")],
                       "labour": [("estimating_error", None, "")]})
    save_and_finalise(app, b, datetime(2026, 10, 31, 16, 30, tzinfo=utc),
                      {"material": D("130"), "labour": D("150"), "overhead": D("100")},
                      {"material": [("price_increase", None, "copper")], "labour": [("delay_overtime", D("50"), "")]})
    save_and_finalise(app, c, datetime(2026, 11, 15, 3, 0, tzinfo=utc), {"material": D("110"), "overhead": D("100")},
                      {"material": [("scrap", D("10"), "")]})
    save_and_finalise(app, d, datetime(2026, 11, 16, 3, 0, tzinfo=utc), {"material": D("190"), "overhead": D("100")},
                      {"material": [("price_increase", None, "")]}, finalise=False)
    assert totals(app, (2026, 10, 1), (2026, 10, 31)) == [
        ("price_increase", D("40"), 1, 1), ("scrap", D("20"), 1, 1), ("estimating_error", D("-100"), 1, 1)]
    assert totals(app, (2026, 11, 1), (2026, 11, 30)) == [
        ("delay_overtime", D("50"), 1, 1), ("price_increase", D("30"), 1, 1), ("scrap", D("10"), 1, 1)]
    assert totals(app, (2026, 11, 1)) == totals(app, (2026, 11, 1), (2026, 11, 30))
    assert totals(app, last=(2026, 10, 31)) == totals(app, (2026, 10, 1), (2026, 10, 31))
    assert totals(app) == [("price_increase", D("70"), 2, 2), ("delay_overtime", D("50"), 1, 1),
                           ("scrap", D("30"), 2, 2), ("estimating_error", D("-100"), 1, 1)]
    assert totals(app, customer="ACME") == [("price_increase", D("40"), 1, 1), ("scrap", D("30"), 2, 2),
                                            ("estimating_error", D("-100"), 1, 1)]
    assert totals(app, (2026, 10, 1), (2026, 10, 31), customer="BETA") == []


# --- the drill-down ------------------------------------------------------------------------------

def body_rows(page: str) -> int:
    """How many rows the drill-down's table body has."""
    match = re.search(r"<tbody>(.*?)</tbody>", page, re.S)
    return match.group(1).count("<tr>") if match else 0


def footer_total(page: str) -> str:
    """The drill-down's total as shown."""
    match = re.search(r'<tfoot>.*?<td class="num" data-label="Total">([^<]*)</td>', page, re.S)
    return match.group(1) if match else ""


@BOTH
def test_the_drill_down_lists_what_each_derived_number_is_made_of(app, worked, as_user):
    """Material: the 4 issues and 2 returns, total ¥181.25. Labour: the 4 reports and the outsourced
    batch, ¥1,442.00. Logistics: 2 shipments and the return's freight, ¥1,430.50. After-sales: scrap,
    rework and the credit, ¥275.60. Overhead: no rule, no total, a note; with the rule of the module
    docstring 2 rows and ¥156.43. Each total is the derived actual (sources_of against
    derived_actuals, exactly); an unknown category is 404, a person who may not see costs 403."""
    from webapp.costing.sources import sources_of
    finance = as_user("finance")
    expected = {"material": (6, "¥181.25"), "labour": (3, "¥1,442.00"), "logistics": (3, "¥1,430.50"),
                "aftersales": (3, "¥275.60")}
    for category, (rows, total) in expected.items():
        page = text_of(finance.get(f"/costing/orders/{worked.order}/sources/{category}"))
        assert (body_rows(page), footer_total(page)) == (rows, total), category
    material = text_of(finance.get(f"/costing/orders/{worked.order}/sources/material"))
    assert material.count(">Issued<") == 4 and material.count(">Returned<") == 2 and "S-2" in material
    labour = text_of(finance.get(f"/costing/orders/{worked.order}/sources/labour"))
    # One row per operation and worker (two reports each: 48 + 32 at 下料, 76 + 36 at 装配), and the batch.
    assert "Outsourced operations" in labour and "¥1,250.00" in labour
    assert "¥80.00" in labour and "¥112.00" in labour and "¥76.00" not in labour
    page = text_of(finance.get(f"/costing/orders/{worked.order}/sources/overhead"))
    assert body_rows(page) == 0 and "<tfoot>" not in page and "no overhead rule" in page
    set_rules(app, {"machine_hour": (D("50"), D("60")), "direct_cost": (D("10"), D("40"))})
    page = text_of(finance.get(f"/costing/orders/{worked.order}/sources/overhead"))
    assert (body_rows(page), footer_total(page)) == (2, "¥156.43") and "¥141.50" in page and "¥14.93" in page
    assert "Per machine hour" in page and "60 %" in page
    zh = as_user("finance", locale="zh").get(f"/costing/orders/{worked.order}/sources/overhead")
    assert zh.status_code == 200 and "按机器工时" in text_of(zh) and "分摊比例" in text_of(zh)
    with app.app_context(), app.test_request_context():
        order = db.session.get(Order, worked.order)
        numbers = services.derived_actuals(order)
        assert {c: sources_of(order, c).total for c in numbers} == numbers
    assert finance.get(f"/costing/orders/{worked.order}/sources/profit").status_code == 404
    assert finance.get(f"/costing/orders/{worked.order}/sources/").status_code == 404
    assert finance.get(f"/costing/orders/999999/sources/material").status_code == 404
    assert as_user("worker").get(f"/costing/orders/{worked.order}/sources/material").status_code == 403
    assert as_user("qc").get(f"/costing/orders/{worked.order}/sources/labour").status_code == 403


# --- two finance users at once ---------------------------------------------------------------------

@BOTH
def test_two_finance_users_saving_the_same_sheet_at_once(app, costed, make_user):
    """Two finance users save the first sheet of the order at the same moment (the sheet does not
    exist yet), each with causes on material: each is served (303) or told clearly (409/422); the
    order has one sheet, one line per category and the causes of exactly one of the two saves."""
    make_user("finance", username="fin0")
    make_user("finance", username="fin1")
    price, scrap = cause_id(app, "price_increase"), cause_id(app, "scrap")
    path = f"/costing/orders/{costed}"
    first = {**BLANK, "actual_material": "160", "actual_overhead": "100",
             **causes("material", (price, "40", "steel"), (scrap, "", ""))}
    second = {**BLANK, "actual_material": "150", "actual_overhead": "90", **causes("material", (price, "", ""))}
    for round_ in range(2):
        statuses = at_once(app, ["fin0", "fin1"], [(path, first), (path, second)])
        assert set(statuses) <= {303, 409, 422} and 303 in statuses, (round_, statuses)
        with app.app_context():
            assert db.session.scalar(db.select(db.func.count()).select_from(CostSheet)) == 1
            categories = db.session.scalars(db.select(CostLine.category)).all()
            assert sorted(categories) == sorted(DERIVED), categories
            pairs = db.session.execute(db.select(CostLineCause.cost_line_id, CostLineCause.cause_id)).all()
            assert len(pairs) == len(set(pairs))
        assert saved_causes(app, costed) in (
            {"material": [("price_increase", D("40"), "steel"), ("scrap", D("20"), "")]},
            {"material": [("price_increase", D("50"), "")]})


# --- the cost settings page ----------------------------------------------------------------------

def settings_data(roles=("operations", "sales"), **rules):
    """The settings form: cost_roles and {basis: (rate, share)} as typed."""
    data = {"cost_roles": list(roles)}
    for basis in overhead.BASES:
        rate, share = rules.get(basis, ("", ""))
        data.update({f"{basis}-rate": rate, f"{basis}-share": share})
    return data


def saved_rules(app) -> dict:
    """{basis: (rate, share)} as saved, and the firm's cost roles."""
    from webapp.firm import get_settings
    with app.app_context():
        return {"rules": {r.basis: (r.rate, r.share) for r in overhead.rules()}, "roles": get_settings().cost_roles}


@BOTH
def test_overhead_rule_shares_must_add_up_and_nothing_changes_when_refused(app, as_user):
    """Finance saves 60 % machine hours at "1,050" and 40 % of direct cost at 10 (with production
    allowed to see costs). Then 60 + 30 = 90 % is refused (422, the message, in Chinese too), a rate
    without its share and a share without its rate too, a share of 0 or above 100 too: the rule and
    the roles stay as saved. Worker and sales may not open or post the page (403)."""
    finance = as_user("finance")
    good = settings_data(("operations", "sales", "production"), machine_hour=("1,050", "60"), direct_cost=("10", "40"))
    assert finance.get("/costing/settings").status_code == 200
    response = finance.post("/costing/settings", data=good)
    assert response.status_code == 303, re.findall(r'class="error"[^>]*>([^<]*)<', text_of(response))
    saved = saved_rules(app)
    assert saved == {"rules": {"machine_hour": (D("1050"), D("60")), "direct_cost": (D("10"), D("40"))},
                     "roles": "operations,sales,production"}
    refusals = [
        (settings_data(("operations",), machine_hour=("50", "60"), direct_cost=("10", "30")),
         "The shares of the overhead rules must add up to 100 %."),
        (settings_data(machine_hour=("50", ""), direct_cost=("10", "100")), "Give both the rate and its share, or neither."),
        (settings_data(machine_hour=("", "100")), "Give both the rate and its share, or neither."),
        (settings_data(machine_hour=("50", "0"), direct_cost=("10", "100")), "Each share must be more than 0 %"),
        (settings_data(machine_hour=("50", "120")), "at most 100"),
        (settings_data(machine_hour=("-5", "100")), "at least 0"),
    ]
    for data, message in refusals:
        response = finance.post("/costing/settings", data=data)
        page = text_of(response)
        assert response.status_code == 422 and message in page, (data, re.findall(r'class="error"[^>]*>([^<]*)<', page))
        assert saved_rules(app) == saved
    zh = as_user("finance", locale="zh").post("/costing/settings", data=refusals[0][0])
    assert zh.status_code == 422 and "100" in text_of(zh) and "The shares" not in text_of(zh)
    assert saved_rules(app) == saved
    for role in ("worker", "sales", "production"):
        client = as_user(role)
        assert client.get("/costing/settings").status_code == 403, role
        assert client.post("/costing/settings", data=good).status_code == 403, role
    assert as_user("manager").get("/costing/settings").status_code == 200


def test_cost_roles_decide_who_sees_the_cost_sheet(app, make_order, as_user):
    """By default sales sees the cost sheet and its button on the order page, production does not.
    Finance removes sales and adds production: sales gets 403 on the sheet and its drill-down and no
    button; production sees both. Finance and the manager see costs whatever is chosen."""
    order_id = make_order("in_production")
    sales, production, finance = as_user("sales"), as_user("production"), as_user("finance")
    assert sales.get(f"/costing/orders/{order_id}").status_code == 200
    assert "Cost sheet" in text_of(sales.get(f"/orders/{order_id}"))
    assert production.get(f"/costing/orders/{order_id}").status_code == 403
    assert finance.post("/costing/settings", data=settings_data(("production",))).status_code == 303
    assert sales.get(f"/costing/orders/{order_id}").status_code == 403
    assert sales.get(f"/costing/orders/{order_id}/sources/material").status_code == 403
    order_page = sales.get(f"/orders/{order_id}")
    assert order_page.status_code == 200 and f"/costing/orders/{order_id}" not in text_of(order_page)
    assert production.get(f"/costing/orders/{order_id}").status_code == 200
    assert finance.post("/costing/settings", data=settings_data(())).status_code == 303
    assert saved_rules(app)["roles"] == ""
    assert production.get(f"/costing/orders/{order_id}").status_code == 403
    assert finance.get(f"/costing/orders/{order_id}").status_code == 200
    assert as_user("manager").get(f"/costing/orders/{order_id}").status_code == 200


def cause_rows(app, **changes) -> dict:
    """The cause codes form as the page posts it, every cause as saved, with changes by key or name:
    {key: (name, active)}."""
    data = {}
    with app.app_context():
        for cause in db.session.scalars(db.select(CostCause)):
            name, active = changes.get(cause.key or cause.name, (cause.name, cause.active))
            data[f"causes-{cause.id}-name"] = name
            if active:
                data[f"causes-{cause.id}-active"] = "y"
    return data


def cause_table(app) -> dict:
    """{key or name: (name, active)} as saved."""
    with app.app_context():
        return {c.key or c.name: (c.name, c.active) for c in db.session.scalars(db.select(CostCause))}


def test_cause_codes_renamed_hidden_added_and_a_duplicate_refused(app, costed, as_user):
    """Finance renames "other" to 杂项, hides scrap and adds 模具损坏: the sheet offers 杂项 and 模具损坏,
    not scrap. A new cause named like an existing one ("Rework", "rework", 杂项) is refused (422),
    a cause renamed to another's name too, a firm's own cause with no name too: nothing changes."""
    finance = as_user("finance")
    response = finance.post("/costing/settings/causes", data={
        **cause_rows(app, other=("杂项", True), scrap=("", False)), "new_name": "模具损坏"})
    assert response.status_code == 303, re.findall(r'class="error"[^>]*>([^<]*)<', text_of(response))
    table = cause_table(app)
    assert table["other"] == ("杂项", True) and table["scrap"] == ("", False) and table["模具损坏"] == ("模具损坏", True)
    page = text_of(finance.get(f"/costing/orders/{costed}"))
    assert ">杂项</option>" in page and ">模具损坏</option>" in page and ">Scrap</option>" not in page
    for data in ({**cause_rows(app), "new_name": "Rework"}, {**cause_rows(app), "new_name": "rework"},
                 {**cause_rows(app), "new_name": "杂项"},
                 {**cause_rows(app), "new_name": " 模具损坏 "},
                 cause_rows(app, rework=("杂项", True)),
                 cause_rows(app, 模具损坏=("Price increase", True)),
                 cause_rows(app, 模具损坏=("", True))):
        response = finance.post("/costing/settings/causes", data=data)
        assert response.status_code == 422, (data, response.status_code)
        assert cause_table(app) == table
    assert as_user("sales").post("/costing/settings/causes", data=cause_rows(app)).status_code == 403


@pytest.mark.parametrize("more, actual, reason", [
    ("15", "¥150.00", "the saving became an overrun: -40 given, +50 now"),
    ("5", "¥90.00", "the saving shrank: 40 explained of a variance of 10"),
])
def test_finalising_refuses_causes_the_records_have_outgrown(app, make_order, as_user, more, actual, reason):
    """Material from the records, 10 kg of S-1: 60.00 against 100 (variance -40), explained by scrap
    (blank: -40). More steel is issued before finalising (15 kg: 150.00, variance +50; or 5 kg:
    90.00, variance -10): the causes no longer fit the variance finalising would store, so it is
    refused (409, the sheet stays open, its causes unchanged). Saved again as the page shows it
    (scrap 40.00 unsigned, then "fits"), it finalises."""
    ids = released(app, make_order)
    warehouse, finance = as_user("warehouse"), as_user("finance")
    issue(warehouse, ids.token, "S-1", "10")
    scrap = cause_id(app, "scrap")
    assert finance.post(f"/costing/orders/{ids.order}", data={
        **BLANK, "actual_overhead": "100", **causes("material", (scrap, "", ""))}).status_code == 303
    assert saved_causes(app, ids.order) == {"material": [("scrap", D("-40.00"), "")]}
    issue(warehouse, ids.token, "S-1", more)
    response = finance.post(f"/costing/orders/{ids.order}/finalise")
    assert response.status_code == 409, reason
    assert "causes" in text_of(response)
    with app.app_context():
        assert not db.session.scalar(db.select(CostSheet)).is_final
    assert saved_causes(app, ids.order) == {"material": [("scrap", D("-40.00"), "")]}
    page = text_of(finance.get(f"/costing/orders/{ids.order}"))
    assert actual_cells(page)[0] == actual
    amount = "10" if more == "5" else "40.00"
    assert finance.post(f"/costing/orders/{ids.order}", data={
        **BLANK, "actual_overhead": "100", **causes("material", (scrap, amount, ""))}).status_code == 303
    assert finance.post(f"/costing/orders/{ids.order}/finalise").status_code == 303
    expected = D("-10") if more == "5" else D("40")
    assert saved_causes(app, ids.order) == {"material": [("scrap", expected, "")]}


@pytest.mark.parametrize("rows", [
    [("price_increase", "60"), ("scrap", "")],                      # 60 of 60 typed: nothing left
    [("price_increase", "59.99"), ("scrap", ""), ("rework", "")],  # 0.01 left for two blanks
])
def test_a_blank_cause_with_nothing_left_to_explain_is_refused(app, costed, as_user, rows):
    """Material 160 against 100 (variance 60): a blank cause takes what the others leave, so a blank
    with nothing (or less than a fen each) left would be saved as explaining ¥0.00: refused with a
    message (422), nothing saved; 59.99 and one blank is fine (0.01)."""
    finance = as_user("finance")
    fields = causes("material", *[(cause_id(app, key), amount, "") for key, amount in rows])
    response = finance.post(f"/costing/orders/{costed}", data={
        **BLANK, "actual_material": "160", "actual_overhead": "100", **fields})
    assert response.status_code == 422 and "already explain the whole variance" in text_of(response)
    assert count(app, CostLineCause) == 0 and count(app, CostSheet) == 0
    fine = causes("material", (cause_id(app, "price_increase"), "59.99", ""), (cause_id(app, "scrap"), "", ""))
    assert finance.post(f"/costing/orders/{costed}", data={
        **BLANK, "actual_material": "160", "actual_overhead": "100", **fine}).status_code == 303
    assert saved_causes(app, costed)["material"] == [("price_increase", D("59.99"), ""), ("scrap", D("0.01"), "")]


def test_a_blank_the_records_cannot_fill_names_nobody(app, costed, as_user):
    """Overhead with no rule, left blank: not entered yet, and nobody is named as having typed it
    (who and when belong to a typed amount); typed later, the typist is named."""
    finance = as_user("finance", name="Fang")
    assert finance.post(f"/costing/orders/{costed}", data=BLANK).status_code == 303
    assert lines_of(app, costed)["overhead"] == (None, "manual", None, None)
    assert "not entered yet" in text_of(finance.get(f"/costing/orders/{costed}"))
    assert finance.post(f"/costing/orders/{costed}", data={**BLANK, "actual_overhead": "80"}).status_code == 303
    actual, source, who, when = lines_of(app, costed)["overhead"]
    assert (actual, source, who) == (D("80"), "manual", finance.user_id) and when is not None


def test_the_labour_drill_down_adds_up_to_the_derived_labour_to_the_fen(app, make_order, as_user):
    """The assembly centre's rate becomes ¥50 an hour; three reports of 1 minute at 装配 (1 piece
    scrapped each): 3 × 50 / 60 = 2.50 exactly, while each report alone is 0.8333… → 0.83, and
    three rounded rows would add up to 2.49. The drill-down's total is the derived labour, 2.50."""
    from webapp.costing.sources import sources_of
    from webapp.production import centres
    from webapp.production.models import WorkCentre
    ids = released(app, make_order)
    with app.app_context(), app.test_request_context("/", method="POST"):
        centre = db.session.scalar(db.select(WorkCentre).where(WorkCentre.code == "ASM"))
        centres.save_centre(centre, {"hourly_rate": D("50")}, person("operations-maker"))
        db.session.commit()
    worker = as_user("worker")
    for _ in range(3):
        report(worker, ids.ops[2], scrap="1", scrap_reason="material", minutes="1")
    assert derived(app, ids.order)["labour"] == D("2.50")
    with app.app_context(), app.test_request_context():
        assert sources_of(db.session.get(Order, ids.order), "labour").total == D("2.50")
    page = text_of(as_user("finance").get(f"/costing/orders/{ids.order}/sources/labour"))
    assert footer_total(page) == "¥2.50"


@BOTH
def test_a_save_and_a_finalise_at_once_never_change_a_finalised_sheet(app, costed, make_user, as_user):
    """Material saved at 150. Fin0 saves 170 while fin1 finalises, at the same moment: the finalise
    is served; the save either came first (303: the sheet is finalised at 170) or is refused as
    finalised (409: it is finalised at 150). A save that reports success never lands on a finalised
    sheet unseen, and the audit trail's last save says what the sheet holds."""
    make_user("finance", username="fin0")
    make_user("finance", username="fin1")
    finance = as_user("finance")
    path = f"/costing/orders/{costed}"
    assert finance.post(path, data={**BLANK, "actual_material": "150", "actual_overhead": "100"}).status_code == 303
    statuses = at_once(app, ["fin0", "fin1"], [(path, {**BLANK, "actual_material": "170", "actual_overhead": "100"}),
                                               (path + "/finalise", {})])
    assert statuses[1] == 303 and statuses[0] in (303, 409), statuses
    with app.app_context():
        sheet = db.session.scalar(db.select(CostSheet))
        material = {line.category: line.actual for line in sheet.lines}["material"]
        assert sheet.is_final and material == (D("170") if statuses[0] == 303 else D("150")), statuses
    assert count(app, CostLine) == 5


@BOTH
def test_two_people_setting_the_first_overhead_rule_at_once(app, make_user):
    """Finance and the manager save the firm's first overhead rule at the same moment (no rule exists,
    each inserts one per basis): each is served (303) or told to try again (409), never a 500; the
    firm ends with one rule set, whole — one of the two, its shares adding up to 100 %."""
    from webapp.costing.overhead import OverheadRule
    make_user("finance", username="fin0")
    make_user("manager", username="boss")
    one = {"machine_hour-rate": "50", "machine_hour-share": "60", "direct_cost-rate": "10", "direct_cost-share": "40"}
    two = {"machine_hour-rate": "45", "machine_hour-share": "100"}
    for round_ in range(2):
        with app.app_context():
            db.session.execute(db.delete(OverheadRule))
            db.session.commit()
        statuses = at_once(app, ["fin0", "boss"], [("/costing/settings", one), ("/costing/settings", two)])
        assert set(statuses) <= {303, 409} and 303 in statuses, (round_, statuses)
        with app.app_context():
            rules = {r.basis: (r.rate, r.share) for r in db.session.scalars(db.select(OverheadRule))}
        assert rules in ({"machine_hour": (Decimal("50"), Decimal("60")), "direct_cost": (Decimal("10"), Decimal("40"))},
                         {"machine_hour": (Decimal("45"), Decimal("100"))}), (round_, rules)


def test_return_freight_is_named_a_return_case_not_returned_material(app, worked, as_user):
    """The logistics drill-down names a return case's freight as the return case (退换货单), never as
    material returned to stock (退料), which the material drill-down uses."""
    zh = text_of(as_user("finance", locale="zh").get(f"/costing/orders/{worked.order}/sources/logistics"))
    assert "退换货单" in zh and "退料" not in zh
