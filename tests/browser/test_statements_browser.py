"""A customer confirms their monthly statement (对账单) on a Chinese phone (390×844, zh-CN), without an
account: the statement reads whole on the screen (the firm, the month, the lines, the closing balance),
confirming without a name keeps the statement and asks for it, and with a name it is recorded once."""
from playwright.sync_api import expect

from webapp.auth.models import User
from webapp.customers import Customer
from webapp.extensions import db
from webapp.receivables import statements
from webapp.receivables.models import Statement

from ..helpers import customer_path
from ..receivables_books import october_statement_books


def test_a_statement_confirmed_on_a_phone(app, live_server, browser, browser_context_args, browser_problems,
                                          make_order, make_user, shoot):
    finance = make_user("finance", username="fin")
    books = october_statement_books(app, make_order, finance)
    with app.app_context(), app.test_request_context():
        statement = statements.draft(db.session.get(Customer, books["customer_id"]), "2026-10",
                                     db.session.get(User, finance))
        statements.send(statement, db.session.get(User, finance))
        db.session.commit()
        statement_id = statement.id
    link = live_server + customer_path(app, "statement", statement_id)
    context = browser_problems.watch(browser.new_context(**{**browser_context_args, "locale": "zh-CN"}))
    try:
        page = context.new_page()
        page.goto(link)
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.locator("h1")).to_have_text("请核对您的对账单")
        expect(page.locator("#closing")).to_have_text("¥2,487.00")
        expect(page.locator(".statement-sheet")).to_contain_text("2026-10")
        # opening, six lines (four, and an invoice voided within the month with its reversal), closing
        expect(page.locator(".statement-sheet tbody tr")).to_have_count(8)
        no_sideways = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert no_sideways, "the statement scrolls the page sideways on a phone"
        shoot(page, "statement-zh-phone")

        button = page.get_by_role("button", name="确认对账单")
        box = button.bounding_box()
        assert box["height"] >= 44, box  # a tap target for a thumb
        button.click()  # without a name
        expect(page.locator(".error-summary")).to_be_visible()
        expect(page.locator("#closing")).to_have_text("¥2,487.00")  # the statement is still there
        with app.app_context():
            assert db.session.get(Statement, statement_id).status == "sent"
        # the 422 that brought the form back is the expected answer, not a problem
        expected = [item for item in browser_problems.items if "422" in item and "/statement/confirm" in item]
        assert len(expected) == 1, browser_problems.items
        browser_problems.items.remove(expected[0])

        page.locator("#confirm-name").fill("李安")
        page.get_by_role("button", name="确认对账单").click()
        expect(page.locator(".flash.thanks")).to_have_text("谢谢：您已确认对账单。")
        expect(page.get_by_role("button", name="确认对账单")).to_have_count(0)
        expect(page.locator("main")).to_contain_text("李安")
        expect(page.locator("h1")).to_have_text("您的对账单")
        shoot(page, "statement-zh-confirmed")
        browser_problems.check(page)
    finally:
        context.close()
    with app.app_context():
        statement = db.session.get(Statement, statement_id)
        assert (statement.status, statement.answered_by_name) == ("confirmed", "李安")
