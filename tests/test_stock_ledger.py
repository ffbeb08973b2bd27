"""The stock ledger: balances are the sum of movements, valuation is the moving average in fen,
held lots stay on the shelf, customer-supplied material is never the firm's value."""
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webapp.customers.models import Customer, Product
from webapp.extensions import db
from webapp.statemachine import TransitionError
from webapp.stock import ledger, products
from webapp.stock.models import Location, Lot, Material, StockBalance, StockMove

D = Decimal


def setup_material(**fields) -> tuple[Material, Location, Location]:
    material = Material(code=fields.pop("code", "AL-6061"), name="铝板 6061", stock_unit="kg", purchase_unit="t",
                        purchase_factor=D("1000"), **fields)
    a, b = Location(code="A", name="原料仓"), Location(code="B", name="车间线边")
    db.session.add_all([material, a, b])
    db.session.flush()
    return material, a, b


def test_moving_average_on_a_hand_checked_sequence(app):
    """Receipts move the average; what goes out leaves at the average of the moment, in fen; the last
    of it takes all the value left (no fen stays behind)."""
    with app.app_context():
        material, a, _b = setup_material()
        first = ledger.receive(material, D("100"), a, unit_cost=D("20.5"), lot_code="H1")
        assert (first.value, material.avg_cost) == (D("2050.00"), D("20.5"))
        ledger.receive(material, D("50"), a, unit_cost=D("23.0125"), lot_code="H2")
        # 2050 + 1150.63 (50 × 23.0125 = 1150.625, half up) = 3200.63 over 150 kg
        assert material.value == D("3200.63")
        assert material.avg_cost == D("21.337533")
        out = ledger.post("issue", first.lot, a, D("30"))
        # 30 × 21.337533 = 640.12599 → 640.13 leaves; the average does not change on the way out
        assert (out.value, out.unit_cost, material.value) == (D("-640.13"), D("21.337533"), D("2560.50"))
        assert material.avg_cost == D("21.337533")
        ledger.post("issue", first.lot, a, D("70"))
        last = db.session.scalar(db.select(Lot).where(Lot.code == "H2"))
        final = ledger.post("scrap", last, a, D("50"))
        assert material.valued_qty == 0 and material.value == 0
        assert sum(m.value for m in db.session.scalars(db.select(StockMove))) == 0
        assert final.value == -(D("3200.63") - D("640.13") - fen_of(D("70") * D("21.337533")))


def fen_of(value: Decimal) -> Decimal:
    return ledger.fen(value)


def test_a_lot_cannot_go_below_zero_and_the_message_says_what_is_left(app):
    with app.app_context():
        material, a, b = setup_material()
        move = ledger.receive(material, D("12.5"), a, unit_cost=D("1"))
        with pytest.raises(TransitionError) as refused:
            ledger.post("issue", move.lot, a, D("12.6"))
        assert refused.value.status == 409 and refused.value.params == {"available": "12.5", "unit": "kg"}
        with pytest.raises(TransitionError):  # nothing of it is in B
            ledger.post("issue", move.lot, b, D("1"))
        for bad in (D("0"), D("-1"), D("1e12"), D("NaN")):
            with pytest.raises(TransitionError):
                ledger.post("issue", move.lot, a, bad)
        assert ledger.on_hand(material.id) == D("12.5")


def test_held_lots_are_not_issued_or_counted_as_available(app):
    with app.app_context():
        material, a, _b = setup_material(inspect_on_receipt=True)
        move = ledger.receive(material, D("40"), a, unit_cost=D("3"))
        assert move.lot.status == "quarantine"
        assert ledger.on_hand(material.id) == D("40") and ledger.available(material.id) == 0
        with pytest.raises(TransitionError) as refused:
            ledger.post("issue", move.lot, a, D("1"))
        assert "held" in refused.value.message
        ledger.post("scrap", move.lot, a, D("5"), reason="failed incoming inspection")  # scrap may go
        move.lot.status = "available"
        assert ledger.available(material.id) == D("35")


def test_customer_supplied_material_moves_in_quantity_only(app, make_customer):
    with app.app_context():
        customer = Customer(name="客户甲", abbreviation="KHJ")
        db.session.add(customer)
        db.session.flush()
        material, a, _b = setup_material(customer_id=customer.id)
        move = ledger.receive(material, D("200"), a, unit_cost=D("15"))
        assert move.value == 0 and material.value == 0 and material.valued_qty == 0
        ledger.post("issue", move.lot, a, D("50"))
        assert ledger.on_hand(material.id) == D("150") and material.value == 0


def test_a_product_with_on_hand_before_the_ledger_gets_an_opening_lot(app):
    """Nothing on the shelf is lost when the ledger takes over a product's stock figure."""
    with app.app_context():
        product = Product(model="PIN-9", name="销", unit="pcs", on_hand=D("300"))
        db.session.add(product)
        db.session.flush()
        material = products.material_for_product(product)
        assert ledger.on_hand(material.id) == D("300")
        products.take_product(product, D("120"), ledger.Doc("shipment", None, "S-1"))
        assert product.on_hand == D("180")
        with pytest.raises(TransitionError):
            products.take_product(product, D("181"), ledger.Doc("shipment", None, "S-2"))
        assert product.on_hand == D("180")


KINDS = st.sampled_from(["receipt", "issue", "return", "scrap", "adjust", "count", "ship"])
STEP = st.tuples(KINDS, st.integers(0, 2), st.integers(0, 1),
                 st.decimals(min_value=D("0.000001"), max_value=D("5000"), places=6),
                 st.decimals(min_value=D("0"), max_value=D("99.999999"), places=6), st.booleans())


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, min_size=1, max_size=30))
def test_balances_equal_the_ledger_after_any_sequence(app, steps):
    """Whatever happens, in whatever order (refusals included): every balance row is the sum of its
    lot's movements there, none is below zero, the valuation is the sum of the movements' values and
    the product's figure is its usable lots."""
    with app.app_context():
        db.session.rollback()
        for model in (StockMove, StockBalance, Lot, Material, Location):
            db.session.execute(db.delete(model))
        db.session.execute(db.delete(Product))
        product = Product(model="P-1", name="成品", unit="pcs")
        db.session.add(product)
        db.session.flush()
        material = products.material_for_product(product)
        a, b = Location(code="A", name="A"), Location(code="B", name="B")
        db.session.add_all([a, b])
        db.session.flush()
        lots = [ledger.new_lot(material, f"L{i}") for i in range(3)]
        for kind, lot_index, location_index, quantity, cost, negative in steps:
            lot, location = lots[lot_index], (a, b)[location_index]
            amount = -quantity if kind in ("adjust", "count") and negative else quantity
            savepoint = db.session.begin_nested()
            try:
                ledger.post(kind, lot, location, amount, unit_cost=cost if kind == "receipt" else None)
                savepoint.commit()
            except TransitionError:
                savepoint.rollback()
        db.session.flush()
        for balance in db.session.scalars(db.select(StockBalance)):
            moved = sum((m.quantity for m in db.session.scalars(db.select(StockMove).where(
                StockMove.lot_id == balance.lot_id, StockMove.location_id == balance.location_id))), D("0"))
            assert balance.on_hand == moved and balance.on_hand >= 0
        db.session.refresh(material)
        assert ledger.on_hand(material.id) == ledger.ledger_total(material.id)
        assert material.value == sum((m.value for m in db.session.scalars(db.select(StockMove))), D("0"))
        assert material.value >= 0 and material.valued_qty == ledger.on_hand(material.id)
        assert product.on_hand == ledger.on_hand(material.id).quantize(D("0.001"))
        db.session.rollback()
