"""The customer page as Chromium draws it on a phone, in Chinese, for finance and for a sales rep
who may see only their own customers: every section there, nothing wider than the screen, the
money section's figures; and the section a rep's firm keeps from them absent."""
from playwright.sync_api import expect

from webapp.extensions import db
from webapp.firm import get_settings

from ..test_customer_page import firm  # noqa: F401  (the hand-built ACME and BETA)
from .test_closing_browser import log_in
from .test_field_browser import assert_fits


def test_the_customer_page_on_a_phone_in_chinese(app, live_server, browser, browser_context_args,
                                                 browser_problems, shoot, firm, make_user):  # noqa: F811
    base = live_server
    make_user("finance", username="chen", name="陈静", locale="zh")
    context = browser_problems.watch(browser.new_context(**{**browser_context_args, "locale": "zh-CN"}))
    page = context.new_page()
    log_in(page, base, "chen")
    page.goto(f"{base}/customers/")
    page.get_by_role("link", name="ACME").first.click()
    expect(page.locator("h1")).to_contain_text("ACME")
    for heading in ("当前待办", "款项", "往来记录"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    money = page.locator("#money")
    # Invoiced 2,130.00 less 1,500.00 received: 630.00 owed; 5,000.00 of signed orders not invoiced.
    expect(money.locator("dl.facts").first).to_contain_text("¥630.00")
    expect(money.locator("dl.facts").first).to_contain_text("¥5,000.00")
    expect(money.locator("#open-invoices")).to_contain_text("（1）")
    expect(money).to_contain_text("INV-ACME-1")
    expect(page.locator("#satisfaction svg.chart")).to_be_visible()
    assert_fits(page)
    shoot(page, "customer-page-zh")

    with app.app_context():  # the firm keeps receivables to finance: a rep sees the page, not the money
        get_settings().finance_roles = ""
        db.session.commit()
    make_user("sales", username="sally-zh", name="莎莉", locale="zh")
    rep = browser_problems.watch(browser.new_context(**{**browser_context_args, "locale": "zh-CN"})).new_page()
    log_in(rep, base, "sally-zh")
    rep.goto(page.url)
    expect(rep.get_by_role("heading", name="当前待办", exact=True)).to_be_visible()
    expect(rep.locator("#money")).to_have_count(0)
    assert_fits(rep)
