"""Quotations (报价, issue 14): the cost estimate per category from the BOM, the routing and the
rates with the firm's overhead rule, the margin, missing rates named (never counted as 0), and the
customer's acceptance making the draft order with the quotation's prices and the estimate as its
budget, once however often it is pressed."""
from datetime import date, timedelta
from decimal import Decimal

import pytest

from webapp.auth.models import User
from webapp.costing.quote_models import Quote
from webapp.customers.models import Customer, Product
from webapp.extensions import db
from webapp.orders.models import Order
from webapp.production.models import RoutingStep, WorkCentre
from webapp.requirements.models import Requirement
from webapp.stock.models import BomLine, BomVersion, Material

from .helpers import at_once, count, text_of

BOTH = pytest.mark.parametrize("app", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                               indirect=True)


def set_overhead(rules) -> None:
    """The firm's overhead rule: (basis, rate, share %) each (inside an app context)."""
    from webapp.costing import overhead
    if hasattr(overhead, "OverheadRule"):
        db.session.execute(db.delete(overhead.OverheadRule))
        for position, (basis, rate, share) in enumerate(rules, start=1):
            db.session.add(overhead.OverheadRule(basis=basis, rate=Decimal(rate), share=Decimal(share),
                                                 position=position))
    else:  # the local stand-in before the lead's module landed
        overhead.RULES[:] = [(b, Decimal(r), Decimal(s)) for b, r, s in rules]


@pytest.fixture
def bracket(app, make_customer, make_user):
    """The hand-checked product WB-20 (welded bracket) and a confirmed requirement for 2,000 of it.

    BOM: steel ST-2 2 kg per unit with 10 % scrap at the moving average 5.00/kg; bolts B-8, 4 per
    unit, none in stock, last price paid 0.25. Routing: 1. Cut at the CNC cell (60.00 an hour),
    3 min a piece; 2. Assemble, 6 min a piece, piece rate 1.50, no work centre.
    Overhead rule: machine hours at 20.00 an hour for 50 %, 10 % of the direct cost for 50 %."""
    customer_id = make_customer("BRK")
    sales_id = make_user("sales", username="sam")
    with app.app_context():
        product = Product(model="WB-20", name="Welded bracket", unit="pcs", list_price=Decimal("30"))
        steel = Material(code="ST-2", name="Steel plate", stock_unit="kg", valued_qty=Decimal("100"),
                         value=Decimal("500"), avg_cost=Decimal("5"), last_cost=Decimal("4.8"))
        bolt = Material(code="B-8", name="Bolt M8", stock_unit="pcs", last_cost=Decimal("0.25"))
        cnc = WorkCentre(code="CNC", name="CNC cell", hourly_rate=Decimal("60"))
        db.session.add_all([product, steel, bolt, cnc])
        db.session.flush()
        db.session.add(BomVersion(product_id=product.id, version=1, current=True, lines=[
            BomLine(position=1, material=steel, quantity_per=Decimal("2"), scrap_percent=Decimal("10")),
            BomLine(position=2, material=bolt, quantity_per=Decimal("4"))]))
        db.session.add_all([
            RoutingStep(product_id=product.id, position=1, name="Cut", work_centre_id=cnc.id,
                        minutes_per_piece=Decimal("3")),
            RoutingStep(product_id=product.id, position=2, name="Assemble", minutes_per_piece=Decimal("6"),
                        piece_rate=Decimal("1.5"))])
        set_overhead([("machine_hour", "20", "50"), ("direct_cost", "10", "50")])
        requirement = Requirement(customer_id=customer_id, product="Welded bracket", product_id=product.id,
                                  quantity=Decimal("2000"), unit="pcs", status="confirmed",
                                  customer_part_no="C-77", drawing_rev="B", sales_rep_id=sales_id,
                                  expected_date=date.today() + timedelta(days=40))
        db.session.add(requirement)
        db.session.commit()
        return {"customer_id": customer_id, "product_id": product.id, "requirement_id": requirement.id,
                "steel_id": steel.id, "bolt_id": bolt.id, "cnc_id": cnc.id}


def quote_form(**overrides) -> dict:
    """The form for 2,000 of WB-20 at a 25 % target margin, logistics estimated at 500."""
    data = {"currency": "CNY", "tax_rate": "13", "valid_until": (date.today() + timedelta(days=30)).isoformat(),
            "target_margin": "25", "lines-0-model": "WB-20", "lines-0-quantity": "2,000", "lines-0-unit": "pcs",
            "lines-0-unit_price": "", "typed_logistics": "500", "note_logistics": "Two pallets to Suzhou"}
    data.update(overrides)
    return data


def make_quote(client, bracket, **overrides) -> int:
    """Sales saves the quotation from the requirement; its id."""
    response = client.post(f"/costing/quotes/new?requirement_id={bracket['requirement_id']}", data=quote_form(**overrides))
    assert response.status_code == 303, text_of(response)[:2000]
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


@BOTH
def test_estimate_of_a_hand_checked_product(app, bracket, as_user):
    """The estimate for 2,000 of WB-20, worked out by hand:

    direct material  steel 2,000 × 2 kg × 1.10 = 4,400 kg × 5.00 (moving average) = 22,000.00
                     bolts 2,000 × 4 = 8,000 × 0.25 (last price: nothing valued in stock) = 2,000.00
                     → 24,000.00
    direct labour    cut 2,000 × 3 min = 100 h × 60.00 = 6,000.00; assemble 2,000 × 1.50 = 3,000.00
                     → 9,000.00
    overhead         machine hours 100 (the cut: the only step at a work centre), labour hours 300;
                     50 % × 20.00 × 100 h + 50 % × 10 % × 33,000.00 = 1,000.00 + 1,650.00 = 2,650.00
    logistics        typed 500.00; after-sales 0
    total            36,150.00, i.e. 18.075 a unit (shown 18.08)
    price at 25 %    18.075 / 0.75 = 24.10 a unit, 27.23 with 13 % tax; 48,200.00 for the line;
                     margin 48,200.00 − 36,150.00 = 12,050.00 = 25.0 %"""
    sales = as_user("sales")
    page = text_of(sales.get(f"/requirements/{bracket['requirement_id']}"))
    assert f"/costing/quotes/new?requirement_id={bracket['requirement_id']}" in page  # the Quote button
    form = text_of(sales.get(f"/costing/quotes/new?requirement_id={bracket['requirement_id']}"))
    assert 'value="WB-20"' in form and 'value="2000"' in form  # prefilled from the requirement
    quote_id = make_quote(sales, bracket)
    with app.app_context():
        quote = db.session.get(Quote, quote_id)
        assert quote.number == f"QT-{date.today().year}-0001" and quote.requirement_id == bracket["requirement_id"]
        costs = {c.category: c for c in quote.costs}
        assert costs["material"].computed == Decimal("24000.00") and not costs["material"].missing
        assert costs["labour"].computed == Decimal("9000.00") and not costs["labour"].missing
        assert costs["overhead"].computed == Decimal("2650.00") and not costs["overhead"].missing
        assert costs["logistics"].value == Decimal("500.00") and costs["logistics"].is_typed
        assert costs["aftersales"].value == Decimal("0") and not costs["aftersales"].is_typed
        assert quote.cost_total == Decimal("36150.00")
        line = quote.lines[0]
        assert line.quantity == Decimal("2000") and line.unit_cost == Decimal("18.08")
        assert line.unit_price == Decimal("24.10") and line.unit_price_incl == Decimal("27.23")
        assert quote.total_excl == Decimal("48200.00") and quote.margin == Decimal("12050.00")
        assert quote.margin_rate == Decimal("0.25")
        assert quote.status == "draft"
    page = text_of(sales.get(f"/costing/quotes/{quote_id}"))
    for shown in ("¥24,000.00", "¥9,000.00", "¥2,650.00", "¥36,150.00", "¥24.10", "¥27.23", "¥12,050.00",
                  "(25 %)", "moving average", "last price paid", "piece rate", "3 min × 2,000 ÷ 60 × 60 per hour", "4,400 kg", "5 (moving average)",
                  "Two pallets to Suzhou"):
        assert shown in page, shown


def test_a_typed_price_and_a_typed_category_count(app, bracket, as_user):
    """A typed unit price wins over the margin; a computed category typed by hand counts, marked as
    typed, and must say where it comes from (422 without a note)."""
    sales = as_user("sales")
    response = sales.post(f"/costing/quotes/new?requirement_id={bracket['requirement_id']}",
                          data=quote_form(typed_material="20000"))
    assert response.status_code == 422 and "Say where the typed number comes from." in text_of(response)
    quote_id = make_quote(sales, bracket, typed_material="２０，０００", note_material="Steel from the customer's mill",
                          **{"lines-0-unit_price": "25"})
    with app.app_context():
        quote = db.session.get(Quote, quote_id)
        assert quote.cost_by["material"].value == Decimal("20000") and quote.cost_by["material"].is_typed
        assert quote.cost_by["material"].computed == Decimal("24000.00")  # kept beside the typed one
        # What counts is also the overhead's direct base: 1,000 + 50 % × 10 % × (20,000 + 9,000) = 2,450
        assert quote.cost_by["overhead"].value == Decimal("2450.00")
        assert quote.cost_total == Decimal("31950.00")
        assert quote.lines[0].unit_price == Decimal("25.00") and quote.total_excl == Decimal("50000.00")
    assert "typed" in text_of(sales.get(f"/costing/quotes/{quote_id}"))


def test_missing_rates_are_named_and_the_quotation_cannot_be_sent(app, bracket, as_user):
    """A step with neither a piece rate nor an hourly rate and a material with no cost are named (the
    computed number is marked incomplete, never a silent 0); sending is refused (409) with each of
    them; typed by hand with a note, the quotation goes out."""
    with app.app_context():
        db.session.get(WorkCentre, bracket["cnc_id"]).hourly_rate = Decimal("0")
        db.session.get(Material, bracket["bolt_id"]).last_cost = Decimal("0")
        db.session.commit()
    sales = as_user("sales")
    quote_id = make_quote(sales, bracket)
    page = text_of(sales.get(f"/costing/quotes/{quote_id}"))
    assert "Step “Cut” of WB-20 has neither a piece rate nor a work-centre hourly rate." in page
    assert "B-8 Bolt M8 has no cost: none of it is valued in stock and no price was paid yet." in page
    assert "The overhead needs the direct material and direct labour first." in page
    with app.app_context():
        quote = db.session.get(Quote, quote_id)
        assert quote.cost_total is None and quote.lines[0].unit_price is None
    response = sales.post(f"/costing/quotes/{quote_id}/send")
    assert response.status_code == 409
    assert "Step “Cut” of WB-20 has neither a piece rate" in text_of(response)
    assert "Line 1 has no price" in text_of(response)
    with app.app_context():
        assert db.session.get(Quote, quote_id).status == "draft"
    response = sales.post(f"/costing/quotes/{quote_id}/edit", data=quote_form(
        typed_material="23000", note_material="Bolts quoted by the supplier at 0.125",
        typed_labour="9500", note_labour="Cutting at 65/h from the cell's last month"))
    assert response.status_code == 303, text_of(response)[:1500]
    with app.app_context():
        quote = db.session.get(Quote, quote_id)
        # the overhead now has its direct base: 1,000 + 50 % × 10 % × 32,500 = 2,625
        assert quote.cost_by["overhead"].value == Decimal("2625.00")
        assert quote.cost_total == Decimal("23000") + Decimal("9500") + Decimal("2625") + Decimal("500")
    assert sales.post(f"/costing/quotes/{quote_id}/send").status_code == 303
    with app.app_context():
        assert db.session.get(Quote, quote_id).status == "sent"
    # A sent quotation no longer changes.
    assert sales.post(f"/costing/quotes/{quote_id}/edit", data=quote_form()).status_code == 409


def test_a_product_without_bom_or_routing_and_no_overhead_rule(app, bracket, as_user, make_product):
    """A catalogue product with neither BOM nor routing, and a firm with no overhead rule: each named."""
    make_product("PLAIN-1")
    with app.app_context():
        set_overhead([])
        db.session.commit()
    sales = as_user("sales")
    response = sales.post("/costing/quotes/new", data=quote_form(
        customer_id=str(bracket["customer_id"]), **{"lines-0-model": "PLAIN-1"}))
    assert response.status_code == 303
    page = text_of(sales.get(response.headers["Location"]))
    assert "PLAIN-1 has no bill of materials: its material cost is unknown." in page
    assert "PLAIN-1 has no routing: its labour and hours are unknown." in page
    assert "The firm has no overhead rule yet: set one, or type the overhead by hand." in page


def test_bad_input(app, bracket, as_user):
    """Unknown model, no line, a quantity of 0, letters for a number, a margin of 100 %: 422 with the
    message beside the field; nothing saved."""
    sales = as_user("sales")
    url = f"/costing/quotes/new?requirement_id={bracket['requirement_id']}"
    for overrides, message in (({"lines-0-model": "NOPE"}, "No product with this model in the catalogue."),
                               ({"lines-0-model": "", "lines-0-quantity": ""}, "Add at least one line."),
                               ({"lines-0-quantity": "0"}, "Must be above zero."),
                               ({"target_margin": "100"}, ""), ({"tax_rate": "abc"}, "")):
        response = sales.post(url, data=quote_form(**overrides))
        assert response.status_code == 422, overrides
        assert message in text_of(response)
    assert count(app, Quote) == 0


def accept_ready(app, client, bracket) -> int:
    """A quotation sent to the customer; its id."""
    quote_id = make_quote(client, bracket)
    assert client.post(f"/costing/quotes/{quote_id}/send").status_code == 303
    return quote_id


@BOTH
def test_acceptance_makes_the_order_with_prices_and_budget(app, bracket, as_user):
    """Sales records the acceptance: a draft order for the customer and the requirement, the line at
    the quotation's unit prices, the estimate as the cost budget per category (said to come from
    the quotation); the order page links to it; a second acceptance is refused (409), one order."""
    sales = as_user("sales")
    quote_id = accept_ready(app, sales, bracket)
    response = sales.post(f"/costing/quotes/{quote_id}/accept", data={"note": "PO 4471 by mail"})
    assert response.status_code == 303
    with app.app_context():
        quote = db.session.get(Quote, quote_id)
        order = db.session.get(Order, quote.order_id)
        assert quote.status == "accepted" and quote.decision_note == "PO 4471 by mail"
        assert quote.decided_by_id == sales.user_id and quote.decided_at is not None
        assert order.status == "draft" and order.customer_id == bracket["customer_id"]
        assert order.requirement_id == bracket["requirement_id"]
        line = order.lines[0]
        assert (line.model, line.quantity, line.unit_price, line.unit_price_incl) == (
            "WB-20", Decimal("2000"), Decimal("24.10"), Decimal("27.23"))
        assert line.customer_part_no == "C-77" and line.drawing_rev == "B"
        assert order.total_excl == Decimal("48200.00")
        assert order.budget == {"material": Decimal("24000.00"), "labour": Decimal("9000.00"),
                                "overhead": Decimal("2650.00"), "logistics": Decimal("500.00"),
                                "aftersales": Decimal("0")}
        from webapp.audit import AuditEvent
        budget_event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "order.budget"))
        assert budget_event.note == quote.number
        number = quote.number
    assert response.headers["Location"].endswith(f"/orders/{quote.order_id}")
    page = text_of(sales.get(f"/orders/{quote.order_id}"))
    assert number in page and f"/costing/quotes/{quote_id}" in page
    assert sales.post(f"/costing/quotes/{quote_id}/accept", data={"note": ""}).status_code == 409
    assert count(app, Order) == 1
    # The requirement page lists the quotation and no longer offers a new one (an order exists).
    page = text_of(sales.get(f"/requirements/{bracket['requirement_id']}"))
    assert number in page and f"/costing/quotes/new?requirement_id=" not in page


@BOTH
def test_two_acceptances_at_once_make_one_order(app, bracket, as_user, make_user):
    """Two people accept the same quotation at the same moment: one order, the other refused."""
    sales = as_user("sales")
    make_user("manager", username="mia")
    quote_id = accept_ready(app, sales, bracket)
    with app.app_context():
        sales_name = db.session.get(User, sales.user_id).username
    statuses = at_once(app, [sales_name, "mia"], [(f"/costing/quotes/{quote_id}/accept", {"note": "a"}),
                                                  (f"/costing/quotes/{quote_id}/accept", {"note": "b"})])
    assert sorted(statuses) == [303, 409]
    assert count(app, Order) == 1


def test_an_expired_validity_refuses_acceptance(app, bracket, as_user):
    """A quotation past its validity date is not accepted (409); it may be revised and sent again."""
    sales = as_user("sales")
    quote_id = accept_ready(app, sales, bracket)
    with app.app_context():
        db.session.get(Quote, quote_id).valid_until = date.today() - timedelta(days=2)
        db.session.commit()
    response = sales.post(f"/costing/quotes/{quote_id}/accept", data={"note": ""})
    assert response.status_code == 409
    assert count(app, Order) == 0
    assert sales.post(f"/costing/quotes/{quote_id}/revise", data={"note": "new prices"}).status_code == 303
    with app.app_context():
        assert db.session.get(Quote, quote_id).status == "draft"


def test_who_may_do_what(app, bracket, as_user):
    """Workers and the warehouse see no quotation (403); finance and operations see and price them
    but do not record the customer's answer; sales and the manager do."""
    sales = as_user("sales")
    quote_id = accept_ready(app, sales, bracket)
    for role in ("worker", "warehouse"):
        client = as_user(role)
        assert client.get("/costing/quotes").status_code == 403, role
        assert client.get(f"/costing/quotes/{quote_id}").status_code == 403, role
        assert client.get("/costing/quotes/new").status_code == 403, role
        assert client.post(f"/costing/quotes/{quote_id}/accept", data={"note": ""}).status_code == 403, role
    finance = as_user("finance")
    assert finance.get(f"/costing/quotes/{quote_id}").status_code == 200
    assert finance.get("/costing/quotes/new").status_code == 200
    assert finance.post(f"/costing/quotes/{quote_id}/accept", data={"note": ""}).status_code == 403
    assert "Record the customer" not in text_of(finance.get(f"/costing/quotes/{quote_id}"))
    assert as_user("operations").get("/costing/quotes").status_code == 200
    assert count(app, Order) == 0
    assert as_user("manager").post(f"/costing/quotes/{quote_id}/reject", data={"note": "too dear"}).status_code == 303


def test_list_filters_and_my_work(app, bracket, as_user, make_customer):
    """The list filters by status and customer; a sent quotation close to its validity date is in
    sales' My work."""
    sales = as_user("sales")
    sent_id = accept_ready(app, sales, bracket)
    other = make_customer("OTH")
    make_quote(sales, bracket)  # a draft
    sales.post("/costing/quotes/new", data=quote_form(customer_id=str(other)))
    with app.app_context():
        numbers = {q.id: q.number for q in db.session.scalars(db.select(Quote))}
        db.session.get(Quote, sent_id).valid_until = date.today() + timedelta(days=1)
        db.session.commit()
    sales.get("/costing/quotes")  # shows the flashed "saved" messages, which name the numbers
    page = text_of(sales.get("/costing/quotes?status=sent"))
    assert numbers[sent_id] in page and sum(n in page for n in numbers.values()) == 1
    page = text_of(sales.get(f"/costing/quotes?customer={other}"))
    assert sum(n in page for n in numbers.values()) == 1 and "OTH Ltd" in page
    assert numbers[sent_id] in text_of(sales.get("/"))


def test_a_sub_assembly_made_here_is_costed_from_its_own_bom_and_routing(app, bracket, as_user):
    """WB-20 also takes 2 pins PN-1, made here, with no stock value and no price: a pin costs its own
    BOM and routing, 0.1 kg of steel at 5.00 + a piece rate of 0.20 = 0.70; 2,000 × 2 × 0.70 =
    2,800.00, named as made here. The bolts, now supplied by the customer (客供料), cost the firm
    nothing: direct material 22,000.00 + 0 + 2,800.00 = 24,800.00."""
    with app.app_context():
        pin = Product(model="PN-1", name="Pin", unit="pcs")
        db.session.add(pin)
        db.session.flush()
        pin_stock = Material(code="PN-1", name="Pin", product_id=pin.id)
        db.session.add(pin_stock)
        db.session.add(BomVersion(product_id=pin.id, version=1, current=True, lines=[
            BomLine(position=1, material_id=bracket["steel_id"], quantity_per=Decimal("0.1"))]))
        db.session.add(RoutingStep(product_id=pin.id, position=1, name="Turn", piece_rate=Decimal("0.2")))
        bom = db.session.scalar(db.select(BomVersion).where(BomVersion.product_id == bracket["product_id"]))
        bom.lines.append(BomLine(position=3, material=pin_stock, quantity_per=Decimal("2")))
        db.session.get(Material, bracket["bolt_id"]).customer_id = bracket["customer_id"]  # 客供料
        db.session.commit()
    sales = as_user("sales")
    quote_id = make_quote(sales, bracket)
    with app.app_context():
        material = db.session.get(Quote, quote_id).cost_by["material"]
        assert material.computed == Decimal("24800.00") and not material.missing  # 22,000 + 0 bolts + 2,800
        sources = {row["what"]: row["source"] for row in material.detail}
        assert sources == {"ST-2 Steel plate": "moving_average", "B-8 Bolt M8": "customer_supplied",
                           "PN-1 Pin": "made_here"}
