"""Records for the statement and accounting-export tests, made with the models directly (invoices,
payments, return credits, shipments and their stock movements): a customer's hand-checked October."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from webapp.extensions import db
from webapp.orders import Order, Payment
from webapp.receivables.models import Invoice
from webapp.shipping.models import ReturnCase, ReturnCredit, Shipment
from webapp.stock.models import Location, Lot, Material, StockMove

UTC = timezone.utc


def invoice(order, number, amount, tax, issued, user_id, voided=False, voided_at=None) -> Invoice:
    """An invoice of order (amounts in its currency, tax included), due 30 days after issue; voided
    (红冲) on 30 October, or at voided_at."""
    row = Invoice(order_id=order.id, kind="vat_special", number=number,
                  issued_on=issued, due_on=issued + timedelta(days=30), tax_rate=Decimal("13"),
                  amount=Decimal(amount), tax_amount=Decimal(tax), recorded_by_id=user_id,
                  voided_at=voided_at or (datetime(2026, 10, 30, tzinfo=UTC) if voided else None))
    db.session.add(row)
    db.session.flush()
    return row


def payment(order, kind, amount, received, user_id, reference="") -> Payment:
    """Money received for order."""
    row = Payment(order_id=order.id, kind=kind, amount=Decimal(amount), received_on=received,
                  reference=reference, recorded_by_id=user_id)
    db.session.add(row)
    db.session.flush()
    return row


_serial = {"n": 0}


def shipment(order, user_id, dispatched_at=None) -> Shipment:
    """A shipment of order, dispatched at dispatched_at (UTC)."""
    _serial["n"] += 1
    row = Shipment(number=f"SH-T{order.id}-{_serial['n']}", order_id=order.id, created_by_id=user_id,
                   status="dispatched" if dispatched_at else "packing", dispatched_at=dispatched_at)
    db.session.add(row)
    db.session.flush()
    return row


def credit(order, amount, created_at, user_id) -> ReturnCredit:
    """A return credit granted on order at created_at (UTC), through a return case of a shipment."""
    ship = shipment(order, user_id)
    case = ReturnCase(shipment_id=ship.id, order_id=order.id, reason="damaged", due_at=created_at)
    db.session.add(case)
    db.session.flush()
    row = ReturnCredit(case_id=case.id, order_id=order.id, amount=Decimal(amount), note="damaged",
                       created_by_id=user_id, created_at=created_at)
    db.session.add(row)
    db.session.flush()
    return row


def ship_moves(ship, values, user_id) -> None:
    """What the shipment took out of stock, at the ledger's values (each value a positive amount)."""
    material = db.session.scalar(db.select(Material).where(Material.code == "FG-T"))
    if material is None:
        material = Material(code="FG-T", name="Bracket", stock_unit="pcs")
        location = Location(code="WH-T", name="Warehouse")
        db.session.add_all([material, location])
        db.session.flush()
    location = db.session.scalar(db.select(Location).where(Location.code == "WH-T"))
    for index, value in enumerate(values):
        lot = Lot(material_id=material.id, code=f"L{ship.id}-{index}", token=f"tok-{ship.id}-{index}")
        db.session.add(lot)
        db.session.flush()
        db.session.add(StockMove(kind="ship", material_id=material.id, lot_id=lot.id, location_id=location.id,
                                 quantity=Decimal("-10"), unit_cost=Decimal(value) / 10, value=-Decimal(value),
                                 doc_type="shipment", doc_id=ship.id, doc_ref=ship.number, user_id=user_id))
    db.session.flush()


def usd(order: Order, rate="7.1") -> Order:
    """Make order a USD order at rate."""
    order.currency, order.exchange_rate = "USD", Decimal(rate)
    return order


def october_statement_books(app, make_order, finance_id, customer="STM") -> dict:
    """A customer's September and October (2026), hand-checked in the firm's currency (CNY):
    opening 630.00 (invoiced 1,130.00, received 500.00 in September); October: a USD invoice of
    100.00 at 7.1 (710.00) on the 5th, 1,000.00 received on the 10th, an invoice of 2,260.00
    recorded at 23:30 on the 31st in Shanghai, a credit of 113.00 granted at 23:30 on the 31st in
    Shanghai; a credit granted at 00:30 on 1 November and an invoice of 1 November are November's.
    Closing: 630 + 710 + 2,260 − 1,000 − 113 = 2,487.00."""
    import time_machine

    from webapp.i18n import firm_today
    a_id = make_order("effective", customer=customer)
    b_id = make_order("effective", customer=customer)
    with app.app_context():
        a, b = db.session.get(Order, a_id), usd(db.session.get(Order, b_id))
        invoice(a, f"{customer}-A1", "1130.00", "130.00", date(2026, 9, 15), finance_id)
        payment(a, "receipt", "500.00", date(2026, 9, 20), finance_id)
        invoice(b, f"{customer}-B1", "100.00", "11.50", date(2026, 10, 5), finance_id)
        payment(a, "receipt", "1000.00", date(2026, 10, 10), finance_id, reference="BANK-1010")
        # Recorded at 23:30 on 31 October in Shanghai (15:30 UTC): the firm's date is the 31st.
        with time_machine.travel(datetime(2026, 10, 31, 15, 30, tzinfo=UTC), tick=False):
            issued = firm_today()
        invoice(a, f"{customer}-A2", "2260.00", "260.00", issued, finance_id)
        credit(a, "113.00", datetime(2026, 10, 31, 15, 30, tzinfo=UTC), finance_id)   # 23:30 on the 31st
        credit(a, "50.00", datetime(2026, 10, 31, 16, 30, tzinfo=UTC), finance_id)    # 00:30 on 1 November
        invoice(a, f"{customer}-A3", "226.00", "26.00", date(2026, 11, 1), finance_id)
        invoice(a, f"{customer}-X", "999.00", "0", date(2026, 10, 20), finance_id, voided=True)
        db.session.commit()
        customer_id = a.customer_id
    return {"customer_id": customer_id, "a": a_id, "b": b_id}
