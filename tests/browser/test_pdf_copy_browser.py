"""The customer's PDF copy in a real Chromium at phone width, in Chinese: countersign by drawing, tap
"download" on the signed copy, and read the downloaded PDF back."""
from pathlib import Path

from playwright.sync_api import expect

from tests.helpers import customer_path
from tests.test_pdf_copies import CUSTOMER, DESCRIPTION, assert_fonts_embedded, pdf_text

from .test_order_desk_browser import assert_fits, draw_signature


def test_the_customer_downloads_the_countersigned_copy_on_a_phone(live_server, browser, browser_context_args,
                                                                   browser_problems, shoot, app, make_order,
                                                                   make_customer, tmp_path):
    """A Chinese customer signs on a 390 px phone; the signed page offers the PDF, which downloads as
    an attachment and reads back with their firm's name, the product and the quantity."""
    make_customer("HDJM", name=CUSTOMER, locale="zh")
    order_id = make_order("awaiting_countersign", customer="HDJM", quantity="1200", description=DESCRIPTION)
    link = live_server + customer_path(app, "order_countersign", order_id)
    context = browser_problems.watch(browser.new_context(**{**browser_context_args, "locale": "zh-CN",
                                                            "accept_downloads": True}))
    page = context.new_page()
    page.goto(link)
    expect(page.locator("canvas#signature-pad")).not_to_have_attribute("width", "300")  # sized by the script
    draw_signature(page)
    page.get_by_label("您的姓名").fill("王晓明")
    page.locator("#sign-form input[type=checkbox][name=consent]").check()
    page.get_by_role("button", name="会签确认订单").click()
    button = page.get_by_role("link", name="下载您签署的副本（PDF）")
    expect(button).to_be_visible()
    assert_fits(page)
    shoot(page, "phone-zh-countersigned-copy-download")
    with page.expect_download() as download_info:
        button.click()
    download = download_info.value
    assert download.suggested_filename.endswith("-v1.pdf"), download.suggested_filename
    saved = Path(tmp_path) / download.suggested_filename
    download.save_as(saved)
    data = saved.read_bytes()
    text = pdf_text(data)
    assert CUSTOMER in text and DESCRIPTION in text and "1,200" in text and "王晓明" in text
    assert_fonts_embedded(data)
    browser_problems.check(page)
    context.close()


def test_the_customer_downloads_the_receipt_copy_once_the_outbox_sent_it(live_server, browser, browser_context_args,
                                                                       browser_problems, shoot, app, make_order,
                                                                       make_customer, as_user, tmp_path):
    """The receipt form goes through the phone's outbox; once the server has it, the thanks shown in
    place offers the signed copy, which downloads and reads back (shipped and received quantities)."""
    from tests.test_pdf_copies import dispatched_shipment
    make_customer("HDJM", name=CUSTOMER, locale="zh")
    shipment_id, _sline_id = dispatched_shipment(app, make_order, as_user, quantity="2400")
    link = live_server + customer_path(app, "delivery_receipt", shipment_id) + "/receipt"
    context = browser_problems.watch(browser.new_context(**{**browser_context_args, "locale": "zh-CN",
                                                            "accept_downloads": True}))
    page = context.new_page()
    page.goto(link)
    page.locator("input[name$='-qty']").fill("2398")
    page.locator("select[name$='-condition']").select_option("damaged")
    page.locator("input[name=name]").fill("李静")
    draw_signature(page)
    page.locator("#sign-form input[type=checkbox][name=consent]").check()
    page.locator("#sign-form button[type=submit]").click()
    button = page.get_by_role("link", name="下载您签署的副本（PDF）")
    expect(button).to_be_visible(timeout=20000)  # shown once the outbox has sent the receipt
    assert_fits(page)
    shoot(page, "phone-zh-receipt-copy-download")
    with page.expect_download() as download_info:
        button.click()
    saved = Path(tmp_path) / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    text = pdf_text(saved.read_bytes())
    assert "2,400" in text and "2,398" in text and "李静" in text and "破损" in text
    assert_fonts_embedded(saved.read_bytes())
    browser_problems.check(page)
    context.close()
