"""The receivables core: due dates under the credit terms, invoices settled by matched payments,
unmatched receipts and return credits (oldest due first), balances in the firm's currency, ageing
in the firm's time zone."""
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
import time_machine

from webapp.auth.models import User
from webapp.extensions import db
from webapp.orders import Order, Payment
from webapp.receivables import settlement
from webapp.receivables.models import Invoice, PaymentMatch

BOTH = pytest.mark.parametrize("app", ["sqlite", "postgres"], indirect=True)


@pytest.mark.parametrize("issued, days, basis, due", [
    (date(2026, 1, 31), 30, "month_end", date(2026, 3, 2)),   # 31 Jan + 30 days
    (date(2026, 1, 5), 30, "month_end", date(2026, 3, 2)),    # any January day: from the month's end
    (date(2026, 2, 10), 30, "month_end", date(2026, 3, 30)),  # 28 February + 30
    (date(2028, 2, 10), 30, "month_end", date(2028, 3, 30)),  # leap year: 29 February + 30
    (date(2026, 4, 30), 60, "month_end", date(2026, 6, 29)),  # 30 April + 60
    (date(2026, 12, 15), 0, "month_end", date(2026, 12, 31)),  # 月结 0 天: the month's last day
    (date(2026, 1, 31), 30, "net", date(2026, 3, 2)),
    (date(2026, 2, 10), 30, "net", date(2026, 3, 12)),
])
def test_due_dates_under_the_credit_terms(issued, days, basis, due):
    assert settlement.due_date(issued, days, basis) == due


def _invoice(order, number, amount, issued, due, user_id):
    invoice = Invoice(order_id=order.id, kind="vat_special", number=number,
                      issued_on=issued, due_on=due, tax_rate=Decimal("13"), amount=Decimal(amount),
                      tax_amount=Decimal("0"), recorded_by_id=user_id)
    db.session.add(invoice)
    db.session.flush()
    return invoice


@BOTH
def test_settlement_matches_first_then_oldest_due_and_ageing_in_the_firms_zone(app, make_order, make_user):
    from webapp.shipping.models import ReturnCredit  # noqa: F401  (a credit needs a case: netted via the sum)
    finance = make_user("finance")
    order_id = make_order("effective", quantity="100", price="10.00")  # total 1,130.00 incl. 13 %
    with app.app_context():
        order = db.session.get(Order, order_id)
        user = db.session.get(User, finance)
        order.exchange_rate = Decimal("7.1")  # a USD order: the firm counts in CNY
        a = _invoice(order, "INV-A", "500.00", date(2026, 10, 20), date(2026, 10, 31), user.id)
        b = _invoice(order, "INV-B", "400.00", date(2026, 11, 1), date(2026, 11, 30), user.id)
        c = _invoice(order, "INV-C", "230.00", date(2026, 11, 20), date(2026, 12, 20), user.id)
        matched = Payment(order_id=order.id, kind="receipt", amount=Decimal("300.00"),
                          received_on=date(2026, 11, 10), recorded_by_id=user.id)
        deposit = Payment(order_id=order.id, kind="deposit", amount=Decimal("250.00"),
                          received_on=date(2026, 10, 1), recorded_by_id=user.id)
        db.session.add_all([matched, deposit])
        db.session.flush()
        db.session.add(PaymentMatch(payment_id=matched.id, invoice_id=b.id, amount=Decimal("300.00"),
                                    matched_by_id=user.id))
        db.session.commit()

        acct = settlement.account(order)
        outstanding = {i.invoice.number: i.outstanding for i in acct.items}
        # B: 400 - 300 matched = 100; the unmatched deposit 250 pays A (oldest due) first: 250 left on A.
        assert outstanding == {"INV-A": Decimal("250.00"), "INV-B": Decimal("100.00"), "INV-C": Decimal("230.00")}
        assert acct.balance == Decimal("580.00")
        assert acct.to_invoice == Decimal("0.00")

        # 30 November 17:00 UTC is 1 December 01:00 in Shanghai: B (due 30 Nov) is one day overdue there.
        with time_machine.travel(datetime(2026, 11, 30, 17, 0, tzinfo=timezone.utc), tick=False):
            pos = settlement.position(order.customer_id)
            assert settlement.overdue(order.customer_id) == pos.overdue
        assert pos.balance == Decimal("4118.00")  # 580 × 7.1
        assert pos.buckets["d31_60"] == Decimal("1775.00")  # A: 31 Oct + 31 days, 250 × 7.1
        assert pos.buckets["d0_30"] == Decimal("710.00")    # B: 100 × 7.1
        assert pos.buckets["current"] == Decimal("1633.00")  # C: 230 × 7.1
        assert pos.overdue == Decimal("2485.00")
        assert pos.oldest_due == date(2026, 10, 31)
        assert pos.owed == Decimal("4118.00") and pos.advance == Decimal("0")
        # 15:59 UTC is still 30 November in Shanghai: B is due today, not overdue, and A is 30 days
        # overdue (0–30); an hour later, across the month end there, A is 31 days overdue (31–60).
        with time_machine.travel(datetime(2026, 11, 30, 15, 59, tzinfo=timezone.utc), tick=False):
            pos = settlement.position(order.customer_id)
        assert pos.buckets["d0_30"] == Decimal("1775.00") and pos.buckets["d31_60"] == Decimal("0")
        assert pos.buckets["current"] == Decimal("2343.00")



@BOTH
def test_money_received_ahead_is_kept_apart_from_what_invoices_owe(app, make_order, make_user):
    """A deposit on an order not invoiced yet does not pay another order's overdue invoice: the
    customer owes 300.00 overdue on one order (应收) and has 1,000.00 received ahead on the other
    (预收); the balance nets them (-700.00) and the overdue amount stays 300.00."""
    finance = make_user("finance")
    first, second = make_order("effective"), make_order("effective")
    with app.app_context():
        user = db.session.get(User, finance)
        order = db.session.get(Order, first)
        _invoice(order, "INV-1", "300.00", date(2026, 10, 1), date(2026, 10, 31), user.id)
        db.session.add(Payment(order_id=second, kind="deposit", amount=Decimal("1000.00"),
                               received_on=date(2026, 11, 2), recorded_by_id=user.id))
        db.session.commit()
        with time_machine.travel(datetime(2026, 11, 30, 4, 0, tzinfo=timezone.utc), tick=False):
            pos = settlement.position(order.customer_id)
            assert settlement.overdue(order.customer_id) == pos.overdue
    assert (pos.owed, pos.advance, pos.balance) == (Decimal("300.00"), Decimal("1000.00"), Decimal("-700.00"))
    assert pos.overdue == Decimal("300.00") and pos.buckets["d0_30"] == Decimal("300.00")


@pytest.mark.parametrize("days, bucket", [(-5, "current"), (0, "current"), (1, "d0_30"), (30, "d0_30"),
                                          (31, "d31_60"), (60, "d31_60"), (61, "d61_90"), (90, "d61_90"),
                                          (91, "d90_plus"), (400, "d90_plus")])
def test_ageing_buckets_edges(days, bucket):
    assert settlement.ageing_bucket(days) == bucket


def test_the_settings_page_offers_the_roles_receivables_accepts():
    """The admin form (below receivables in the layers) lists the same roles receivables reads."""
    from webapp.admin.forms import FINANCE_READER_CHOICES
    from webapp.receivables import FINANCE_ROLE_CHOICES
    assert FINANCE_READER_CHOICES == FINANCE_ROLE_CHOICES


@BOTH
def test_the_shipping_holds_overdue_reads_only_owing_orders_and_agrees_with_the_position(app, make_order, make_user):
    """settlement.overdue (the order page's shipping hold) settles only the orders that can owe
    something past due, and comes to what the customer's full position says, over orders paid in
    full, in part, ahead, matched, credited, voided and not yet due."""
    import random
    rng = random.Random(17)
    finance = make_user("finance")
    orders = [make_order("effective") for _ in range(12)]
    with app.app_context():
        user = db.session.get(User, finance)
        for n, order_id in enumerate(orders):
            order = db.session.get(Order, order_id)
            issued = date(2026, rng.choice([8, 9, 10, 11]), rng.randint(1, 28))
            invoices = [_invoice(order, f"INV-{n}-{k}", f"{rng.randint(1, 500)}.00", issued, issued.replace(
                day=min(issued.day + rng.randint(0, 20), 28)) if k else date(2026, 12, 25), user.id)
                for k in range(rng.randint(0, 3))]
            if invoices and rng.random() < .2:
                invoices[0].voided_at = datetime(2026, 11, 1, tzinfo=timezone.utc)
            for _ in range(rng.randint(0, 2)):
                paid = Payment(order_id=order_id, kind="receipt", amount=Decimal(rng.randint(1, 700)),
                               received_on=date(2026, 11, 1), recorded_by_id=user.id)
                db.session.add(paid)
                db.session.flush()
                live = [i for i in invoices if i.voided_at is None]
                if live and rng.random() < .5:
                    db.session.add(PaymentMatch(payment_id=paid.id, invoice_id=live[0].id,
                                                amount=min(paid.amount, live[0].amount), matched_by_id=user.id))
        db.session.commit()
        customer_id = db.session.get(Order, orders[0]).customer_id
        with time_machine.travel(datetime(2026, 11, 30, 4, 0, tzinfo=timezone.utc), tick=False):
            position = settlement.position(customer_id)
            assert position.overdue > 0
            assert settlement.overdue(customer_id) == position.overdue
