"""The order desk end to end in a real Chromium at phone width: every person on their own phone
(or taking turns on the office phone), the customer on a phone that never logs in.

Only the people, the customer and the product are made with the factories; everything else goes
through the pages: forms, buttons, htmx panels, the customer link read off the page, and a
signature drawn on the canvas with the mouse.
"""
import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

from .conftest import TABLET, drawn

NUMBER = re.compile(r"\b20\d\d(?:0[1-9]|1[0-2])-ACME-001\b")  # YYYYMM-ACME-001


def log_in(page, base: str, username: str) -> None:
    """Log in through the login form."""
    page.goto(base + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="My work", level=1)).to_be_visible()


def log_out(page) -> None:
    """Log out with the footer button."""
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def settle(page) -> None:
    """Let the page lay out and paint twice (after a resize). No wait_for_function: its string
    predicates are eval'd in the page, which the CSP forbids."""
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def assert_fits(page) -> None:
    """Nothing makes the page wider than the screen (a long link, hash or table must scroll in
    its own box, not drag the whole page sideways)."""
    widths = page.evaluate("[document.documentElement.scrollWidth, Math.min(window.innerWidth, document.documentElement.clientWidth)]")
    assert widths[0] <= widths[1], f"{page.url} is {widths[0]} px wide on a {widths[1]} px screen"


def mark_page(page) -> None:
    """Put a marker on window: it survives an htmx swap, not a full page load."""
    page.evaluate("window.__noReload = true")


def assert_not_reloaded(page) -> None:
    """The last action was done by htmx in place, not by a full page load."""
    assert page.evaluate("window.__noReload === true"), "the form posted as a full page, not through htmx"


def panel(page):
    """The order page's status panel (the htmx target)."""
    return page.locator("#status-panel")


def department_card(page, heading: str):
    """One department's card in the review panel."""
    return panel(page).locator(".review-card").filter(has=page.get_by_role("heading", name=heading))


def sign_off(page, heading: str, reviewer: str, note: str = "", last: bool = False) -> None:
    """Record an 'agree' sign-off in the department's card through htmx and wait for the swap:
    the card then names the reviewer, or (the last sign-off) the panel moves on to approval."""
    card = department_card(page, heading)
    card.get_by_label("Verdict").select_option("agree")
    if note:
        card.get_by_label("Note").fill(note)
    mark_page(page)
    card.get_by_role("button", name="Record sign-off").click()
    if last:
        expect(panel(page).get_by_role("heading", name="Approval")).to_be_visible()
    else:
        expect(department_card(page, heading)).to_contain_text(reviewer)
        expect(department_card(page, heading).get_by_role("button", name="Record sign-off")).to_have_count(0)
    assert_not_reloaded(page)


def draw_signature(page) -> None:
    """Sign on the canvas with several mouse strokes, like a finger would."""
    canvas = page.locator("canvas#signature-pad")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box and box["width"] > 250 and box["height"] > 120, box
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    strokes = [
        [(0.10, 0.70), (0.16, 0.30), (0.22, 0.72), (0.28, 0.35), (0.33, 0.68)],  # a wavy "A"
        [(0.38, 0.65), (0.45, 0.40), (0.52, 0.62), (0.58, 0.42), (0.64, 0.60)],
        [(0.68, 0.30), (0.70, 0.75)],                                              # a stroke down
        [(0.74, 0.55), (0.82, 0.45), (0.90, 0.58)],
        [(0.12, 0.85), (0.50, 0.82), (0.88, 0.86)],                                # underline
    ]
    for stroke in strokes:
        page.mouse.move(x0 + stroke[0][0] * w, y0 + stroke[0][1] * h)
        page.mouse.down()
        for fx, fy in stroke[1:]:
            page.mouse.move(x0 + fx * w, y0 + fy * h, steps=8)
        page.mouse.up()


@pytest.mark.slow
def test_requirement_to_effective_order_on_phones(live_server, context, open_context, browser_problems,
                                                  shoot, make_user, make_customer, make_product):
    base = live_server
    make_customer("ACME")
    make_product("BRK-1", on_hand="40", price="10.00")
    make_user("sales", username="sally", name="Sally Sales")
    make_user("production", username="pete", name="Pete Production")
    make_user("warehouse", username="wanda", name="Wanda Warehouse")
    make_user("finance", username="fiona", name="Fiona Finance")
    make_user("manager", username="max", name="Max Manager")

    def shots(page, name: str) -> None:
        """The page at phone width, then once more at tablet width; neither scrolls sideways."""
        assert_fits(page)
        shoot(page, f"phone-{name}")
        phone = page.viewport_size
        page.set_viewport_size(TABLET)
        settle(page)
        assert page.evaluate("window.innerWidth") == TABLET["width"]
        assert_fits(page)
        shoot(page, f"tablet-{name}")
        page.set_viewport_size(phone)
        settle(page)

    # --- Sales: log in, write the requirement record, send it. ---------------------------------
    sales = context.new_page()
    log_in(sales, base, "sally")
    sales.get_by_role("link", name="New requirement").click()
    expect(sales.get_by_role("heading", name="New requirement")).to_be_visible()
    sales.get_by_label("Customer", exact=True).select_option(label="ACME Ltd (ACME)")
    sales.get_by_label("Contact e-mail").fill("buyer@acme.example.com")
    sales.get_by_label("Product or service").fill("Stainless bracket")
    sales.get_by_label("Catalogue product").select_option(label="BRK-1 · Product BRK-1")
    sales.get_by_label("Specifications").fill("304 stainless, 2 mm, brushed")
    sales.get_by_label("Quantity").fill("100")
    sales.get_by_label("Expected delivery date").fill("2026-12-20")
    sales.get_by_label("Budget from").fill("900")
    sales.get_by_label("Budget to").fill("1200")
    sales.get_by_label("Special requirements").fill("Pack in tens")
    sales.get_by_label("Priority").select_option("urgent")
    sales.get_by_role("button", name="Save").click()
    expect(sales.get_by_role("heading", name="ACME Ltd", level=1)).to_be_visible()
    sales.get_by_role("button", name="Send to customer").click()
    copy = sales.get_by_label("Customer link")
    expect(copy).to_have_attribute("readonly", "")
    link = copy.input_value()
    assert re.fullmatch(re.escape(base) + r"/c/[A-Za-z0-9_-]{22,}", link), link
    qr = sales.get_by_role("img", name="QR code of the customer link")
    expect(qr).to_be_visible()
    assert drawn(sales, qr), "the QR code of the customer link does not load"
    requirement_url = sales.url
    shots(sales, "01-requirement-link-qr")

    # --- The customer's phone: no login, opens the link and confirms. ---------------------------
    customer_phone = open_context()
    customer = customer_phone.new_page()
    customer.goto(link)
    expect(customer.get_by_role("heading", name="Please check your requirement")).to_be_visible()
    expect(customer.locator("main")).to_contain_text("Stainless bracket")
    expect(customer.get_by_role("button", name="Log out")).to_have_count(0)  # nobody is logged in here
    shots(customer, "02-customer-confirm")
    confirm_form = customer.locator("form").filter(has=customer.get_by_role("button", name="Confirm requirement"))
    confirm_form.get_by_label("Your name").fill("Ann Buyer")
    confirm_form.get_by_role("button", name="Confirm requirement").click()
    expect(customer.get_by_role("heading", name="Thank you")).to_be_visible()
    shoot(customer, "phone-03-customer-thanks")

    # --- Sales draws up the order from the confirmed requirement, saves, submits. ---------------
    sales.goto(requirement_url)
    expect(sales.locator(".badge").first).to_have_text(re.compile("Confirmed", re.I))
    sales.get_by_role("link", name="Draw up the order").click()
    expect(sales.get_by_role("heading", name="New order")).to_be_visible()
    expect(sales.get_by_label("Model")).to_have_value("BRK-1")
    expect(sales.get_by_label("Quantity")).to_have_value("100")  # taken over from the requirement
    sales.get_by_label("Customer PO number").fill("PO-4711")
    sales.get_by_label("Customer part no.").fill("C-1")
    sales.get_by_label("Drawing rev.").fill("A")
    sales.get_by_label("Delivery place").fill("Shanghai, Pudong, Gate 3")
    shoot(sales, "phone-04-order-form")
    sales.get_by_role("button", name="Save draft").click()
    expect(sales.get_by_role("heading", name=re.compile(r"Order #\d+ · ACME Ltd"))).to_be_visible()
    order_url = sales.url
    assert re.search(r"/orders/\d+$", order_url), order_url
    # 100 pcs at 10.00 from the requirement and the catalogue, plus 13 % tax
    expect(sales.locator("table tfoot")).to_contain_text("1,130.00")
    sales.get_by_role("button", name="Submit for review").click()
    expect(panel(sales).locator(".badge").first).to_have_text(re.compile("review", re.I))
    expect(panel(sales).get_by_role("heading", name="Feasibility review")).to_be_visible()

    # --- Production, warehouse and finance take turns on the office phone. ----------------------
    office_phone = open_context()
    office = office_phone.new_page()
    log_in(office, base, "pete")
    office.goto(order_url)
    sign_off(office, "Production: capacity against the date", "Pete Production", "Fits week 50.")
    log_out(office)

    log_in(office, base, "wanda")
    office.goto(order_url)
    stock = department_card(office, "Warehouse: stock against need")
    expect(stock.locator("table")).to_contain_text("BRK-1")
    expect(stock.locator("tbody td.num").nth(1)).to_have_text("40")  # on hand
    shots(office, "05-order-review-warehouse")
    sign_off(office, "Warehouse: stock against need", "Wanda Warehouse", "60 to make.")
    log_out(office)

    log_in(office, base, "fiona")
    office.goto(order_url)
    finance_card = department_card(office, "Finance: cost against price")
    expect(finance_card).to_contain_text("not set")
    for label, value in (("Direct material", "400"), ("Direct labour", "200"), ("Manufacturing overhead", "100"),
                         ("Logistics", "50"), ("After-sales", "20")):
        finance_card.get_by_label(label).fill(value)
    mark_page(office)
    finance_card.get_by_role("button", name="Save cost budget").click()
    finance_card = department_card(office, "Finance: cost against price")
    expect(finance_card).not_to_contain_text("not set")
    expect(finance_card.locator("dl.facts")).to_contain_text("770")   # the budget
    expect(finance_card.locator("dl.facts")).to_contain_text("230")   # the margin
    assert_not_reloaded(office)
    shots(office, "06-order-review-finance")
    sign_off(office, "Finance: cost against price", "Fiona Finance", last=True)
    log_out(office)

    # --- Approval: the manager, then finance; the number comes with the last one. ---------------
    log_in(office, base, "max")
    office.goto(order_url)
    expect(panel(office).get_by_role("heading", name="Approval")).to_be_visible()
    shots(office, "07-order-approval-manager")
    mark_page(office)
    panel(office).get_by_role("button", name="Approve").click()
    expect(panel(office).locator(".list li").filter(has_text="Manager")).to_contain_text("Max Manager")
    expect(panel(office).get_by_role("button", name="Approve")).to_have_count(0)
    assert_not_reloaded(office)
    log_out(office)

    log_in(office, base, "fiona")
    office.goto(order_url)
    mark_page(office)
    panel(office).get_by_role("button", name="Approve").click()
    expect(panel(office)).to_contain_text("Waiting for the customer to countersign")
    assert_not_reloaded(office)
    office.reload()
    heading = office.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile(NUMBER.pattern))
    number = NUMBER.search(heading.inner_text()).group(0)
    log_out(office)

    # --- Sales hands the countersign link to the customer. --------------------------------------
    sales.goto(order_url)
    expect(sales.get_by_role("heading", level=1)).to_contain_text(number)
    sign_link = panel(sales).get_by_label("Customer link").input_value()
    assert sign_link.startswith(base + "/c/") and sign_link != link
    shots(sales, "08-order-awaiting-countersign")

    # --- The customer countersigns by drawing on the phone. -------------------------------------
    customer.goto(sign_link)
    expect(customer.get_by_role("heading", name=f"Order {number}")).to_be_visible()
    expect(customer.locator("canvas#signature-pad")).not_to_have_attribute("width", "300")  # sized by the script
    draw_signature(customer)
    ink = customer.evaluate("""() => {
        const c = document.getElementById('signature-pad');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let ink = 0; for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) ink++; } return ink; }""")
    assert ink > 500, f"the strokes left almost no ink on the canvas ({ink} pixels)"
    customer.get_by_label("Your full name").fill("Ann Buyer")
    customer.get_by_label("Position").fill("Purchasing manager")
    consent = customer.locator("#sign-form input[type=checkbox][name=consent]")
    consent.check()
    shots(customer, "09-countersign-drawn")
    customer.get_by_role("button", name="Countersign the order").click()
    # the customer's copy of what they signed, headed by the thanks (the link keeps showing it)
    expect(customer.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(customer.get_by_role("heading", name=f"Order {number}")).to_be_visible()
    expect(customer.locator(".sig-svg svg polyline")).to_have_count(5)
    shoot(customer, "phone-10-customer-signed-copy")

    # --- The order is effective, with the signature the server drew from the strokes. -----------
    sales.goto(order_url)
    expect(panel(sales).locator(".badge").first).to_have_text("Effective")
    signature = sales.locator("section.card").filter(
        has=sales.get_by_role("heading", name="Countersignature"))
    expect(signature).to_contain_text("Ann Buyer")
    expect(signature.locator(".sig-svg svg polyline")).to_have_count(5)
    shots(sales, "11-order-effective")
    sales.get_by_role("link", name="Order confirmation").click()
    expect(sales.get_by_role("heading", level=1)).to_contain_text(number)
    expect(sales.locator(".sig-svg svg")).to_be_visible()
    expect(sales.locator("main")).to_contain_text("PO-4711")
    shots(sales, "12-order-confirmation")

    for page in (sales, customer, office):
        browser_problems.check(page)
