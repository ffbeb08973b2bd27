"""The accounting export (凭证) for the bookkeeper's 金蝶 / 用友 import: a hand-checked October (exact
rows, debits = credits per voucher, a USD order's rate and original amounts, an advance offset by the
invoice, a return credit, cost of goods from the stock ledger, the month's end in the firm's time
zone), the CSV read back with csv and the XLSX with openpyxl, permissions and bad months."""
import csv
import io
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
import time_machine
from openpyxl import load_workbook

from webapp.extensions import db
from webapp.orders import Order
from webapp.receivables import export

from .helpers import text_of
from .receivables_books import credit, invoice, payment, ship_moves, shipment, usd

BOTH = pytest.mark.parametrize("app", ["sqlite", "postgres"], indirect=True)
UTC = timezone.utc
D = Decimal


@pytest.fixture
def october(app, make_order, make_user):
    """The firm's October 2026, hand-checked (amounts in CNY unless said):
    - order A (CNY): a deposit of 339.00 on 28 September (before any invoice: 预收), an invoice of
      1,130.00 (tax 130.00) on 8 October, 500.00 received on the 20th, a credit of 113.00 at 23:30
      on the 31st in Shanghai;
    - order B (USD at 7.1): an invoice of USD 100.00 (tax 11.50) on 5 October, USD 50.00 received
      on the 25th;
    - order C (CNY): a deposit of 200.00 on 12 October;
    - a shipment of A dispatched on 15 October that took 420.50 + 79.50 out of stock; one
      dispatched at 00:30 on 1 November in Shanghai (November's); an invoice issued on 2 November
      and voided (红冲) on the 3rd (November's: an invoice voucher and its red-letter reversal)."""
    finance = make_user("finance", username="fin")
    ids = [make_order("effective", customer="EXP") for _ in range(3)]
    with time_machine.travel(datetime(2026, 11, 5, 2, 0, tzinfo=UTC), tick=True), app.app_context():
        a, b, c = (db.session.get(Order, i) for i in ids)
        usd(b)
        payment(a, "deposit", "339.00", date(2026, 9, 28), finance)
        invoice(b, "INV-B1", "100.00", "11.50", date(2026, 10, 5), finance)
        invoice(a, "INV-A1", "1130.00", "130.00", date(2026, 10, 8), finance)
        payment(c, "deposit", "200.00", date(2026, 10, 12), finance)
        ship_moves(shipment(a, finance, datetime(2026, 10, 15, 3, 0, tzinfo=UTC)), ["420.50", "79.50"], finance)
        payment(a, "receipt", "500.00", date(2026, 10, 20), finance, reference="BANK-1020")
        payment(b, "receipt", "50.00", date(2026, 10, 25), finance)
        credit(a, "113.00", datetime(2026, 10, 31, 15, 30, tzinfo=UTC), finance)
        ship_moves(shipment(a, finance, datetime(2026, 10, 31, 16, 30, tzinfo=UTC)), ["99.00"], finance)
        invoice(a, "INV-VOID", "999.00", "99.00", date(2026, 11, 2), finance,
                voided_at=datetime(2026, 11, 3, 2, 0, tzinfo=UTC))
        db.session.commit()
        numbers = {"a": a.number, "b": b.number, "c": c.number, "customer": a.customer.name}
    return numbers


def expected_rows(n):
    """The October vouchers' rows, by hand (凭证日期 … 原币金额)."""
    cust, a, b, c = n["customer"], n["a"], n["b"], n["c"]
    d = date
    return [
        # 1: USD 100.00 at 7.1 = 710.00; excl. 88.50 → 628.35, tax 11.50 → 81.65
        [d(2026, 10, 5), "记", 1, f"开票 INV-B1 {cust} 订单{b}", "1122", "应收账款", D("710.00"), D("0"), cust, "USD", D("7.1"), D("100.00")],
        [d(2026, 10, 5), "记", 1, f"开票 INV-B1 {cust} 订单{b}", "6001", "主营业务收入", D("0"), D("628.35"), "", "USD", D("7.1"), D("88.50")],
        [d(2026, 10, 5), "记", 1, f"开票 INV-B1 {cust} 订单{b}", "22210106", "应交税费-应交增值税（销项税额）", D("0"), D("81.65"), "", "USD", D("7.1"), D("11.50")],
        # 2: the invoice uses the September deposit (339.00 in 预收账款)
        [d(2026, 10, 8), "记", 2, f"开票 INV-A1 {cust} 订单{a}", "1122", "应收账款", D("1130.00"), D("0"), cust, "CNY", D("1"), D("1130.00")],
        [d(2026, 10, 8), "记", 2, f"开票 INV-A1 {cust} 订单{a}", "6001", "主营业务收入", D("0"), D("1000.00"), "", "CNY", D("1"), D("1000.00")],
        [d(2026, 10, 8), "记", 2, f"开票 INV-A1 {cust} 订单{a}", "22210106", "应交税费-应交增值税（销项税额）", D("0"), D("130.00"), "", "CNY", D("1"), D("130.00")],
        [d(2026, 10, 8), "记", 2, f"开票 INV-A1 {cust} 订单{a}", "2203", "预收账款", D("339.00"), D("0"), cust, "CNY", D("1"), D("339.00")],
        [d(2026, 10, 8), "记", 2, f"开票 INV-A1 {cust} 订单{a}", "1122", "应收账款", D("0"), D("339.00"), cust, "CNY", D("1"), D("339.00")],
        # 3: a deposit before any invoice of C: 预收账款
        [d(2026, 10, 12), "记", 3, f"预收 {cust} 订单{c}", "1002", "银行存款", D("200.00"), D("0"), "", "CNY", D("1"), D("200.00")],
        [d(2026, 10, 12), "记", 3, f"预收 {cust} 订单{c}", "2203", "预收账款", D("0"), D("200.00"), cust, "CNY", D("1"), D("200.00")],
        # 4: cost of goods from the ledger's ship movements: 420.50 + 79.50
        [d(2026, 10, 15), "记", 4, f"结转成本 发货单SH-T{n['a_id']}-{n['ship']} 订单{a}", "6401", "主营业务成本", D("500.00"), D("0"), "", "CNY", D("1"), D("500.00")],
        [d(2026, 10, 15), "记", 4, f"结转成本 发货单SH-T{n['a_id']}-{n['ship']} 订单{a}", "1405", "库存商品", D("0"), D("500.00"), "", "CNY", D("1"), D("500.00")],
        # 5: a receipt of A: 791.00 receivable left after the deposit
        [d(2026, 10, 20), "记", 5, f"收款 {cust} 订单{a} BANK-1020", "1002", "银行存款", D("500.00"), D("0"), "", "CNY", D("1"), D("500.00")],
        [d(2026, 10, 20), "记", 5, f"收款 {cust} 订单{a} BANK-1020", "1122", "应收账款", D("0"), D("500.00"), cust, "CNY", D("1"), D("500.00")],
        # 6: USD 50.00 at 7.1
        [d(2026, 10, 25), "记", 6, f"收款 {cust} 订单{b}", "1002", "银行存款", D("355.00"), D("0"), "", "USD", D("7.1"), D("50.00")],
        [d(2026, 10, 25), "记", 6, f"收款 {cust} 订单{b}", "1122", "应收账款", D("0"), D("355.00"), cust, "USD", D("7.1"), D("50.00")],
        # 7: the credit of 113.00 (13.00 of it VAT) at 23:30 on the 31st in Shanghai
        [d(2026, 10, 31), "记", 7, f"退货折让 {cust} 订单{a}", "6001", "主营业务收入", D("100.00"), D("0"), "", "CNY", D("1"), D("100.00")],
        [d(2026, 10, 31), "记", 7, f"退货折让 {cust} 订单{a}", "22210106", "应交税费-应交增值税（销项税额）", D("13.00"), D("0"), "", "CNY", D("1"), D("13.00")],
        [d(2026, 10, 31), "记", 7, f"退货折让 {cust} 订单{a}", "1122", "应收账款", D("0"), D("113.00"), cust, "CNY", D("1"), D("113.00")],
    ]


def _numbers(app, october):
    with app.app_context():
        from webapp.shipping.models import Shipment
        first = db.session.scalars(db.select(Shipment).where(Shipment.dispatched_at.is_not(None))
                                   .order_by(Shipment.dispatched_at)).first()
        a_id = first.order_id
        return {**october, "a_id": a_id, "ship": first.number.rsplit("-", 1)[1]}


@BOTH
def test_a_hand_checked_month_exact_rows_and_balanced_vouchers(app, october):
    numbers = _numbers(app, october)
    with app.app_context(), app.test_request_context():
        found = export.vouchers(date(2026, 10, 1), date(2026, 10, 31))
        rows = export.rows(found)
    assert [v.number for v in found] == [1, 2, 3, 4, 5, 6, 7]
    for voucher in found:
        assert voucher.debits == voucher.credits, voucher.summary
    assert sum(r[6] for r in rows) == sum(r[7] for r in rows) == D("3847.00")  # 710 + 1,469 + 200 + 500 + 500 + 355 + 113
    assert rows == expected_rows(numbers)


@BOTH
def test_a_voided_invoice_keeps_its_voucher_and_is_reversed_on_the_day_it_was_voided(app, october):
    """November: the invoice of the 2nd (Dr 1122 999.00 / Cr 6001 900.00 + Cr tax 99.00) and on the
    3rd its red-letter reversal (Dr 6001 900.00 + Dr tax 99.00 / Cr 1122 999.00); October's vouchers
    are as they were (the test above)."""
    with app.app_context(), app.test_request_context():
        found = [v for v in export.vouchers(date(2026, 11, 1), date(2026, 11, 30)) if "INV-VOID" in v.summary]
        rows = export.rows(found)
    assert [(v.day, v.summary.split()[0]) for v in found] == [(date(2026, 11, 2), "开票"), (date(2026, 11, 3), "红冲")]
    assert all(v.debits == v.credits == D("999.00") for v in found)
    assert [(r[4], r[6], r[7]) for r in rows] == [
        ("1122", D("999.00"), D("0")), ("6001", D("0"), D("900.00")), ("22210106", D("0"), D("99.00")),
        ("6001", D("900.00"), D("0")), ("22210106", D("99.00"), D("0")), ("1122", D("0"), D("999.00"))]


@BOTH
def test_csv_reads_back_with_csv_and_xlsx_with_openpyxl(app, october, as_user):
    numbers = _numbers(app, october)
    expected = expected_rows(numbers)
    finance = as_user("finance")
    response = finance.get("/receivables/export.csv?month=2026-10")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())
    assert "%E5%87%AD%E8%AF%81-202610.csv" in response.headers["Content-Disposition"]  # 凭证-202610.csv
    table = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert table[0] == list(export.HEADERS)
    assert len(table) == 1 + len(expected)
    for got, want in zip(table[1:], expected):
        assert got == [want[0].isoformat(), "记", str(want[2]), want[3], want[4], want[5], f"{want[6]:.2f}",
                       f"{want[7]:.2f}", want[8], want[9], f"{want[10]:f}", f"{want[11]:.2f}"]
    by_voucher = {}
    for row in table[1:]:
        debit, credit_ = by_voucher.get(row[2], (D(0), D(0)))
        by_voucher[row[2]] = (debit + D(row[6]), credit_ + D(row[7]))
    assert all(debit == credit_ for debit, credit_ in by_voucher.values())

    response = finance.get("/receivables/export.xlsx?month=2026-10")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == list(export.HEADERS)
    for got, want in zip(values[1:], expected):
        assert got[0].date() == want[0]
        assert got[1:6] == want[1:6]
        assert D(str(got[6])) == want[6] and D(str(got[7])) == want[7]
        assert (got[8] or "") == want[8] and got[9] == want[9]
        assert D(str(got[10])) == want[10] and D(str(got[11])) == want[11]
    assert len(values) == 1 + len(expected)


@BOTH
def test_the_next_month_and_an_empty_one(app, october):
    with app.app_context(), app.test_request_context():
        november = export.vouchers(date(2026, 11, 1), date(2026, 11, 30))
        august = export.vouchers(date(2026, 8, 1), date(2026, 8, 31))
        september = export.vouchers(date(2026, 9, 1), date(2026, 9, 30))
    # the shipment dispatched at 00:30 on 1 November in Shanghai is November's; then the invoice of
    # the 2nd and its reversal on the 3rd
    assert [(v.day, v.kind, v.debits) for v in november] == [
        (date(2026, 11, 1), "cogs", D("99.00")), (date(2026, 11, 2), "invoice", D("999.00")),
        (date(2026, 11, 3), "void", D("999.00"))]
    assert august == []
    # September: the deposit before any invoice, all to 预收账款
    assert [(e.role, e.debit, e.credit) for v in september for e in v.entries] == [
        ("bank", D("339.00"), D("0")), ("advance", D("0"), D("339.00"))]


@BOTH
def test_accounts_from_the_firms_settings(app, october):
    app.config["ACCOUNTING_ACCOUNTS"] = {"bank": ("100201", "银行存款-工行"), "unknown": ("9", "x")}
    try:
        with app.app_context(), app.test_request_context():
            rows = export.rows(export.vouchers(date(2026, 10, 1), date(2026, 10, 31)))
    finally:
        del app.config["ACCOUNTING_ACCOUNTS"]
    assert {(r[4], r[5]) for r in rows if r[4].startswith("1002")} == {("100201", "银行存款-工行")}


@BOTH
def test_permissions_and_bad_months(app, october, as_user):
    for role in ("finance", "manager", "admin"):
        reader = as_user(role)
        assert reader.get("/receivables/export").status_code == 200
        assert reader.get("/receivables/export.csv?month=2026-10").status_code == 200
    for role in ("sales", "warehouse", "production", "operations", "purchasing"):
        other = as_user(role)
        for path in ("/receivables/export", "/receivables/export.csv?month=2026-10",
                     "/receivables/export.xlsx?month=2026-10"):
            assert other.get(path).status_code == 403, (role, path)
    assert app.test_client().get("/receivables/export.csv?month=2026-10").status_code in (302, 303)
    finance = as_user("finance")
    for bad in ("2026-13", "October", ""):
        response = finance.get(f"/receivables/export.csv?month={bad}")
        assert response.status_code == 422, bad
        assert "month" in text_of(response).lower()
    # full-width digits are a month too
    assert finance.get("/receivables/export.xlsx?month=２０２６-１０").status_code == 200
