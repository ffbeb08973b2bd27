"""Monthly statements (对账单): a hand-checked month in the firm's currency and time zone, sending on
a customer link, the customer's one answer (confirm with a name or dispute with a reason), the
corrected version, the finance pages' permissions, CSRF, and the XLSX download."""
import io
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from openpyxl import load_workbook

from webapp.customers import Customer
from webapp.extensions import db
from webapp.firm import get_settings
from webapp.notify import mail
from webapp.receivables import statements
from webapp.receivables.models import Invoice, Statement

from .helpers import at_once, customer_path, text_of
from .receivables_books import october_statement_books

BOTH = pytest.mark.parametrize("app", ["sqlite", "postgres"], indirect=True)
# Pages are drawn at a time after the books' October (the statements' links live 30 days).
NOW = datetime(2026, 11, 5, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock():
    """The wall clock on 5 November 2026 (Shanghai), ticking."""
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def books(app, make_order, make_user, clock):
    """The hand-checked October of customer STM, and a finance clerk (the firm: Demo Works)."""
    from webapp.firm import get_settings
    with app.app_context():
        get_settings().firm_name = "Demo Works"
        db.session.commit()
    finance = make_user("finance", username="fin")
    return {**october_statement_books(app, make_order, finance), "finance": finance}


def _draft(client, customer_id, period="2026-10"):
    return client.post("/receivables/statements", data={"customer": customer_id, "period": period})


def _statement(app, customer_id, period="2026-10", version=None) -> Statement:
    with app.app_context():
        query = db.select(Statement).where(Statement.customer_id == customer_id, Statement.period == period)
        if version:
            query = query.where(Statement.version == version)
        row = db.session.scalars(query.order_by(Statement.version.desc())).first()
        db.session.expunge(row)
        return row


@BOTH
def test_a_hand_checked_month_with_its_end_in_the_firms_time_zone(app, books):
    with app.app_context():
        figures = statements.compute(books["customer_id"], "2026-10")
    assert figures.opening == Decimal("630.00")          # 1,130 invoiced − 500 received in September
    assert figures.invoiced == Decimal("2970.00")        # USD 100 × 7.1 + 2,260 (23:30 on the 31st)
    assert figures.received == Decimal("1000.00")
    assert figures.credited == Decimal("113.00")         # 23:30 on the 31st; 00:30 on 1 Nov is November's
    assert figures.closing == Decimal("2487.00")
    # The invoice voided (红冲) on 30 October stays on the 20th and is reversed on the 30th: nil.
    assert [(l["date"], l["kind"], l["amount"]) for l in figures.lines] == [
        ("2026-10-05", "invoice", "710.00"), ("2026-10-10", "receipt", "1000.00"),
        ("2026-10-20", "invoice", "999.00"), ("2026-10-30", "void", "999.00"),
        ("2026-10-31", "invoice", "2260.00"), ("2026-10-31", "credit", "113.00")]
    usd = figures.lines[0]
    assert (usd["currency"], Decimal(usd["original"]), Decimal(usd["rate"])) == ("USD", Decimal("100.00"), Decimal("7.1"))
    with app.app_context():
        november = statements.compute(books["customer_id"], "2026-11")
    assert november.opening == Decimal("2487.00")        # October's closing is November's opening
    assert november.closing == Decimal("2487.00") + Decimal("226.00") - Decimal("50.00")


@BOTH
def test_an_invoice_voided_after_its_month_leaves_that_month_as_it_was(app, books):
    """October's 2,260.00 invoice voided (红冲) on 3 November: October still closes at 2,487.00 (as
    the customer may have confirmed it); November opens there and reverses it on the 3rd."""
    with app.app_context():
        voided = db.session.scalars(db.select(Invoice).where(Invoice.amount == Decimal("2260.00"))).one()
        voided.voided_at = datetime(2026, 11, 3, 2, 0, tzinfo=timezone.utc)
        db.session.commit()
        october = statements.compute(books["customer_id"], "2026-10")
        november = statements.compute(books["customer_id"], "2026-11")
    assert october.closing == Decimal("2487.00") and ("2026-10-31", "invoice", "2260.00") in [
        (l["date"], l["kind"], l["amount"]) for l in october.lines]
    assert november.opening == Decimal("2487.00")
    assert ("2026-11-03", "void", "2260.00") in [(l["date"], l["kind"], l["amount"]) for l in november.lines]
    assert november.closing == Decimal("2487.00") + Decimal("226.00") - Decimal("50.00") - Decimal("2260.00")


@BOTH
def test_draft_send_confirm_once_and_the_answers_refused_after_it(app, books, as_user, client):
    finance = as_user("finance")
    response = _draft(finance, books["customer_id"])
    assert response.status_code == 303
    statement = _statement(app, books["customer_id"])
    assert (statement.status, statement.version, statement.closing) == ("draft", 1, Decimal("2487.00"))
    page = text_of(finance.get(f"/receivables/statements/{statement.id}"))
    assert "2,487.00" in page and "630.00" in page

    assert finance.post(f"/receivables/statements/{statement.id}/send").status_code == 303
    statement = _statement(app, books["customer_id"])
    assert statement.status == "sent" and statement.sent_at is not None
    assert [l["kind"] for l in json.loads(statement.lines_json)] == ["invoice", "receipt", "invoice", "void", "invoice", "credit"]
    with app.app_context():
        mail.flush()
    mails = [m.read_bytes() for m in Path(app.config["MAIL_FOLDER"]).glob("*.eml")]
    path = customer_path(app, "statement", statement.id)
    assert any(path.encode() in m and b"buyer@stm.example.com" in m for m in mails)
    # sending twice: only a draft is sent
    assert finance.post(f"/receivables/statements/{statement.id}/send").status_code == 409

    # the customer's phone, no account
    phone = app.test_client()
    page = phone.get(path)
    assert page.status_code == 200
    text = text_of(page)
    assert "Demo Works" in text and "STM Ltd" in text and "2026-10" in text and "2,487.00" in text
    # sent is frozen: a payment of October recorded afterwards changes the next draft, not this one
    from webapp.orders import Order
    from .receivables_books import payment
    with app.app_context():
        payment(db.session.get(Order, books["a"]), "receipt", "87.00", date(2026, 10, 30), books["finance"])
        db.session.commit()
        assert statements.compute(books["customer_id"], "2026-10").closing == Decimal("2400.00")
    assert "2,487.00" in text_of(phone.get(path)) and "2,400.00" not in text_of(phone.get(path))
    assert "2,487.00" in text_of(finance.get(f"/receivables/statements/{statement.id}"))
    # the name is required
    assert phone.post(path + "/statement/confirm", data={"confirm-name": " "}).status_code == 422
    assert _statement(app, books["customer_id"]).status == "sent"
    assert phone.post(path + "/statement/confirm", data={"confirm-name": "Ann Li"}).status_code == 303
    statement = _statement(app, books["customer_id"])
    assert (statement.status, statement.answered_by_name) == ("confirmed", "Ann Li")
    # the link still shows the statement, as confirmed
    assert "Ann Li" in text_of(phone.get(path))
    # disputing after confirming, and confirming twice: a clear message and 409, nothing changed
    refused = phone.post(path + "/statement/dispute", data={"dispute-name": "Bob", "dispute-reason": "wrong"})
    assert refused.status_code == 409
    assert "already confirmed" in text_of(refused)
    again = phone.post(path + "/statement/confirm", data={"confirm-name": "Bob"})
    assert again.status_code == 409
    statement = _statement(app, books["customer_id"])
    assert (statement.status, statement.answered_by_name, statement.dispute_reason) == ("confirmed", "Ann Li", "")
    # a confirmed month is final: no new version
    assert _draft(finance, books["customer_id"]).status_code == 409


@BOTH
def test_dispute_then_a_corrected_version_revokes_the_old_link(app, books, as_user):
    finance = as_user("finance")
    _draft(finance, books["customer_id"])
    first = _statement(app, books["customer_id"])
    finance.post(f"/receivables/statements/{first.id}/send")
    old_path = customer_path(app, "statement", first.id)
    phone = app.test_client()
    # a reason is required
    assert phone.post(old_path + "/statement/dispute", data={"dispute-name": "Ann", "dispute-reason": ""}).status_code == 422
    assert phone.post(old_path + "/statement/dispute",
                      data={"dispute-name": "Ann", "dispute-reason": "Invoice A2 is 2,034.00"}).status_code == 303
    first = _statement(app, books["customer_id"])
    assert (first.status, first.dispute_reason) == ("disputed", "Invoice A2 is 2,034.00")
    refused = phone.post(old_path + "/statement/confirm", data={"confirm-name": "Ann"})
    assert refused.status_code == 409 and "already disputed" in text_of(refused)
    assert "Invoice A2 is 2,034.00" in text_of(finance.get(f"/receivables/statements/{first.id}"))

    # finance corrects it: version 2 of the same month; the old link stops working
    assert _draft(finance, books["customer_id"]).status_code == 303
    second = _statement(app, books["customer_id"])
    assert (second.version, second.status) == (2, "draft")
    assert phone.get(old_path).status_code == 404
    assert finance.post(f"/receivables/statements/{second.id}/send").status_code == 303
    new_path = customer_path(app, "statement", second.id)
    assert new_path != old_path
    assert phone.post(new_path + "/statement/confirm", data={"confirm-name": "Ann"}).status_code == 303
    assert _statement(app, books["customer_id"], version=1).status == "disputed"  # kept for the record
    assert _statement(app, books["customer_id"], version=2).status == "confirmed"
    # the list shows both with their status
    listing = text_of(finance.get(f"/receivables/statements?customer={books['customer_id']}"))
    assert "v1" in listing and "v2" in listing


@BOTH
def test_two_answers_at_once_record_one(app, books, as_user):
    finance = as_user("finance")
    _draft(finance, books["customer_id"])
    statement = _statement(app, books["customer_id"])
    finance.post(f"/receivables/statements/{statement.id}/send")
    path = customer_path(app, "statement", statement.id)
    statuses = at_once(app, "fin", [(path + "/statement/confirm", {"confirm-name": "Ann"}),
                                    (path + "/statement/dispute", {"dispute-name": "Bob", "dispute-reason": "no"})])
    assert sorted(statuses) == [303, 409]
    statement = _statement(app, books["customer_id"])
    winner = 0 if statuses[0] == 303 else 1
    assert statement.status == ("confirmed", "disputed")[winner]
    assert statement.answered_by_name == ("Ann", "Bob")[winner]


@BOTH
def test_expired_link_gives_the_standard_message(app, books, as_user):
    finance = as_user("finance")
    _draft(finance, books["customer_id"])
    statement = _statement(app, books["customer_id"])
    finance.post(f"/receivables/statements/{statement.id}/send")
    path = customer_path(app, "statement", statement.id)
    with time_machine.travel(datetime(2026, 12, 6, tzinfo=timezone.utc), tick=False):
        expired = app.test_client().get(path)
        answered = app.test_client().post(path + "/statement/confirm", data={"confirm-name": "Ann"})
    assert expired.status_code == 404 and answered.status_code == 404
    assert _statement(app, books["customer_id"]).status == "sent"
    assert app.test_client().get("/c/not-a-token").status_code == 404


@BOTH
def test_bad_input_and_a_statement_waiting_for_its_answer(app, books, as_user):
    finance = as_user("finance")
    assert _draft(finance, books["customer_id"], "2026-13").status_code == 422
    assert _draft(finance, books["customer_id"], "next month").status_code == 422
    assert _draft(finance, books["customer_id"], "2027-01").status_code == 422  # not begun yet
    assert finance.post("/receivables/statements", data={"customer": "", "period": "2026-10"}).status_code == 422
    # full-width digits are accepted
    assert _draft(finance, books["customer_id"], "２０２６－１０").status_code == 303
    statement = _statement(app, books["customer_id"])
    assert statement.period == "2026-10"
    # drafting again refreshes the same draft (no second version)
    assert _draft(finance, books["customer_id"]).status_code == 303
    assert _statement(app, books["customer_id"]).id == statement.id
    finance.post(f"/receivables/statements/{statement.id}/send")
    refused = _draft(finance, books["customer_id"])
    assert refused.status_code == 409 and "waits for the customer" in text_of(refused)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Statement.id))) == 1


@BOTH
def test_xlsx_download_and_print_page(app, books, as_user):
    finance = as_user("finance")
    _draft(finance, books["customer_id"])
    statement = _statement(app, books["customer_id"])
    response = finance.get(f"/receivables/statements/{statement.id}/statement.xlsx")
    assert response.status_code == 200
    assert "%E5%AF%B9%E8%B4%A6%E5%8D%95-STM-2026-10-v1.xlsx" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "Demo Works · Statement of account"
    assert values[1][0] == "STM Ltd · 2026-10 · v1"
    assert values[2][1] == "Kind" and values[2][7] == "Amount (CNY)"
    assert [row[1] for row in values[3:]] == ["Opening balance", "Invoice", "Payment received", "Invoice",
                                              "Invoice voided (红冲)", "Invoice", "Return credit", "Closing balance"]
    assert [row[7] for row in values[3:]] == [630, 710, -1000, 999, -999, 2260, -113, 2487]
    assert values[4][4:7] == [100, "USD", 7.1]  # the USD invoice: original amount, currency, rate
    page = text_of(finance.get(f"/receivables/statements/{statement.id}"))
    assert "print" in page.lower() or "打印" in page


@BOTH
def test_only_finance_manager_and_admin_see_statements_and_only_finance_records(app, books, as_user):
    finance = as_user("finance")
    _draft(finance, books["customer_id"])
    statement = _statement(app, books["customer_id"])
    for role in ("manager", "admin"):
        reader = as_user(role)
        assert reader.get("/receivables/statements").status_code == 200
        assert reader.get(f"/receivables/statements/{statement.id}").status_code == 200
        assert reader.get(f"/receivables/statements/{statement.id}/statement.xlsx").status_code == 200
    assert as_user("manager").post(f"/receivables/statements/{statement.id}/send").status_code == 403
    sales = as_user("sales")  # the firm lets sales read receivables by default, never record them
    assert sales.get(f"/receivables/statements/{statement.id}").status_code == 200
    assert _draft(sales, books["customer_id"]).status_code == 403
    with app.app_context():
        get_settings().finance_roles = ""
        db.session.commit()
    for role in ("sales", "warehouse", "production", "operations"):
        other = as_user(role)
        assert other.get("/receivables/statements").status_code == 403
        assert other.get(f"/receivables/statements/{statement.id}").status_code == 403
        assert other.get(f"/receivables/statements/{statement.id}/statement.xlsx").status_code == 403
        assert _draft(other, books["customer_id"]).status_code == 403
        assert other.post(f"/receivables/statements/{statement.id}/send").status_code == 403
    assert _statement(app, books["customer_id"]).status == "draft"
    assert app.test_client().get("/receivables/statements").status_code in (302, 303)


@BOTH
def test_csrf_on_finance_and_customer_posts(app, books, as_user):
    finance = as_user("finance")
    refused = finance.post("/receivables/statements", csrf=False,
                           data={"customer": books["customer_id"], "period": "2026-10"})
    assert refused.status_code == 400
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Statement.id))) == 0
    _draft(finance, books["customer_id"])
    statement = _statement(app, books["customer_id"])
    assert finance.post(f"/receivables/statements/{statement.id}/send", csrf=False).status_code == 400
    finance.post(f"/receivables/statements/{statement.id}/send")
    path = customer_path(app, "statement", statement.id)
    assert app.test_client().post(path + "/statement/confirm", csrf=False,
                                  data={"confirm-name": "Ann"}).status_code == 400
    assert _statement(app, books["customer_id"]).status == "sent"


def test_period_parsing():
    assert statements.parse_period("2026-1") == "2026-01"
    for bad in ("2026-00", "26-10", "", "2026/10"):
        with pytest.raises(statements.PeriodError):
            statements.parse_period(bad)


def test_the_demo_firm_has_last_months_statements(demo_app):
    from webapp.i18n import firm_today
    with demo_app.app_context():
        today = firm_today()
        period = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        rows = db.session.scalars(db.select(Statement).where(Statement.period == period)
                                  .order_by(Statement.customer_id, Statement.version)).all()
        by_customer = {}
        for row in rows:
            by_customer.setdefault(row.customer_id, []).append((row.version, row.status))
        assert sorted(by_customer.values()) == sorted([[(1, "confirmed")], [(1, "disputed"), (2, "sent")],
                                                       [(1, "sent")]])
        disputed = next(r for r in rows if r.status == "disputed")
        assert disputed.dispute_reason
        assert all(r.closing == r.opening + r.invoiced - r.received - r.credited for r in rows)
        assert any(r.invoiced > 0 for r in rows)
        waiting = [r for r in rows if r.status == "sent"]
        assert all(r.link is not None and r.link.is_live for r in waiting)


@BOTH
def test_a_rep_scoped_to_their_own_customers_sees_only_their_statements(app, books, as_user):
    """Sales read receivables by default; with sales_own_customers_only a rep who does not own STM
    sees none of its statements (list, page, download: 404), and no rep is shown the customer's
    link, which answers as the customer."""
    finance = as_user("finance")
    _draft(finance, books["customer_id"])
    statement = _statement(app, books["customer_id"])
    assert finance.post(f"/receivables/statements/{statement.id}/send").status_code == 303
    owner = as_user("sales", username="owner-rep")
    with app.app_context():
        db.session.get(Customer, books["customer_id"]).owner_id = owner.user_id
        get_settings().sales_own_customers_only = True
        db.session.commit()
    stranger = as_user("sales", username="stranger-rep")
    listing = text_of(stranger.get("/receivables/statements"))
    assert "2026-10" not in listing
    for path in (f"/receivables/statements/{statement.id}", f"/receivables/statements/{statement.id}/statement.xlsx"):
        assert stranger.get(path).status_code == 404, path
    page = owner.get(f"/receivables/statements/{statement.id}")
    assert page.status_code == 200 and "/c/" not in text_of(page)  # the link is finance's to send
    assert "/c/" in text_of(finance.get(f"/receivables/statements/{statement.id}"))
