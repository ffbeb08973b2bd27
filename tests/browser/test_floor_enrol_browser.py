"""A fresh phone on the floor, in a real Chromium at 390×844: the supervisor shows a one-time code in
one browser, a second fresh browser (the shared phone) opens a work-order label, is sent to the
login page, follows "Floor phone? Enter the enrolment code", types the code on the numeric keypad,
becomes a floor phone, and a worker switches in by employee number and PIN and lands on the label's
page. Office pages then lead back to the switch screen. Run in Chinese and in English; each screen
is screenshotted and checked for sideways scrolling.
"""
import pytest
from playwright.sync_api import expect

from webapp.auth.models import User
from webapp.extensions import db
from webapp.production.models import WorkOrder

from ..conftest import PASSWORD
from .conftest import PHONE, TABLET
from .test_field_browser import assert_fits


def phone(browser, browser_context_args, browser_problems, locale: str):
    """A fresh, watched phone context speaking locale."""
    return browser_problems.watch(browser.new_context(**{**browser_context_args, "locale": locale}))


@pytest.mark.parametrize("locale", ["zh-CN", "en-GB"])
def test_a_supervisor_enrols_a_fresh_phone_and_a_worker_switches_in(
        app, live_server, make_order, make_user, browser, browser_context_args, browser_problems, shoot, locale):
    """Code on the supervisor's screen → typed on a fresh phone → floor phone → PIN → the label's page."""
    lang = "zh" if locale == "zh-CN" else "en"
    order_id = make_order("in_production")
    with app.app_context():
        token = db.session.scalar(db.select(WorkOrder.token).where(WorkOrder.order_id == order_id))
    make_user("production", username="zhang", name="张伟 Zhang")
    make_user("worker", username="huang", name="黄小明 Huang", employee_no="1001", pin="1234")
    make_user("worker", username="lin", name="林大伟 Lin", employee_no="W002", pin="2345")

    # The supervisor, in the office, shows a code.
    office = phone(browser, browser_context_args, browser_problems, locale).new_page()
    office.goto(live_server + "/login")
    office.locator("input[name=username]").fill("zhang")
    office.locator("input[name=password]").fill(PASSWORD)
    office.locator("input[name=password]").press("Enter")
    expect(office.locator("header .who")).to_have_text("张伟 Zhang")
    office.locator("nav.tabs a[href='/floor-phones']").click()
    label = "车间手机 3" if lang == "zh" else "Floor phone 3"
    expect(office.locator("input[name=label]")).to_have_value(label.replace("3", "1"))
    assert_fits(office)
    shoot(office, f"floor-{lang}-01-supervisor-floor-phones")
    office.locator("input[name=label]").fill(label)
    office.locator("form button[type=submit].wide").click()
    code = office.locator("p.code").inner_text().replace(" ", "")
    assert len(code) == 8 and code.isdigit()
    expect(office.locator(".enrol-code svg")).to_be_visible()
    expect(office.locator(".enrol-code .left")).to_contain_text(":")  # the countdown runs
    assert_fits(office)
    shoot(office, f"floor-{lang}-02-supervisor-code")
    office.set_viewport_size(TABLET)  # the supervisor's tablet in the office
    assert_fits(office)
    shoot(office, f"floor-{lang}-02-supervisor-code-tablet")
    office.set_viewport_size(PHONE["viewport"])

    # A fresh phone scans a label: nobody is logged in, so the login page, with the floor's way in.
    floor = phone(browser, browser_context_args, browser_problems, locale).new_page()
    floor.goto(f"{live_server}/w/{token}")
    expect(floor).to_have_url(f"{live_server}/login?next=%2Fw%2F{token}")
    way_in = floor.locator(".floor-way-in a.button")
    expect(way_in).to_have_text("车间手机？输入登记码" if lang == "zh" else "Floor phone? Enter the enrolment code")
    assert_fits(floor)
    shoot(floor, f"floor-{lang}-03-phone-login")
    way_in.click()
    field = floor.locator("input[name=code]")
    expect(field).to_have_attribute("inputmode", "numeric")
    expect(field).to_have_attribute("autocomplete", "one-time-code")
    field.fill(f"{code[:4]} {code[4:]}")
    assert_fits(floor)
    shoot(floor, f"floor-{lang}-04-phone-enter-code")
    field.press("Enter")

    # Now a floor phone with nobody on it: who are you?
    expect(floor.locator("h1")).to_have_text("谁在使用这部手机？" if lang == "zh" else "Who is using this phone?")
    expect(floor.locator("main")).to_contain_text(label)
    number, pin = floor.locator("input[name=employee_no]"), floor.locator("input[name=pin]")
    expect(number).to_have_attribute("inputmode", "numeric")
    expect(pin).to_have_attribute("inputmode", "numeric")
    expect(pin).to_have_attribute("autocomplete", "off")
    expect(floor.locator("button.keypad-toggle")).to_have_text("ABC")
    expect(floor.locator("nav.tabs")).to_have_count(0)  # nothing else to open yet
    assert_fits(floor)
    shoot(floor, f"floor-{lang}-05-phone-who-are-you")
    number.fill("1001")
    pin.fill("1234")
    pin.press("Enter")

    # On to the label that was scanned, as the worker.
    expect(floor).to_have_url(f"{live_server}/w/{token}")
    expect(floor.locator("header .who")).to_have_text("黄小明 Huang")
    expect(floor.locator("nav.tabs a[href='/orders/']")).to_have_count(0)
    assert_fits(floor)
    shoot(floor, f"floor-{lang}-06-phone-worker-page")

    # An office page leads back to the switch screen, with why.
    floor.goto(f"{live_server}/orders/{order_id}")
    expect(floor).to_have_url(f"{live_server}/switch")
    expect(floor.locator(".flash.error")).to_be_visible()
    assert_fits(floor)
    shoot(floor, f"floor-{lang}-07-phone-office-refused")

    # Done: the worker hands the phone back; the next one scans their badge and types the PIN.
    floor.locator("footer button[type=submit]").click()
    expect(floor.locator("main")).to_contain_text(label)
    expect(floor.locator("header .who")).to_have_count(0)
    with app.app_context():
        person = db.session.scalar(db.select(User).where(User.username == "lin"))
        secret = person.new_badge()
        db.session.commit()
    floor.goto(f"{live_server}/b/{secret}")
    pin = floor.locator("input[name=pin]")
    expect(pin).to_have_attribute("inputmode", "numeric")
    pin.fill("0000")
    pin.press("Enter")
    expect(floor.locator("input[name=pin] + p.error, .field.invalid .error")).to_be_visible()
    assert_fits(floor)
    shoot(floor, f"floor-{lang}-07b-phone-badge-wrong-pin")
    # the 422 that brought the PIN form back is the expected answer, not a problem
    expected = [item for item in browser_problems.items if "status of 422" in item and "/b/" in item]
    assert len(expected) == 1
    browser_problems.items.remove(expected[0])
    floor.locator("input[name=pin]").fill("2345")
    floor.locator("input[name=pin]").press("Enter")
    expect(floor.locator("header .who")).to_have_text("林大伟 Lin")

    # The supervisor sees the phone, with who is on it.
    office.goto(live_server + "/floor-phones")
    expect(office.locator("ul.list li").first).to_contain_text(label)
    expect(office.locator("ul.list li").first).to_contain_text("林大伟 Lin")
    assert_fits(office)
    shoot(office, f"floor-{lang}-08-supervisor-list")
    browser_problems.check(floor)
