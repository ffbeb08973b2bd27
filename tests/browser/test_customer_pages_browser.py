"""The customer's countersign page on a Chinese phone (390×844, issue 9): sent without a name, the page
comes back with the error summary in view and the focus on the field to fix, the drawn signature still
there; signed, and the link opened again later, it shows the signed copy."""
import re
import time

from playwright.sync_api import expect

from ..helpers import customer_path
from .test_order_desk_browser import draw_signature

INK = """() => { const c = document.getElementById('signature-pad');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) { n++; } } return n; }"""


def in_viewport(page, selector: str) -> bool:
    """Whether the element's top edge is on the screen (give or take a fraction of a pixel)."""
    rect = page.evaluate("""(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
        return {top: r.top, bottom: r.bottom, height: window.innerHeight}; }""", selector)
    assert -2 <= rect["top"] < rect["height"] and rect["bottom"] > 0, (selector, rect)
    return True


def test_countersign_error_summary_in_view_then_the_signed_copy(app, live_server, browser, browser_context_args,
                                                                 browser_problems, make_order, shoot):
    order_id = make_order("awaiting_countersign")
    link = live_server + customer_path(app, "order_countersign", order_id)
    context = browser_problems.watch(browser.new_context(**{**browser_context_args, "locale": "zh-CN"}))
    try:
        page = context.new_page()
        page.goto(link)
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.locator("details.fingerprint")).not_to_have_attribute("open", "")
        expect(page.locator("details.fingerprint code")).not_to_be_visible()  # behind the toggle
        draw_signature(page)
        page.locator("#sign-form input[name=consent]").check()
        page.locator("#sign-form button[type=submit]").click()  # the name left empty

        summary = page.locator(".error-summary")
        expect(summary).to_be_visible()
        expect(summary).to_have_attribute("role", "alert")
        expect(summary.get_by_role("link")).to_have_count(1)
        expect(page.locator("#name")).to_be_focused()  # the field to fix, with the summary above it
        assert in_viewport(page, ".error-summary"), "the error summary is off the screen"
        assert in_viewport(page, "#name")
        expect(page.locator("#name")).to_have_attribute("aria-invalid", "true")
        # signature.js (a module) redraws the kept strokes once the pad's script has loaded: wait for it.
        deadline = time.monotonic() + 10
        while page.evaluate(INK) <= 500 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert page.evaluate(INK) > 500, "the signature drawn before the refusal is lost"
        expect(page.locator("#sign-form input[name=consent]")).to_be_checked()
        shoot(page, "customer-zh-countersign-error")

        # the summary's link takes the focus back to its field
        page.locator("#name").blur()
        page.evaluate("window.scrollTo(0, 0)")
        summary.get_by_role("link").click()
        expect(page.locator("#name")).to_be_focused()

        page.locator("#name").fill("王芳")
        page.locator("#sign-form button[type=submit]").click()
        expect(page.get_by_role("heading", name="谢谢")).to_be_visible()
        expect(page.locator("main")).to_contain_text("王芳")
        # the 422 that brought the form back is the expected answer, not a problem
        expected = [item for item in browser_problems.items if "422" in item and item.endswith("ENTITY)")]
        assert len(expected) == 1, browser_problems.items
        browser_problems.items.remove(expected[0])
        browser_problems.check(page)
    finally:
        context.close()

    # Days later, on another phone: the used link shows the signed copy, nothing to fill in.
    context = browser_problems.watch(browser.new_context(**{**browser_context_args, "locale": "zh-CN"}))
    try:
        page = context.new_page()
        page.goto(link)
        main = page.locator("main")
        expect(main).to_contain_text("这是您的副本")
        expect(main).to_contain_text("王芳")
        expect(main.locator(".sig-svg svg")).to_be_visible()
        expect(main.locator("input, textarea, button[type=submit]")).to_have_count(0)
        expect(main.locator("a[href^='tel:'], a[href^='mailto:']")).not_to_have_count(0)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert re.search(r"BRK-1", main.inner_text())
        shoot(page, "customer-zh-countersign-copy")
        browser_problems.check(page)
    finally:
        context.close()


def test_receipt_without_a_name_is_stopped_on_the_phone_with_the_summary(app, live_server, browser,
                                                                         browser_context_args, browser_problems,
                                                                         make_order, as_user, shoot):
    """The receipt goes through the phone's outbox, so a refusal by the server would land there, out of the
    customer's sight: the name left empty is caught before anything is recorded, with the same summary."""
    from webapp.extensions import db
    from webapp.orders.models import OrderLine
    from webapp.shipping.models import DeliveryReceipt, Shipment

    from ..test_shipping import new_shipment, packed
    order_id = make_order("ready_to_ship")
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    warehouse = as_user("warehouse")
    assert new_shipment(warehouse, order_id, line_id, "60").status_code == 303
    with app.app_context():
        shipment_id = db.session.scalar(db.select(Shipment.id))
    packed(app, warehouse, shipment_id)
    assert warehouse.post(f"/shipping/{shipment_id}/dispatch", data={"note": ""}).status_code == 303
    link = live_server + customer_path(app, "delivery_receipt", shipment_id)
    context = browser_problems.watch(browser.new_context(**{**browser_context_args, "locale": "zh-CN"}))
    try:
        page = context.new_page()
        page.goto(link)
        draw_signature(page)
        page.locator("#sign-form input[name=consent]").check()
        page.locator("#sign-form button[type=submit]").click()
        summary = page.locator(".error-summary")
        expect(summary).to_be_visible()
        expect(summary.get_by_role("link")).to_have_count(1)
        expect(summary).to_contain_text("您的姓名")
        # the summary on the screen, the focus on the name below it
        expect(page.locator("#name")).to_be_focused()
        assert in_viewport(page, ".error-summary") and in_viewport(page, "#name")
        expect(page.locator("#name")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#outbox-badge")).to_be_hidden()  # nothing waits in the outbox
        shoot(page, "customer-zh-receipt-error")
        page.locator("#name").fill("李收货")
        page.locator("#sign-form button[type=submit]").click()
        expect(page.get_by_role("heading", name="谢谢")).to_be_visible()
        for _ in range(400):  # what reached the server (the outbox sends it after showing thanks)
            with app.app_context():
                signer = db.session.scalar(db.select(DeliveryReceipt.signer_name))
            if signer:
                break
            time.sleep(0.05)
        assert signer == "李收货"
        browser_problems.check(page)
    finally:
        context.close()
