"""Invoices and receivables: invoices recorded (and refused when larger than the order or numbered
twice), payments matched (and refused when matched twice or beyond what is open), the ageing list
and its download, reminders mailed once through a real SMTP server, the shipping hold (款到发货)
and finance's release, permissions and a foreign-currency order."""
import email
import email.policy
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from webapp.auth.models import User
from webapp.customers import Customer
from webapp.extensions import db
from webapp.firm import get_settings
from webapp.orders import Order, Payment
from webapp.orders.models import OrderLine
from webapp.receivables import settlement
from webapp.receivables.models import Invoice, InvoiceReminder, PaymentMatch, ShippingRelease
from webapp.shipping.models import Shipment, ShipmentLine
from webapp.wallclock import frozen

from .helpers import at_once, count, error_of, text_of

BOTH = pytest.mark.parametrize("app", ["sqlite", "postgres"], indirect=True)
D = Decimal


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def terms(app, order_id, **values):
    """Set the order's (and the firm's) terms directly."""
    with app.app_context():
        order = db.session.get(Order, order_id)
        for key, value in values.items():
            setattr(order, key, value)
        db.session.commit()


def invoice_data(number="INV-1", amount="500.00", against="m", milestone="Deposit", issued="2026-11-05", **extra):
    data = {"inv-kind": "vat_special", "inv-number": number, "inv-issued_on": issued, "inv-amount": amount,
            "inv-tax_rate": "13", "inv-against": against, "inv-milestone": milestone}
    data.update({f"inv-{k}": v for k, v in extra.items()})
    return data


def pay(app, order_id, amount, received_on=date(2026, 11, 10), kind="receipt") -> int:
    """A payment received (as orders records it)."""
    with app.app_context():
        finance = db.session.scalar(db.select(User.id).where(User.username == "finance-maker"))
        payment = Payment(order_id=order_id, kind=kind, amount=D(amount), received_on=received_on,
                          recorded_by_id=finance)
        db.session.add(payment)
        db.session.commit()
        return payment.id


@BOTH
def test_invoices_are_recorded_and_refused_with_clear_messages(app, make_order, as_user):
    """Total 1,130.00. A 500.00 invoice on 月结 30 天 issued 5 November falls due 30 December, its
    tax computed from 13 %; the same number again, an invoice above what is left, a shipment of
    another order and a missing milestone are refused with their messages; sales may not record."""
    order_id = make_order("ready_to_ship", customer="ACME")
    other_id = make_order("ready_to_ship", customer="ACME")
    terms(app, order_id, credit_days=30, credit_basis="month_end")
    finance = as_user("finance")
    path = f"/receivables/orders/{order_id}/invoices"
    with frozen(utc(2026, 11, 20, 2)):
        response = finance.post(path, data=invoice_data())
        assert response.status_code == 303
        with app.app_context():
            invoice = db.session.scalar(db.select(Invoice))
            assert (invoice.due_on, invoice.amount, invoice.tax_amount) == (date(2026, 12, 30), D("500.00"), D("57.52"))
            assert invoice.order_id == order_id  # its customer is the order's (not stored twice)

        twice = finance.post(path, data=invoice_data(amount="10"))
        assert twice.status_code == 409 and "Invoice number INV-1 is already recorded." in text_of(twice)
        too_big = finance.post(path, data=invoice_data(number="INV-2", amount="630.01"))
        assert too_big.status_code == 409
        assert "An invoice larger than the order: only ¥630.00 of the order is left to invoice." in text_of(too_big)
        assert 'value="630.01"' in text_of(too_big)  # what was typed is kept
        with app.app_context():
            foreign = Shipment(number="X-S1", order_id=other_id, created_by_id=1)
            db.session.add(foreign)
            db.session.commit()
            foreign_id = foreign.id
        wrong = finance.post(path, data=invoice_data(number="INV-3", against=f"s{foreign_id}"))
        assert wrong.status_code == 422 and "Choose what the invoice is for." in text_of(wrong)
        unnamed = finance.post(path, data=invoice_data(number="INV-4", milestone=""))
        assert unnamed.status_code == 422 and "Name the milestone." in text_of(unnamed)
        blank = finance.post(path, data=invoice_data(number="", amount="abc"))
        assert blank.status_code == 422 and error_of(text_of(blank), "inv-amount")
        assert as_user("sales").post(path, data=invoice_data(number="INV-5")).status_code == 403
        # the rest of the order fits exactly; an entered tax amount is kept as entered
        rest = finance.post(path, data=invoice_data(number="INV-6", amount="630.00", tax_amount="72.48"))
        assert rest.status_code == 303
    assert count(app, Invoice) == 2
    story = text_of(finance.get(f"/orders/{order_id}/timeline"))  # the order's whole story tells it
    assert "Invoice recorded" in story and "INV-6" in story and "¥630.00" in story
    with app.app_context():
        acct = settlement.account(db.session.get(Order, order_id))
        assert acct.invoiced == D("1130.00") and acct.to_invoice == D("0")


@BOTH
def test_the_same_number_twice_at_once_saves_one(app, make_order, make_user):
    """Two finance clerks type the same invoice number at the same moment: one is saved, the other
    is told the number is taken (409)."""
    order_id = make_order("ready_to_ship", customer="ACME")
    make_user("finance", username="fin0")
    make_user("finance", username="fin1")
    path = f"/receivables/orders/{order_id}/invoices"
    statuses = at_once(app, ["fin0", "fin1"], [(path, invoice_data(amount="100")), (path, invoice_data(amount="200"))])
    assert sorted(statuses) == [303, 409]
    assert count(app, Invoice) == 1


@BOTH
def test_payments_matched_refused_when_twice_or_too_much_and_voiding_releases(app, make_order, as_user):
    """A payment of 600.00 against invoices A 500 and B 400: 300 to B; the same pair again is "a
    payment matched twice"; 400 more to A exceeds the payment's unmatched 300; after 100 more to B,
    B has nothing open; the rest goes to A by the suggestion; voiding A frees its match."""
    order_id = make_order("ready_to_ship", customer="ACME")
    finance = as_user("finance")
    path = f"/receivables/orders/{order_id}/invoices"
    assert finance.post(path, data=invoice_data("A", "500", issued="2026-11-01")).status_code == 303
    assert finance.post(path, data=invoice_data("B", "400", issued="2026-11-02")).status_code == 303
    payment_id = pay(app, order_id, "600")
    with app.app_context():
        a, b = (db.session.scalar(db.select(Invoice.id).where(Invoice.number == n)) for n in "AB")
    match = f"/receivables/orders/{order_id}/matches"
    assert finance.post(match, data={"m-payment_id": payment_id, "m-invoice_id": b, "m-amount": "300"}).status_code == 303
    twice = finance.post(match, data={"m-payment_id": payment_id, "m-invoice_id": b, "m-amount": "50"})
    assert twice.status_code == 409 and "This payment is already matched to invoice B." in text_of(twice)
    beyond = finance.post(match, data={"m-payment_id": payment_id, "m-invoice_id": a, "m-amount": "400"})
    assert beyond.status_code == 409 and "More than the payment&#39;s unmatched part (¥300.00)." in text_of(beyond)
    second = pay(app, order_id, "200")
    over_invoice = finance.post(match, data={"m-payment_id": second, "m-invoice_id": b, "m-amount": "150"})
    assert over_invoice.status_code == 409 and "More than what is open on invoice B (¥100.00)." in text_of(over_invoice)
    assert finance.post(match, data={"m-payment_id": second, "m-invoice_id": b, "m-amount": "100"}).status_code == 303
    assert finance.post(f"/receivables/payments/{payment_id}/auto-match").status_code == 303
    assert finance.post(f"/receivables/payments/{payment_id}/auto-match").status_code == 409  # nothing left
    with app.app_context():
        pairs = {(m.payment_id, m.invoice_id): m.amount for m in db.session.scalars(db.select(PaymentMatch))}
        assert pairs == {(payment_id, b): D("300.00"), (second, b): D("100.00"), (payment_id, a): D("300.00")}
        acct = settlement.account(db.session.get(Order, order_id))
        # A: 500 - 300 matched - 100 of the second payment unmatched = 100 open
        assert {i.invoice.number: i.outstanding for i in acct.items} == {"A": D("100.00"), "B": D("0")}
    no_reason = finance.post(f"/receivables/invoices/{a}/void", data={"void-reason": ""})
    assert no_reason.status_code == 422
    assert finance.post(f"/receivables/invoices/{a}/void", data={"void-reason": "wrong buyer tax id"}).status_code == 303
    again = finance.post(f"/receivables/invoices/{a}/void", data={"void-reason": "again"})
    assert again.status_code == 409 and "already voided" in text_of(again)
    # A reason refused (too long) comes back under its invoice with the message, not an empty box.
    long_reason = "退" * 2001
    too_long = finance.post(f"/receivables/invoices/{b}/void", data={"void-reason": long_reason})
    assert too_long.status_code == 422 and f">{long_reason}</textarea>" in text_of(too_long)
    assert f'id="void-{b}-err"' in text_of(too_long)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(PaymentMatch)
                                 .where(PaymentMatch.invoice_id == a)) == 0
        assert db.session.get(Invoice, a).void_reason == "wrong buyer tax id"
        match_id = db.session.scalar(db.select(PaymentMatch.id).where(PaymentMatch.payment_id == second))
    assert finance.post(f"/receivables/matches/{match_id}/unmatch").status_code == 303
    assert count(app, PaymentMatch) == 1


def _invoice(app, order_id, number, amount, issued, due):
    with app.app_context():
        order = db.session.get(Order, order_id)
        user = db.session.scalar(db.select(User.id).where(User.username == "finance-maker"))
        db.session.add(Invoice(order_id=order_id, kind="vat_special", number=number,
                               issued_on=issued, due_on=due, tax_rate=D("13"), amount=D(amount),
                               tax_amount=D("0"), recorded_by_id=user))
        db.session.commit()


@BOTH
def test_the_ageing_list_on_a_hand_built_set_and_its_xlsx(app, make_order, as_user):
    """On 15 December 2026 (Shanghai): ACME owes 300 due 10 December (5 days: 0–30) and 200 due
    1 September (105 days: over 90); BETA, a USD order at 7.10, owes 100 USD due 1 November (44
    days: 31–60) = 710.00 CNY and 50 USD not yet due = 355.00; GAMMA paid everything. Sorted by
    the oldest due date: ACME first; the totals add up; the XLSX says the same."""
    acme = make_order("ready_to_ship", customer="ACME")
    beta = make_order("ready_to_ship", customer="BETA")
    gamma = make_order("ready_to_ship", customer="GAMMA")
    terms(app, beta, currency="USD", exchange_rate=D("7.1"))
    _invoice(app, acme, "A1", "300", date(2026, 11, 10), date(2026, 12, 10))
    _invoice(app, acme, "A2", "200", date(2026, 8, 1), date(2026, 9, 1))
    _invoice(app, beta, "B1", "100", date(2026, 10, 1), date(2026, 11, 1))
    _invoice(app, beta, "B2", "50", date(2026, 12, 1), date(2026, 12, 31))
    _invoice(app, gamma, "G1", "80", date(2026, 10, 1), date(2026, 11, 1))
    pay(app, gamma, "80")
    finance = as_user("finance")
    with frozen(utc(2026, 12, 15, 2)):
        page = text_of(finance.get("/receivables/"))
        xlsx = finance.get("/receivables/?format=xlsx")
        csv = finance.get("/receivables/?format=csv")
    assert page.index("ACME Ltd") < page.index("BETA Ltd") and "GAMMA Ltd" not in page
    assert "¥500.00" in page and "¥1,065.00" in page and "¥1,565.00" in page  # balances and total
    assert "¥710.00" in page and "¥355.00" in page and "¥300.00" in page and "¥200.00" in page
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("sheet")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = rows.index(next(r for r in rows if r[0] == "Customer"))
    body = rows[header + 1:]
    assert body[0][:7] == ["ACME Ltd", 500, 0, 300, 0, 0, 200]
    assert body[1][:7] == ["BETA Ltd", 1065, 355, 0, 710, 0, 0]
    assert body[2][:7] == ["Total", 1565, 355, 300, 710, 0, 200]
    assert body[0][7].date() == date(2026, 9, 1)
    assert csv.status_code == 200 and "ACME Ltd,500,0,300,0,0,200,2026-09-01" in csv.get_data(as_text=True)
    # the customer's open items: days overdue per invoice, the unmatched payment shows on GAMMA's
    with app.app_context():
        acme_id = db.session.get(Order, acme).customer_id
        gamma_id = db.session.get(Order, gamma).customer_id
    with frozen(utc(2026, 12, 15, 2)):
        items = text_of(finance.get(f"/receivables/customers/{acme_id}"))
        paid = text_of(finance.get(f"/receivables/customers/{gamma_id}"))
    assert "A2" in items and ">105<" in items and ">5<" in items
    assert "No open invoice." in paid and "¥80.00" in paid


@BOTH
def test_who_sees_receivables(app, make_order, as_user, make_user):
    """Workers and the warehouse get 403 on every receivables page, and so does sales once the firm
    takes sales out of the roles that see receivables (it is in by default: sales chase payments);
    the manager reads, may not record; the order page shows the section to finance, not to those
    who may not see it; a rep scoped to their own customers cannot open another rep's order."""
    order_id = make_order("ready_to_ship", customer="ACME")
    with app.app_context():
        customer_id = db.session.get(Order, order_id).customer_id
    assert as_user("sales").get("/receivables/").status_code == 200
    assert as_user("sales").post(f"/receivables/orders/{order_id}/invoices", data=invoice_data()).status_code == 403
    with app.app_context():
        get_settings().finance_roles = ""
        db.session.commit()
    for role in ("sales", "worker", "warehouse"):
        client = as_user(role)
        for path in ("/receivables/", f"/receivables/customers/{customer_id}", f"/receivables/orders/{order_id}",
                     "/receivables/?format=xlsx"):
            assert client.get(path).status_code == 403, (role, path)
    manager = as_user("manager")
    assert manager.get("/receivables/").status_code == 200
    assert manager.post(f"/receivables/orders/{order_id}/invoices", data=invoice_data()).status_code == 403
    assert "Invoices and payments" in text_of(as_user("finance").get(f"/orders/{order_id}"))
    assert "Invoices and payments" not in text_of(as_user("sales").get(f"/orders/{order_id}"))
    with app.app_context():
        get_settings().sales_own_customers_only = True
        db.session.commit()
    other_rep = as_user("sales")
    assert other_rep.get(f"/orders/{order_id}").status_code == 404
    assert other_rep.get(f"/receivables/orders/{order_id}").status_code == 404  # another rep's order: unknown to them


def _packed_shipment(app, order_id) -> int:
    """A packed shipment of the whole order, built through the shipping services."""
    from webapp.shipping import services as shipping
    with app.app_context(), app.test_request_context("/", method="POST"):
        order = db.session.get(Order, order_id)
        warehouse = db.session.scalar(db.select(User).where(User.username == "warehouse-maker"))
        line = db.session.scalar(db.select(OrderLine).where(OrderLine.order_id == order_id))
        shipment = shipping.create_shipment(order, warehouse, {line.id: line.quantity}, {line.id: "B1"}, "delivery",
                                            "SF", "SF1", None, D("0"))
        for sline in db.session.scalars(db.select(ShipmentLine).where(ShipmentLine.shipment_id == shipment.id)):
            shipping.check_line(shipment, sline, "B1", warehouse)
        shipping.pack(shipment, warehouse)
        db.session.commit()
        return shipment.id


@BOTH
def test_the_shipping_hold_refuses_dispatch_until_finance_releases(app, make_order, as_user):
    """款到发货 on: ACME has 200.00 overdue on an earlier order, so dispatching the new order's
    shipment is refused naming the amount; the shipment page shows the hold and finance's form; a
    release without a reason is refused; with one, the warehouse dispatches."""
    earlier = make_order("ready_to_ship", customer="ACME")
    order_id = make_order("ready_to_ship", customer="ACME")
    _invoice(app, earlier, "OLD-1", "200", date(2026, 9, 1), date(2026, 10, 1))
    shipment_id = _packed_shipment(app, order_id)
    warehouse, finance = as_user("warehouse"), as_user("finance")
    # the firm's setting off: nothing held
    assert "Shipping held" not in text_of(warehouse.get(f"/shipping/{shipment_id}"))
    with app.app_context():
        get_settings().hold_overdue_shipping = True
        db.session.commit()
    refused = warehouse.post(f"/shipping/{shipment_id}/dispatch", data={"note": "own truck"})
    assert refused.status_code == 409
    assert "Shipping is held: the customer has ¥200.00 overdue." in text_of(refused)
    # the courier's link is held too
    from .helpers import customer_path
    courier = app.test_client().post(customer_path(app, "courier", shipment_id) + "/dispatch", data={"d-note": "picked up"})
    assert courier.status_code == 409 and "¥200.00" in text_of(courier)
    with app.app_context():
        assert db.session.get(Shipment, shipment_id).status == "packed"
    page = text_of(finance.get(f"/shipping/{shipment_id}"))
    assert "Shipping held" in page and "Release for shipping" in page
    assert "Release for shipping" not in text_of(warehouse.get(f"/shipping/{shipment_id}"))
    assert finance.post(f"/receivables/orders/{order_id}/release", data={"rel-reason": ""}).status_code == 422
    assert warehouse.post(f"/receivables/orders/{order_id}/release", data={"rel-reason": "x"}).status_code == 403
    released = finance.post(f"/receivables/orders/{order_id}/release",
                            data={"rel-reason": "Boss promised payment on Friday", "next_shipment": shipment_id})
    assert released.status_code == 303 and released.headers["Location"].endswith(f"/shipping/{shipment_id}")
    assert finance.post(f"/receivables/orders/{order_id}/release", data={"rel-reason": "again"}).status_code == 409
    assert "Boss promised payment on Friday" in text_of(finance.get(f"/shipping/{shipment_id}"))
    with app.app_context():
        release_id = db.session.scalar(db.select(ShippingRelease.id))
    # revoked, the hold applies again; released again, the dispatch goes through
    assert finance.post(f"/receivables/releases/{release_id}/revoke").status_code == 303
    assert warehouse.post(f"/shipping/{shipment_id}/dispatch", data={"note": "own truck"}).status_code == 409
    assert finance.post(f"/receivables/orders/{order_id}/release", data={"rel-reason": "Paid by phone"}).status_code == 303
    assert warehouse.post(f"/shipping/{shipment_id}/dispatch", data={"note": "own truck"}).status_code == 303
    with app.app_context():
        assert db.session.get(Shipment, shipment_id).status == "dispatched"


@BOTH
def test_reminders_are_mailed_once_each_to_a_real_smtp_server(app, make_order, smtp):
    """Invoice due 10 December, remind 3 days before: nothing on 6 December; on 7 December the
    customer gets "falls due" (once, however often the task runs); on 11 December "overdue" to the
    customer and a copy to the sales rep; on 9 January (30 days) again; dates in Shanghai."""
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    order_id = make_order("ready_to_ship", customer="ACME")
    _invoice(app, order_id, "R-1", "300", date(2026, 11, 10), date(2026, 12, 10))
    with app.app_context():
        daily = app.extensions["huey_tasks"]["webapp.receivables.tasks.remind_customers_daily"]
        with frozen(utc(2026, 12, 6, 1)):
            daily()
        assert smtp.messages == []
        with frozen(utc(2026, 12, 6, 16, 30)):  # 00:30 on 7 December in Shanghai
            daily()
            daily()
        assert [m.rcpt_tos for m in smtp.messages] == [["buyer@acme.example.com"]]
        mail = email.message_from_bytes(smtp.messages[0].content, policy=email.policy.default)
        assert "R-1" in mail["Subject"] and "falls due" in mail["Subject"]
        assert "300.00" in mail.get_body().get_content()
        with frozen(utc(2026, 12, 11, 1)):
            daily()
            daily()
        assert sorted(m.rcpt_tos[0] for m in smtp.messages[1:]) == ["buyer@acme.example.com", "sales-maker@example.com"]
        subjects = {m.rcpt_tos[0]: email.message_from_bytes(m.content, policy=email.policy.default)["Subject"]
                    for m in smtp.messages[1:]}
        assert subjects["buyer@acme.example.com"] == "Invoice R-1 is overdue"  # the customer's language
        assert subjects["sales-maker@example.com"] == "抄送：发票 R-1 已逾期（ACME Ltd）"  # the rep's
        with frozen(utc(2026, 12, 20, 1)):
            daily()
        assert len(smtp.messages) == 3
        with frozen(utc(2027, 1, 9, 1)):
            daily()
        assert len(smtp.messages) == 5
        db.session.rollback()
        assert sorted(db.session.scalars(db.select(InvoiceReminder.kind))) == ["before", "overdue_1", "overdue_30"]


@BOTH
def test_a_usd_order_needs_its_rate_and_its_cost_sheet_counts_in_cny(app, make_customer, as_user, make_order):
    """An order in USD is refused without an exchange rate (or with 0); with 7.10 it keeps it; a
    new order copies the customer's 月结; the cost sheet's revenue is the order's total without tax
    × 7.10 in CNY."""
    from .helpers import order_form
    customer_id = make_customer("USCO", currency="USD", credit_basis="month_end", credit_days=60)
    sales = as_user("sales")
    missing = sales.post("/orders/new", data=order_form(customer_id=str(customer_id), currency="USD"))
    assert missing.status_code == 422
    assert "Enter the exchange rate: how many CNY one USD is worth." in text_of(missing)
    zero = sales.post("/orders/new", data=order_form(customer_id=str(customer_id), currency="USD", exchange_rate="0"))
    assert zero.status_code == 422
    saved = sales.post("/orders/new", data=order_form(customer_id=str(customer_id), currency="USD", exchange_rate="7.1"))
    assert saved.status_code == 303
    cny = sales.post("/orders/new", data=order_form(customer_id=str(customer_id), exchange_rate="9"))
    assert cny.status_code == 303
    with app.app_context():
        usd, local = db.session.scalars(db.select(Order).order_by(Order.id)).all()
        assert (usd.currency, usd.exchange_rate, usd.credit_basis) == ("USD", D("7.1"), "month_end")
        assert local.exchange_rate == D("1")  # the firm's own currency: always 1
    # the customer form carries the credit basis
    from .test_admin_customers import customer_form
    assert sales.post("/customers/new", data=customer_form(abbreviation="MONTH", credit_basis="month_end")).status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(Customer.credit_basis).where(Customer.abbreviation == "MONTH")) == "month_end"
    order_id = make_order("ready_to_ship", customer="USCO")  # 100 × 10.00 = 1,000.00 without tax
    terms(app, order_id, currency="USD", exchange_rate=D("7.1"))
    page = text_of(as_user("finance").get(f"/costing/orders/{order_id}"))
    revenue = page[page.index('id="revenue"'):page.index("</dl>", page.index('id="revenue"'))]
    assert "¥7,100.00" in revenue and "1,000.00" in revenue, revenue


@BOTH
def test_the_firm_settings_hold_and_reminder_days(app, as_user):
    """The admin turns 款到发货 on and sets the reminder to 5 days before."""
    admin = as_user("admin")
    page = text_of(admin.get("/admin/settings"))
    assert "hold_overdue_shipping" in page and "remind_days_before" in page
    from .test_admin_customers import settings_form
    response = admin.post("/admin/settings", data=settings_form(admin, hold_overdue_shipping="y",
                                                                remind_days_before="5"))
    assert response.status_code == 303
    with app.app_context():
        settings = get_settings()
        assert settings.hold_overdue_shipping is True and settings.remind_days_before == 5


def test_the_demo_firm_shows_who_owes_what(demo_app):
    """In the demo, finance (陈静) sees 苏州恒达 over 90 days overdue and 深圳创新 (月结 60 天)
    31–60 days overdue at the top of the ageing list; Bavaria's order is in US dollars at 7.10;
    invoices of delivered orders are VAT special mostly and matched to their payments; 苏州恒达's
    packed shipment is held by 款到发货 and released by finance; the warehouse still dispatches it."""
    from .conftest import demo_login
    with demo_app.app_context():
        positions = settlement.positions()
        by_abbr = {db.session.get(Customer, cid).abbreviation: pos for cid, pos in positions.items()}
        assert by_abbr["SZHD"].buckets["d90_plus"] > 0
        # 31–60 days, or next to it on the few days of a month when 月结 60 天 cannot fall there
        szcx = by_abbr["SZCX"].buckets
        assert szcx["d31_60"] > 0 or (szcx["d0_30"] > 0 and szcx["d61_90"] == 0) or szcx["d61_90"] > 0
        assert db.session.scalar(db.select(Customer.credit_basis).where(Customer.abbreviation == "SZCX")) == "month_end"
        usd = db.session.scalars(db.select(Order).where(Order.currency == "USD")).all()
        assert usd and all(o.exchange_rate == D("7.1") for o in usd)
        kinds = list(db.session.scalars(db.select(Invoice.kind)))
        assert len(kinds) >= 8 and kinds.count("vat_special") > kinds.count("ordinary")
        assert db.session.scalar(db.select(db.func.count()).select_from(PaymentMatch)) >= 5
        release = db.session.scalar(db.select(ShippingRelease))
        assert release.order.customer.abbreviation == "SZHD" and get_settings().hold_overdue_shipping
        packed = db.session.scalar(db.select(Shipment).where(Shipment.order_id == release.order_id,
                                                             Shipment.status == "packed"))
        customer_id = release.order.customer_id
    finance = demo_login(demo_app, "chen.jing", "zh")
    page = text_of(finance.get("/receivables/"))
    assert page.index("苏州恒达") < page.index("深圳创新")
    assert "放行" in text_of(finance.get(f"/shipping/{packed.id}"))
    assert "发票与收款" in text_of(finance.get(f"/orders/{release.order_id}"))
    assert finance.get(f"/receivables/customers/{customer_id}").status_code == 200


@BOTH
def test_an_invoice_dated_in_the_future_or_long_ago_and_a_strange_return_address(app, make_order, as_user):
    """An invoice is dated today or earlier, within ten years (9999-12-31 once overflowed the due
    date: 500); a release whose return address is not a row id answers on the order's page."""
    order_id = make_order("ready_to_ship")
    finance = as_user("finance")
    for issued in ("9999-12-31", "2000-01-01", (date.today() + timedelta(days=2)).isoformat()):
        response = finance.post(f"/receivables/orders/{order_id}/invoices", data=invoice_data(issued=issued))
        assert response.status_code == 422, issued
        assert "dated today or earlier" in text_of(response)
    with app.app_context():
        get_settings().hold_overdue_shipping = True
        db.session.commit()
    released = finance.post(f"/receivables/orders/{order_id}/release",
                            data={"rel-reason": "Paid by cheque, clearing", "next_shipment": "²"})
    assert released.status_code == 303  # to the order's money page: "²" is no shipment of this order
    assert released.headers["Location"].endswith(f"/receivables/orders/{order_id}")
    with app.app_context():
        assert db.session.scalar(db.select(ShippingRelease.reason)) == "Paid by cheque, clearing"


@BOTH
def test_amounts_in_the_thousands_and_two_matches_of_one_payment_at_once(app, make_order, make_user, as_user):
    """A real-sized order: 2,500 pieces at ¥10.00 (¥28,250.00 with tax). Invoices typed "12,345.60"
    and "１５,９０４.４０" (full-width digits) fill it exactly; one cent more is refused with the amount
    left, and the refused form keeps what was typed. A payment of ¥20,000.00 matched by two clerks
    at the same moment, ¥12,345.60 and ¥15,904.40: one is saved, the other refused (the payment has
    only ¥7,654.40 unmatched after it); nothing is matched beyond the payment."""
    order_id = make_order("ready_to_ship", customer="ACME", quantity="2500")
    finance = as_user("finance")
    path = f"/receivables/orders/{order_id}/invoices"
    assert finance.post(path, data=invoice_data("T-1", "12,345.60")).status_code == 303
    assert finance.post(path, data=invoice_data("T-2", "１５,９０４.４０")).status_code == 303
    extra = finance.post(path, data=invoice_data("T-3", "0.01", note="one cent"))
    assert extra.status_code == 409 and "only ¥0.00 of the order is left to invoice" in text_of(extra)
    assert 'value="T-3"' in text_of(extra)  # what was typed is still there
    with app.app_context():
        invoices = dict(db.session.execute(db.select(Invoice.number, Invoice.id)).all())
        assert db.session.scalar(db.select(db.func.sum(Invoice.amount))) == D("28250.00")
    payment_id = pay(app, order_id, "20000")
    make_user("finance", username="fin0")
    make_user("finance", username="fin1")
    match = f"/receivables/orders/{order_id}/matches"
    statuses = at_once(app, ["fin0", "fin1"], [
        (match, {"m-payment_id": payment_id, "m-invoice_id": invoices["T-1"], "m-amount": "12,345.60"}),
        (match, {"m-payment_id": payment_id, "m-invoice_id": invoices["T-2"], "m-amount": "15,904.40"})])
    assert sorted(statuses) == [303, 409], statuses
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(PaymentMatch)) == 1
        assert db.session.scalar(db.select(db.func.sum(PaymentMatch.amount))) in (D("12345.60"), D("15904.40"))
