"""A work order's materials on a phone in Chromium: the warehouse issues a lot in one tap from the
list, and issues typed without signal reach the server when it returns — one applied, the one that
asks for more than the lot has left kept as a visible conflict."""
from decimal import Decimal

from playwright.sync_api import expect

from webapp.extensions import db
from webapp.stock import ledger
from webapp.stock.models import StockMove

from ..test_work_order_materials import released_with_bom
from .test_field_browser import assert_fits
from .test_offline_browser import offline_noise_only, outbox, poll, ready_for_offline, wait_db
from .test_order_desk_browser import log_in


def test_issue_a_lot_in_one_tap_on_a_phone(app, live_server, context, browser_problems, shoot, make_order,
                                           make_user):
    ids = released_with_bom(app, make_order, stock={"steel": "2000", "pin": "500"})
    make_user("warehouse", username="wanda", name="Wanda Warehouse")
    page = context.new_page()
    log_in(page, live_server, "wanda")
    page.goto(f"{live_server}/w/{ids['token']}/materials")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Materials")
    row = page.locator("table.materials tbody tr").filter(has_text="SPCC-2.0")
    expect(row).to_contain_text("25.5 kg")
    assert_fits(page)
    shoot(page, "materials-phone")
    page.get_by_role("button", name="Issue 25.5 kg of SPCC-2.0, lot STEEL-1").click()
    expect(page.get_by_role("status").first).to_contain_text("Issued 25.5 kg of lot STEEL-1")
    expect(row).to_contain_text("Issued")
    with app.app_context():
        assert ledger.on_hand(ids["steel"]) == Decimal("1974.5")
    browser_problems.check(page)


def test_issues_typed_without_signal_apply_or_show_a_conflict(app, live_server, context, browser_problems,
                                                              make_order, make_user):
    ids = released_with_bom(app, make_order, stock={"steel": "10", "pin": "500"})
    wanda = make_user("warehouse", username="wanda", name="Wanda Warehouse")
    page = context.new_page()
    log_in(page, live_server, "wanda")
    ready_for_offline(page, wanda)
    page.goto(f"{live_server}/w/{ids['token']}/materials")
    context.set_offline(True)
    for amount in ("8", "8"):  # the lot has 10 kg: the second cannot be served
        page.get_by_label("Lot (scan its label or type its code)").fill("STEEL-1")
        page.get_by_label("Quantity").fill(amount)
        page.get_by_role("button", name="Issue", exact=True).click()
        expect(page.locator("#outbox-badge")).to_be_visible()
    poll(page, "Outbox.entries().then(list => list.length === 2)")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(StockMove).where(StockMove.kind == "issue")) == 0
    context.set_offline(False)
    wait_db(app, lambda: ledger.on_hand(ids["steel"]), Decimal("2"))
    poll(page, "Outbox.entries().then(list => list.some(e => e.status === 'conflict'))", timeout=20)
    entries = outbox(page)
    assert [e["status"] for e in entries] == ["conflict"], entries
    assert "not enough of this lot" in entries[0]["message"]
    with app.app_context():
        assert ledger.on_hand(ids["steel"]) == Decimal("2")
    offline_noise_only(browser_problems, "409 (CONFLICT)")
    browser_problems.check(page)
