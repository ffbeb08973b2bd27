"""The customer's PDF copies: after countersigning and after signing for delivery the customer gets a
PDF by mail and can download it from their link. The text reads back (Chinese included), every font
is embedded, page 1 renders, and the firm's seal is printed where the firm uploaded one."""
import email
import email.policy
import hashlib
import io
import logging
import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from pdfminer.high_level import extract_text
from pdfminer.pdfdocument import PDFDocument
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import PDFStream, resolve1
from PIL import Image

from webapp import links
from webapp.admin.models import get_settings
from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.orders.models import Countersignature, OrderLine
from webapp.photos import Photo
from webapp.shipping.models import DeliveryReceipt, Shipment, ShipmentLine
from webapp.uploads import path_of

from .helpers import SIGNATURE, customer_path, text_of

CUSTOMER = "杭州华东精密机械有限公司"
DESCRIPTION = "不锈钢安装支架 304，厚 2 毫米"
SIGNER = "王晓明"


# --- reading PDFs back --------------------------------------------------------------------------------

def pdf_text(data: bytes) -> str:
    """The PDF's text as a reader's copy-and-paste would give it."""
    return extract_text(io.BytesIO(data))


def fonts_of(data: bytes) -> list[dict]:
    """Every font the PDF's pages and their form XObjects use: its name, subtype and whether its
    descriptor (or its descendant's) carries an embedded font program."""
    document = PDFDocument(PDFParser(io.BytesIO(data)))
    found, seen = [], set()

    def walk(resources):
        resources = resolve1(resources) or {}
        for font in (resolve1(resources.get("Font")) or {}).values():
            font = resolve1(font)
            if id(font) in seen:
                continue
            seen.add(id(font))
            descriptor_owner = font
            if font.get("Subtype").name == "Type0":
                descriptor_owner = resolve1(resolve1(font["DescendantFonts"])[0])
            descriptor = resolve1(descriptor_owner.get("FontDescriptor")) or {}
            found.append({"name": resolve1(font.get("BaseFont")).name,
                          "subtype": resolve1(descriptor_owner.get("Subtype")).name,
                          "embedded": any(key in descriptor for key in ("FontFile", "FontFile2", "FontFile3"))})
        for xobject in (resolve1(resources.get("XObject")) or {}).values():
            xobject = resolve1(xobject)
            if isinstance(xobject, PDFStream) and xobject.get("Resources") is not None:
                walk(xobject["Resources"])

    for page in PDFPage.create_pages(document):
        walk(page.resources)
    return found


def assert_fonts_embedded(data: bytes) -> None:
    fonts = fonts_of(data)
    assert fonts, "the PDF names no font"
    assert all(font["embedded"] for font in fonts), fonts
    # the CJK font goes in as TrueType with Identity-H: what phones' viewers read
    assert any(font["subtype"] == "CIDFontType2" for font in fonts), fonts


def flat(text: str) -> str:
    """Text without line breaks and spaces (a long hash or a wrapped name reads back in pieces)."""
    return "".join(text.split())


def pdf_attachments(messages) -> list[tuple[str, object, bytes]]:
    """(recipient, parsed message, PDF bytes) for each PDF attached to the SMTP messages."""
    out = []
    for envelope in messages:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        for part in message.iter_attachments():
            if part.get_content_type() == "application/pdf":
                out.append((envelope.rcpt_tos[0], message, part.get_content()))
    return out


def render_page_one(data: bytes, tmp_path: Path, name: str) -> Image.Image:
    """Page 1 as a PNG through poppler's pdftoppm, as a phone's viewer would draw it."""
    if shutil.which("pdftoppm") is None:
        if os.environ.get("CI"):
            pytest.fail("pdftoppm is missing (poppler-utils, installed by .ci/run)")
        pytest.skip("pdftoppm is not installed (apt-get install poppler-utils)")
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(source),
                    str(tmp_path / name)], check=True, timeout=60)
    return Image.open(tmp_path / f"{name}.png")


def assert_looks_like_a_page(image: Image.Image) -> None:
    """A4 portrait at 60 dpi, with ink on it (text and lines), not a blank or black page."""
    width, height = image.size
    assert abs(width - 496) <= 1 and abs(height - 702) <= 1, image.size  # 210 × 297 mm, rounded either way
    grey = image.convert("L")
    histogram = grey.histogram()
    dark = sum(histogram[:128])
    assert dark > 400 and dark / (width * height) < 0.5, dark  # a blank page has none, a black one half


# --- the flows ------------------------------------------------------------------------------------

@pytest.fixture
def chinese_customer(make_customer):
    """A customer who reads Chinese, with a Chinese name."""
    return make_customer("HDJM", name=CUSTOMER, locale="zh")


def countersign(app, make_order, quantity="1200", signer=SIGNER, **extra):
    """An order for the Chinese customer awaiting countersignature, signed on the customer's phone."""
    order_id = make_order("awaiting_countersign", customer="HDJM", quantity=quantity, price="12.50",
                          description=DESCRIPTION, **extra)
    path = customer_path(app, "order_countersign", order_id)
    customer = app.test_client()
    customer.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    response = customer.post(path + "/sign", data={"name": signer, "title": "采购经理", "strokes": SIGNATURE,
                                                   "consent": "y"})
    assert response.status_code == 303, text_of(response)[:500]
    return order_id, path, customer, response.headers["Location"]


def test_countersigning_mails_the_customer_a_pdf_copy_with_the_terms(app, smtp, make_order,  # noqa: F811
                                                                     chinese_customer, tmp_path):
    """The customer's copy arrives by SMTP after the commit, in Chinese: their firm's name, the product
    description, the quantity, the price they saw and the terms' SHA-256 read back from the PDF;
    every font is embedded; page 1 renders."""
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    with app.app_context():
        get_settings().firm_name = "宁波精工五金有限公司"
        db.session.commit()
    order_id, _path, _client, _location = countersign(app, make_order)
    with app.app_context():
        signature = db.session.scalar(db.select(Countersignature).where(Countersignature.order_id == order_id))
        sha256 = signature.terms_sha256
        # the hash printed is the hash of the signed text printed below it
        assert hashlib.sha256(signature.terms_json.encode("utf-8")).hexdigest() == sha256
    copies = [item for item in pdf_attachments(smtp.messages) if item[0] == "buyer@hdjm.example.com"]
    assert len(copies) == 1, [m.rcpt_tos for m in smtp.messages]
    _to, message, data = copies[0]
    assert "会签" in message["Subject"]  # in the customer's language
    assert "/copy.pdf" in message.get_body(("plain",)).get_content()
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    for expected in (CUSTOMER, DESCRIPTION, "1,200", "宁波精工五金有限公司", "订单确认书", SIGNER, "采购经理",
                     "¥12.50", "¥15,000.00"):
        assert expected in text or flat(expected) in flat(text), (expected, text)
    assert sha256 in flat(text)
    assert_fonts_embedded(data)
    assert_looks_like_a_page(render_page_one(data, tmp_path, "countersigned"))


def test_the_used_countersign_link_downloads_the_copy_for_the_retention_period(app, make_order, chinese_customer):
    """The signed page links to the copy; the used link downloads it as an attachment, also after an
    amendment's housekeeping revoked it; past the retention period it is gone (410); an unknown token
    and a link withdrawn before it was used give 404."""
    order_id, path, customer, location = countersign(app, make_order)
    page = text_of(customer.get(location))
    assert path + "/copy.pdf" in page and "下载" in page
    response = customer.get(path + "/copy.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and ".pdf" in disposition and "-v1" in disposition
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Referrer-Policy"] == "no-referrer"
    assert CUSTOMER in pdf_text(response.data)
    assert_fonts_embedded(response.data)
    assert customer.get("/c/not-a-token/copy.pdf").status_code == 404
    # revoked after it was used (what an amendment or a new link does): the copy of what was signed stays
    with app.app_context(), app.test_request_context():
        links.revoke_all("order_countersign", order_id)
        db.session.commit()
    assert customer.get(path + "/copy.pdf").status_code == 200
    # past the retention period (365 days by default): gone, and the page says so
    with app.app_context():
        signature = db.session.scalar(db.select(Countersignature).where(Countersignature.order_id == order_id))
        signature.signed_at = utcnow() - timedelta(days=366)
        db.session.commit()
    gone = customer.get(path + "/copy.pdf")
    assert gone.status_code == 410 and "365" in text_of(gone)
    assert path + "/copy.pdf" not in text_of(customer.get(location))  # and the page no longer offers it
    # a countersign link withdrawn before it was used leads to nothing
    other_id = make_order("awaiting_countersign", customer="HDJM")
    unused = customer_path(app, "order_countersign", other_id)
    with app.app_context(), app.test_request_context():
        links.revoke_all("order_countersign", other_id)
        db.session.commit()
    assert customer.get(unused + "/copy.pdf").status_code == 404


def test_an_english_customer_gets_an_english_copy(app, make_order, make_customer, tmp_path):
    """A customer who reads English gets the copy in English (the Chinese product text still renders)."""
    make_customer("HDJM", name="Harbour Drive Ltd", locale="en")
    _order_id, path, customer, _location = countersign(app, make_order, signer="Ann Smith")
    customer.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    data = customer.get(path + "/copy.pdf").data
    text = pdf_text(data)
    assert "Order confirmation" in text and "Harbour Drive Ltd" in text and DESCRIPTION in text
    assert "Ann Smith" in text and "1,200" in text
    assert_fonts_embedded(data)


def test_a_character_outside_the_font_is_shown_as_a_box_and_logged(app, make_order, chinese_customer, caplog):
    """A rare character the embedded subset lacks (here an emoji and a CJK Extension B hanzi) never
    breaks the copy: it prints as □ and is logged."""
    _order_id, path, customer, _location = countersign(app, make_order, signer="王\U00020000明🙂")
    with caplog.at_level(logging.WARNING, logger="webapp.documents.pdf"):
        response = customer.get(path + "/copy.pdf")
    assert response.status_code == 200
    assert "王□明□" in pdf_text(response.data)
    assert "U+20000" in caplog.text and "U+1F642" in caplog.text


# --- the delivery receipt -----------------------------------------------------------------------------

def dispatched_shipment(app, make_order, as_user, quantity="1200"):
    """An order for the Chinese customer shipped in full and dispatched by the warehouse."""
    order_id = make_order("ready_to_ship", customer="HDJM", quantity=quantity, description=DESCRIPTION)
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    warehouse = as_user("warehouse")
    response = warehouse.post(f"/shipping/orders/{order_id}/new", data={
        f"qty-{line_id}": quantity, f"batch-{line_id}": "B-2611", "method": "delivery", "carrier": "顺丰速运",
        "tracking_no": "SF123", "cost": "80"})
    assert response.status_code == 303
    with app.app_context():
        shipment_id = db.session.scalar(db.select(Shipment.id).where(Shipment.order_id == order_id))
        shipment_line_ids = list(db.session.scalars(db.select(ShipmentLine.id).where(
            ShipmentLine.shipment_id == shipment_id)))
    for sline_id in shipment_line_ids:
        warehouse.post(f"/shipping/{shipment_id}/lines/{sline_id}/check", data={"batch": "B-2611"})
    assert warehouse.post(f"/shipping/{shipment_id}/pack").status_code == 303
    assert warehouse.post(f"/shipping/{shipment_id}/dispatch", data={"note": ""}).status_code == 303
    return shipment_id, shipment_line_ids[0]


def test_signing_for_delivery_mails_and_offers_the_receipt_copy(app, smtp, make_order, as_user,  # noqa: F811
                                                                 chinese_customer, tmp_path):
    """The customer signs with a damaged line: the thanks page links to the copy, the mail carries it,
    and the PDF reads back shipped and received quantities, the condition, the damage note, the
    receiver and the delivery note's SHA-256; the courier's link and unknown tokens get no copy."""
    shipment_id, sline_id = dispatched_shipment(app, make_order, as_user)
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    path = customer_path(app, "delivery_receipt", shipment_id)
    customer = app.test_client()
    customer.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    response = customer.post(path + "/receipt", data={
        f"line-{sline_id}-qty": "1195", f"line-{sline_id}-condition": "damaged",
        f"line-{sline_id}-note": "5 件外壳压伤", "name": "李静", "relation": "仓库收货员", "consent": "y",
        "strokes": SIGNATURE})
    assert response.status_code == 200
    assert path + "/receipt-copy.pdf" in text_of(response)
    with app.app_context():
        receipt = db.session.scalar(db.select(DeliveryReceipt).where(DeliveryReceipt.shipment_id == shipment_id))
        sha256, number = receipt.note_sha256, receipt.shipment.number
        assert hashlib.sha256(receipt.note_json.encode("utf-8")).hexdigest() == sha256
    copies = [item for item in pdf_attachments(smtp.messages) if item[0] == "buyer@hdjm.example.com"
              and number in item[1]["Subject"]]
    assert len(copies) == 1, [m.rcpt_tos for m in smtp.messages]
    data = copies[0][2]
    text = pdf_text(data)
    for expected in ("签收单", number, CUSTOMER, DESCRIPTION, "1,200", "1,195", "破损", "5 件外壳压伤", "李静",
                     "仓库收货员", "B-2611"):
        assert expected in text or flat(expected) in flat(text), (expected, text)
    assert "¥" not in text  # a delivery note carries no prices
    assert sha256 in flat(text)
    assert_fonts_embedded(data)
    assert_looks_like_a_page(render_page_one(data, tmp_path, "receipt"))
    # the download from the customer's (now used) link; the same again when they open the link later
    download = customer.get(path + "/receipt-copy.pdf")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "delivery-receipt-" in download.headers["Content-Disposition"]
    assert customer.get("/c/unknown/receipt-copy.pdf").status_code == 404
    # the courier's link is not the customer's: it downloads nothing
    with app.app_context(), app.test_request_context():
        courier_token = db.session.scalars(db.select(links.AccessLink).where(
            links.AccessLink.purpose == "courier", links.AccessLink.object_id == shipment_id)).first().token
    assert customer.get(f"/c/{courier_token}/receipt-copy.pdf").status_code == 404


def test_no_copy_before_the_delivery_is_signed(app, make_order, as_user, chinese_customer):
    """A live receipt link of a shipment not yet signed for has no copy to download."""
    shipment_id, _sline_id = dispatched_shipment(app, make_order, as_user, quantity="10")
    path = customer_path(app, "delivery_receipt", shipment_id)
    assert app.test_client().get(path + "/receipt-copy.pdf").status_code == 404


# --- the firm's seal ----------------------------------------------------------------------------------

def red_pixels(image: Image.Image) -> int:
    """How many pixels are clearly red (a seal's ink), nothing else on the page being red."""
    from PIL import ImageChops
    red, green, blue = image.convert("RGB").split()
    mask = ImageChops.multiply(ImageChops.multiply(red.point(lambda v: 255 if v > 150 else 0),
                                                   green.point(lambda v: 255 if v < 90 else 0)),
                               blue.point(lambda v: 255 if v < 90 else 0))
    return mask.histogram()[255]


def seal_png() -> io.BytesIO:
    """A red ring on a transparent background, as a seal is scanned and cut out."""
    image = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    from PIL import ImageDraw
    ImageDraw.Draw(image).ellipse((10, 10, 190, 190), outline=(200, 20, 20, 255), width=12)
    out = io.BytesIO()
    image.save(out, "PNG")
    out.seek(0)
    return out


def test_the_admin_uploads_a_seal_that_the_copies_carry(app, as_user, make_order, chinese_customer, tmp_path):
    """The seal goes through the upload checks (a PNG keeps its transparency), shows on the settings
    page, is printed on the next copy (an image with a soft mask), and can be removed."""
    admin = as_user("admin")
    assert as_user("sales").post("/admin/settings/seal", data={"seal": (seal_png(), "seal.png")},
                                 content_type="multipart/form-data").status_code == 403
    fake = admin.post("/admin/settings/seal", data={"seal": (io.BytesIO(b"not an image"), "seal.png")},
                      content_type="multipart/form-data")
    assert fake.status_code == 422 and "This is not a readable image." in text_of(fake)
    nothing = admin.post("/admin/settings/seal", data={}, content_type="multipart/form-data")
    assert nothing.status_code == 422 and "Choose an image of the seal." in text_of(nothing)
    response = admin.post("/admin/settings/seal", data={"seal": (seal_png(), "seal.png")},
                          content_type="multipart/form-data")
    assert response.status_code == 303
    with app.app_context():
        photo = db.session.get(Photo, get_settings().seal_photo_id)
        assert photo.entity_type == "firm_seal" and photo.content_type == "image/png"
        with Image.open(path_of(photo.stored_name)) as stored:
            assert stored.mode == "RGBA"  # the transparency is kept
        photo_id = photo.id
    page = text_of(admin.get("/admin/settings"))
    assert f"/admin/settings/seal/{photo_id}" in page
    with admin.get(f"/admin/settings/seal/{photo_id}") as shown:
        assert shown.status_code == 200 and shown.mimetype == "image/png"

    _order_id, path, customer, _location = countersign(app, make_order)
    data = customer.get(path + "/copy.pdf").data
    assert b"/SMask" in data  # the seal, printed with its transparency
    assert_fonts_embedded(data)
    image = render_page_one(data, tmp_path, "sealed")
    assert red_pixels(image) > 50  # the seal's ring, in red, on page 1

    # the seal's file lost from the disk (a restore without uploads/): the copy is still made, without it
    with app.app_context():
        stored_name = db.session.get(Photo, photo_id).stored_name
        os.rename(path_of(stored_name), path_of(stored_name) + ".away")
    unsealed = customer.get(path + "/copy.pdf")
    assert unsealed.status_code == 200 and b"/SMask" not in unsealed.data
    with app.app_context():
        os.rename(path_of(stored_name) + ".away", path_of(stored_name))

    assert admin.post("/admin/settings/seal/remove").status_code == 303
    with app.app_context():
        assert get_settings().seal_photo_id is None
    assert b"/SMask" not in customer.get(path + "/copy.pdf").data


def test_a_receipt_signed_on_the_couriers_phone_with_a_stamped_note(app, make_order, as_user, chinese_customer,
                                                                   tmp_path):
    """Signed on the courier's phone with a photo of the stamped paper note instead of a drawing: the
    copy prints the photo and says where it was signed; the mail (development outbox) carries it with
    the customer's own receipt link, which downloads it too."""
    shipment_id, sline_id = dispatched_shipment(app, make_order, as_user, quantity="40")
    with app.app_context(), app.test_request_context():
        courier_token = links.current("courier", shipment_id).token
    stamped = io.BytesIO()
    Image.new("RGB", (640, 480), (235, 235, 225)).save(stamped, "JPEG")
    stamped.seek(0)
    response = app.test_client().post(f"/c/{courier_token}/receipt", data={
        f"line-{sline_id}-qty": "40", f"line-{sline_id}-condition": "ok", "name": "Bo", "consent": "y",
        "stamped": [(stamped, "note.jpg")]}, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "receipt-copy.pdf" not in text_of(response)  # the courier's phone is not offered the copy
    mails = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
             for path in Path(app.config["MAIL_FOLDER"]).glob("*.eml")]
    found = [m for m in mails if "签收单" in m["Subject"]]
    assert len(found) == 1, [m["Subject"] for m in mails]
    body = found[0].get_body(("plain",)).get_content()
    path = customer_path(app, "delivery_receipt", shipment_id)  # still live: the customer did not use it
    assert path + "/receipt-copy.pdf" in body
    data = next(part.get_content() for part in found[0].iter_attachments())
    text = pdf_text(data)
    assert "Bo" in text and "在送货员手机上签收" in text and "40" in text
    assert data.count(b"/Subtype /Image") >= 1  # the stamped note's photo
    assert_fonts_embedded(data)
    assert_looks_like_a_page(render_page_one(data, tmp_path, "stamped"))
    download = app.test_client().get(path + "/receipt-copy.pdf")
    assert download.status_code == 200 and "Bo" in pdf_text(download.data)
    # once that unused link has expired, the PDF goes with the page: one rule for both
    import time_machine
    from datetime import timedelta
    with app.app_context():
        expires_at = links.current("delivery_receipt", shipment_id).expires_at
    with time_machine.travel(expires_at + timedelta(days=1)):
        assert app.test_client().get(path).status_code == 404
        assert app.test_client().get(path + "/receipt-copy.pdf").status_code == 404
    # the firm withdraws the customer's link before the customer ever used it: no copy through it
    with app.app_context(), app.test_request_context():
        links.revoke_all("delivery_receipt", shipment_id)
        db.session.commit()
    assert app.test_client().get(path + "/receipt-copy.pdf").status_code == 404
