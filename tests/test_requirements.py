"""Stage 1, the requirement record, through the HTTP layer: bad input on the staff form, who may
edit when, cancelling, attachments (type sniffing, image re-encoding, revisions, downloads), the
customer's answers on the link, rounds with their snapshots, and the mail that goes out."""
import io
import json
import os
import re
from email import policy
from email.parser import BytesParser

import pytest
from PIL import Image

from webapp import links
from webapp.extensions import db
from webapp.requirements.models import Attachment, Requirement, RequirementRound

from .helpers import count, error_of, customer_path, get, id_from_location, image_bytes, requirement_form, text_of

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


# --- helpers -------------------------------------------------------------------------------------

def new_requirement(client, customer_id, **overrides) -> int:
    response = client.post("/requirements/new", data=requirement_form(customer_id, **overrides))
    assert response.status_code == 303, text_of(response)[:2000]
    return id_from_location(response)


def sent_requirement(app, client, customer_id, **overrides) -> tuple[int, str]:
    """A requirement sent to the customer, and the path of its live customer link."""
    req_id = new_requirement(client, customer_id, **overrides)
    assert client.post(f"/requirements/{req_id}/send").status_code == 303
    return req_id, customer_path(app, "requirement_confirm", req_id)


def download(client, path: str):
    """GET a file and close the response (send_file streams from an open file)."""
    response = client.get(path)
    response.get_data()
    response.close()
    return response


def upload(client, req_id, data: bytes, filename: str, title: str = "DRW-100"):
    return client.post(f"/requirements/{req_id}/attachments",
                       data={"title": title, "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def stored_files(app) -> list[str]:
    folder = app.config["UPLOAD_FOLDER"]
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def mails(app) -> list:
    """The messages the "file" mail backend wrote, parsed."""
    folder = app.config["MAIL_FOLDER"]
    if not os.path.isdir(folder):
        return []
    messages = []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as fh:
            messages.append(BytesParser(policy=policy.default).parse(fh))
    return messages


# --- bad input on the staff form -----------------------------------------------------------------

BAD_INPUT = [
    # (overrides, field with the error, words of the message, what the user typed, shown back)
    pytest.param({"product": ""}, "product", "pick one from the catalogue", 'value="100"', id="missing-product"),
    pytest.param({"quantity": "abc"}, "quantity", "Enter a number", 'value="abc"', id="quantity-abc"),
    pytest.param({"quantity": "0"}, "quantity", "above zero", 'value="0"', id="quantity-zero"),
    pytest.param({"quantity": ""}, "quantity", "required", 'value="Stainless bracket"', id="quantity-empty"),
    pytest.param({"quantity": "-1"}, "quantity", "above zero", 'value="-1"', id="quantity-negative"),
    pytest.param({"budget_min": "1200", "budget_max": "900"}, "budget_max", "upper budget is below",
                 'value="900"', id="budget-upside-down"),
    pytest.param({"contact_email": "buyer-at-example"}, "contact_email", "email",
                 'value="buyer-at-example"', id="bad-email"),
    pytest.param({"customer_id": "0"}, "customer_id", "required", 'value="Stainless bracket"',
                 id="no-customer"),
]


@pytest.mark.parametrize("overrides, field, message, typed", BAD_INPUT)
def test_bad_input_is_refused_with_message_and_typed_values_kept(app, as_user, make_customer,
                                                                 overrides, field, message, typed):
    """A bad record is refused with 422, the message sits under the offending field, what the user
    typed is shown back, and nothing is stored."""
    customer_id = make_customer("ACME")
    sales = as_user("sales")
    response = sales.post("/requirements/new", data={**requirement_form(customer_id), **overrides})
    assert response.status_code == 422
    page = text_of(response)
    assert message.lower() in error_of(page, field).lower(), error_of(page, field) or page[:3000]
    assert typed in page
    assert count(app, Requirement) == 0


def test_a_valid_record_is_stored_with_the_customer_defaults(app, as_user, make_customer):
    """The good path of the same form: stored as a draft, empty contact fields from the customer."""
    customer_id = make_customer("ACME")
    sales = as_user("sales")
    req_id = new_requirement(sales, customer_id, quantity="1,250.5", contact_name="")
    requirement = get(app, Requirement, req_id)
    assert requirement.status == "draft" and str(requirement.quantity.normalize()) == "1250.5"
    assert requirement.contact_name == "Ann"  # the customer's contact
    assert requirement.sales_rep_id == sales.user_id


def test_edit_form_shows_the_stored_values(app, as_user, make_customer):
    customer_id = make_customer("ACME")
    sales = as_user("sales")
    req_id = new_requirement(sales, customer_id, quantity="12.5")
    page = text_of(sales.get(f"/requirements/{req_id}/edit"))
    assert re.search(r'name="quantity"[^>]*value="12.5"', page)
    assert re.search(r'name="budget_max"[^>]*value="1200.00"', page)
    assert "Pack in tens" in page


def test_edit_form_shows_a_round_quantity_as_typed(app, as_user, make_customer):
    customer_id = make_customer("ACME")
    sales = as_user("sales")
    req_id = new_requirement(sales, customer_id, quantity="100")
    page = text_of(sales.get(f"/requirements/{req_id}/edit"))
    assert re.search(r'name="quantity"[^>]*value="100"', page), re.findall(r"<input[^>]*quantity[^>]*>", page)


def test_only_sales_may_write_a_record(app, as_user, make_customer):
    customer_id = make_customer("ACME")
    response = as_user("production").post("/requirements/new", data=requirement_form(customer_id))
    assert response.status_code == 403
    assert count(app, Requirement) == 0


# --- editing, freezing, cancelling ---------------------------------------------------------------

def test_edit_allowed_in_draft_and_clarification_refused_when_sent_or_confirmed(app, as_user, make_customer):
    customer_id = make_customer("ACME")
    sales = as_user("sales")
    customer = app.test_client()
    req_id = new_requirement(sales, customer_id)

    # draft: editable
    assert sales.get(f"/requirements/{req_id}/edit").status_code == 200
    assert sales.post(f"/requirements/{req_id}/edit",
                      data=requirement_form(customer_id, specs="draft edit")).status_code == 303
    assert get(app, Requirement, req_id).specs == "draft edit"

    # sent: refused
    sales.post(f"/requirements/{req_id}/send")
    assert sales.get(f"/requirements/{req_id}/edit").status_code == 403
    response = sales.post(f"/requirements/{req_id}/edit", data=requirement_form(customer_id, specs="sneaky"))
    assert response.status_code == 403
    assert get(app, Requirement, req_id).specs == "draft edit"

    # clarification: editable again
    link = customer_path(app, "requirement_confirm", req_id)
    customer.post(link + "/clarify", data={"clarify-name": "Ann", "clarify-comment": "Which finish?"})
    assert sales.post(f"/requirements/{req_id}/edit",
                      data=requirement_form(customer_id, specs="brushed")).status_code == 303
    assert get(app, Requirement, req_id).specs == "brushed"

    # confirmed: frozen
    sales.post(f"/requirements/{req_id}/send")
    link = customer_path(app, "requirement_confirm", req_id)
    assert customer.post(link + "/confirm", data={"confirm-name": "Ann"}).status_code == 303
    assert sales.get(f"/requirements/{req_id}/edit").status_code == 403
    assert sales.post(f"/requirements/{req_id}/edit",
                      data=requirement_form(customer_id, specs="after")).status_code == 403
    assert get(app, Requirement, req_id).specs == "brushed"


def test_another_sales_rep_may_not_edit_a_confirmed_record_either(app, as_user, make_customer):
    """The freeze is the record's state, not the person: nobody edits a confirmed record."""
    customer_id = make_customer("ACME")
    sales, other = as_user("sales"), as_user("sales", "manager")
    req_id, link = sent_requirement(app, sales, customer_id)
    app.test_client().post(link + "/confirm", data={"confirm-name": "Ann"})
    assert other.post(f"/requirements/{req_id}/edit", data=requirement_form(customer_id)).status_code == 403


def test_cancel_needs_a_reason_and_revokes_the_customer_link(app, as_user, make_customer):
    customer_id = make_customer("ACME")
    sales = as_user("sales")
    customer = app.test_client()
    req_id, link = sent_requirement(app, sales, customer_id)

    response = sales.post(f"/requirements/{req_id}/cancel", data={"reason": "  "}, follow_redirects=True)
    assert "Give a reason" in text_of(response)
    assert get(app, Requirement, req_id).status == "sent"
    assert customer.get(link).status_code == 200  # still live

    assert sales.post(f"/requirements/{req_id}/cancel", data={"reason": "Customer bought elsewhere"}).status_code == 303
    assert get(app, Requirement, req_id).status == "cancelled"
    assert customer.get(link).status_code == 404
    assert customer.post(link + "/confirm", data={"confirm-name": "Ann"}).status_code == 404
    assert "Customer bought elsewhere" in text_of(sales.get(f"/requirements/{req_id}/timeline"))
    # a cancelled record cannot be sent again or edited
    assert sales.post(f"/requirements/{req_id}/send").status_code == 409
    assert sales.get(f"/requirements/{req_id}/edit").status_code == 403


# --- attachments ---------------------------------------------------------------------------------

def test_pdf_is_listed_downloadable_as_attachment_and_revised_by_title(app, as_user, make_customer):
    customer_id = make_customer("ACME")
    sales = as_user("sales")
    req_id = new_requirement(sales, customer_id)

    assert upload(sales, req_id, PDF, "bracket.pdf").status_code == 303
    page = text_of(sales.get(f"/requirements/{req_id}"))
    assert "DRW-100" in page and "bracket.pdf" in page and "rev. 1" in page
    with app.app_context():
        first = db.session.scalar(db.select(Attachment))
        first_id = first.id
        assert first.content_type == "application/pdf" and first.revision == 1

    response = download(sales, f"/requirements/attachments/{first_id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "bracket.pdf" in response.headers["Content-Disposition"]
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"

    # not without logging in
    anonymous = download(app.test_client(), f"/requirements/attachments/{first_id}")
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["Location"]

    # the same title again: revision 2, and revision 1 is kept
    second_pdf = PDF.replace(b"Catalog", b"Catalog /Version /1.7")
    assert upload(sales, req_id, second_pdf, "bracket-b.pdf").status_code == 303
    with app.app_context():
        rows = db.session.scalars(db.select(Attachment).order_by(Attachment.revision)).all()
        assert [(a.title, a.revision) for a in rows] == [("DRW-100", 1), ("DRW-100", 2)]
        second_id = rows[1].id
    assert download(sales, f"/requirements/attachments/{first_id}").data == PDF
    assert download(sales, f"/requirements/attachments/{second_id}").data == second_pdf
    assert "rev. 2" in text_of(sales.get(f"/requirements/{req_id}"))
    assert len(stored_files(app)) == 2


@pytest.mark.parametrize("data, filename, message", [
    pytest.param(b"MZ\x90\x00 this is really a program", "drawing.pdf", "does not match its type", id="fake-pdf"),
    pytest.param(b"MZ\x90\x00\x03\x00\x00\x00", "setup.exe", "not accepted", id="exe"),
    pytest.param(b"not an image at all " * 20, "photo.png", "not a readable image", id="garbage-png"),
    pytest.param(image_bytes("PNG", (64, 64))[:60], "photo.png", "not a readable image", id="truncated-png"),
    pytest.param(b"", "empty.pdf", "empty", id="empty-file"),
])
def test_unfit_upload_is_refused_with_message_and_nothing_stored(app, as_user, make_customer,
                                                                data, filename, message):
    customer_id = make_customer("ACME")
    sales = as_user("sales")
    req_id = new_requirement(sales, customer_id)
    response = upload(sales, req_id, data, filename)
    assert response.status_code == 422
    assert message in error_of(text_of(response), "file"), text_of(response)[-3000:]
    assert count(app, Attachment) == 0
    assert stored_files(app) == []


def test_image_over_the_pixel_limit_is_refused(app, as_user, make_customer):
    """The declared size is checked before decoding (a decompression bomb is never expanded)."""
    app.config["MAX_IMAGE_PIXELS"] = 1000
    customer_id = make_customer("ACME")
    sales = as_user("sales")
    req_id = new_requirement(sales, customer_id)
    response = upload(sales, req_id, image_bytes("PNG", (50, 50)), "big.png")  # 2,500 pixels
    assert response.status_code == 422
    assert "too many pixels" in error_of(text_of(response), "file")
    assert count(app, Attachment) == 0 and stored_files(app) == []
    # just under the limit is fine
    assert upload(sales, req_id, image_bytes("PNG", (40, 25)), "ok.png").status_code == 303


def test_jpeg_is_reencoded_without_exif(app, as_user, make_customer):
    """A phone photo's EXIF (camera make, GPS position) is not kept."""
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}  # GPSInfo
    original = image_bytes("JPEG", (32, 24), exif=exif)
    with Image.open(io.BytesIO(original)) as check:  # the test file really carries EXIF
        assert check.getexif().get(0x010F) == "SpyCam"
    customer_id = make_customer("ACME")
    sales = as_user("sales")
    req_id = new_requirement(sales, customer_id)
    assert upload(sales, req_id, original, "site-photo.jpeg", title="Photo").status_code == 303
    with app.app_context():
        attachment = db.session.scalar(db.select(Attachment))
        stored_name, content_type = attachment.stored_name, attachment.content_type
    assert content_type == "image/jpeg"
    with open(os.path.join(app.config["UPLOAD_FOLDER"], stored_name), "rb") as fh:
        stored = fh.read()
    assert b"SpyCam" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG" and image.size == (32, 24)
        assert dict(image.getexif()) == {}


def test_phone_photo_keeps_its_upright_orientation(app, as_user, make_customer):
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    original = image_bytes("JPEG", (40, 20), exif=exif)  # shown upright as 20 wide, 40 high
    customer_id = make_customer("ACME")
    sales = as_user("sales")
    req_id = new_requirement(sales, customer_id)
    assert upload(sales, req_id, original, "portrait.jpg", title="Photo").status_code == 303
    with app.app_context():
        stored_name = db.session.scalar(db.select(Attachment)).stored_name
    with Image.open(os.path.join(app.config["UPLOAD_FOLDER"], stored_name)) as image:
        assert image.size == (20, 40)


def test_upload_refused_once_the_record_is_sent(app, as_user, make_customer):
    customer_id = make_customer("ACME")
    sales = as_user("sales")
    req_id, _link = sent_requirement(app, sales, customer_id)
    assert upload(sales, req_id, PDF, "late.pdf").status_code == 403
    assert count(app, Attachment) == 0


def test_customer_link_downloads_only_its_own_requirements_files(app, as_user, make_customer):
    customer_id = make_customer("ACME")
    other_customer = make_customer("OTH")
    sales = as_user("sales")
    mine = new_requirement(sales, customer_id)
    theirs = new_requirement(sales, other_customer)
    upload(sales, mine, PDF, "mine.pdf", title="MINE")
    upload(sales, theirs, PDF.replace(b"1.4", b"1.5"), "theirs.pdf", title="THEIRS")
    with app.app_context():
        ids = {a.title: a.id for a in db.session.scalars(db.select(Attachment))}
    sales.post(f"/requirements/{mine}/send")
    sales.post(f"/requirements/{theirs}/send")
    link = customer_path(app, "requirement_confirm", mine)
    customer = app.test_client()

    page = text_of(customer.get(link))
    assert f"{link}/files/{ids['MINE']}" in page and "THEIRS" not in page
    response = download(customer, f"{link}/files/{ids['MINE']}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert customer.get(f"{link}/files/{ids['THEIRS']}").status_code == 404
    # and not with a made-up token
    assert customer.get(f"/c/not-a-token/files/{ids['MINE']}").status_code == 404


# --- the customer's side -------------------------------------------------------------------------

def test_confirm_without_name_is_refused(app, as_user, make_customer):
    customer_id = make_customer("ACME")
    req_id, link = sent_requirement(app, as_user("sales"), customer_id)
    customer = app.test_client()
    response = customer.post(link + "/confirm", data={"confirm-name": "  "})
    assert response.status_code == 422
    assert "required" in error_of(text_of(response), "confirm-name")
    assert get(app, Requirement, req_id).status == "sent"
    assert customer.get(link).status_code == 200  # the link still works


def test_clarification_without_comment_is_refused_keeping_the_name(app, as_user, make_customer):
    customer_id = make_customer("ACME")
    req_id, link = sent_requirement(app, as_user("sales"), customer_id)
    customer = app.test_client()
    response = customer.post(link + "/clarify", data={"clarify-name": "Ann Buyer", "clarify-comment": ""})
    assert response.status_code == 422
    page = text_of(response)
    assert "required" in error_of(page, "clarify-comment")
    assert 'value="Ann Buyer"' in page
    assert get(app, Requirement, req_id).status == "sent"
    with app.app_context():
        assert db.session.scalar(db.select(RequirementRound)).response is None


def test_confirmed_record_link_is_used_up_and_record_frozen(app, as_user, make_customer):
    customer_id = make_customer("ACME")
    sales = as_user("sales")
    req_id, link = sent_requirement(app, sales, customer_id)
    customer = app.test_client()
    assert customer.post(link + "/confirm", data={"confirm-name": "Ann Buyer"}).status_code == 303
    requirement = get(app, Requirement, req_id)
    assert requirement.status == "confirmed" and requirement.confirmed_at is not None
    copy = customer.get(link)  # the used link shows what was confirmed, read-only
    assert copy.status_code == 200 and "You confirmed this record" in text_of(copy) and "<form" not in \
        text_of(copy).split('id="main"')[1]
    # sent again, it changes nothing and leads back to the copy
    assert customer.post(link + "/confirm", data={"confirm-name": "Ann Buyer"}).headers["Location"] == link
    again = customer.post(link + "/clarify", data={"clarify-name": "Ann", "clarify-comment": "wait"})
    assert again.status_code == 303 and again.headers["Location"] == link
    assert get(app, Requirement, req_id).status == "confirmed"
    assert sales.get(f"/requirements/{req_id}/edit").status_code == 403
    assert sales.post(f"/requirements/{req_id}/send").status_code == 409
    assert "Ann Buyer" in text_of(sales.get(f"/requirements/{req_id}"))


def test_each_round_is_kept_with_its_snapshot(app, as_user, make_customer):
    customer_id = make_customer("ACME")
    sales = as_user("sales")
    customer = app.test_client()
    req_id, link = sent_requirement(app, sales, customer_id, specs="304, 2 mm")
    customer.post(link + "/clarify", data={"clarify-name": "Ann", "clarify-comment": "Which finish?"})
    sales.post(f"/requirements/{req_id}/edit", data=requirement_form(customer_id, specs="304, 2 mm, brushed"))
    sales.post(f"/requirements/{req_id}/send")
    link2 = customer_path(app, "requirement_confirm", req_id)
    assert link2 != link
    first = text_of(customer.get(link))  # round 1's link keeps the question asked on it
    assert "Which finish?" in first and "revised record" in first and "brushed" not in first
    assert "brushed" in text_of(customer.get(link2))  # the customer sees the revised record
    customer.post(link2 + "/confirm", data={"confirm-name": "Ann"})

    with app.app_context():
        rounds = db.session.scalars(db.select(RequirementRound).where(
            RequirementRound.requirement_id == req_id).order_by(RequirementRound.number)).all()
        assert [r.number for r in rounds] == [1, 2]
        assert [r.response for r in rounds] == ["clarification", "confirmed"]
        assert rounds[0].comment == "Which finish?"
        assert json.loads(rounds[0].snapshot)["specs"] == "304, 2 mm"
        assert json.loads(rounds[1].snapshot)["specs"] == "304, 2 mm, brushed"
    page = text_of(sales.get(f"/requirements/{req_id}"))
    assert "Round 1" in page and "Round 2" in page and "Which finish?" in page


def test_customer_page_shows_the_round_as_sent_not_later_edits(app, as_user, make_customer):
    """What the customer confirms is the snapshot of the round, not the live row."""
    customer_id = make_customer("ACME")
    sales = as_user("sales")
    req_id, link = sent_requirement(app, sales, customer_id, specs="as sent")
    with app.app_context():  # a change behind the form's back (e.g. a future bug) must not show
        requirement = db.session.get(Requirement, req_id)
        requirement.specs = "changed later"
        db.session.commit()
    page = text_of(app.test_client().get(link))
    assert "as sent" in page and "changed later" not in page


# --- mail ----------------------------------------------------------------------------------------

def test_sending_mails_the_customer_link(app, as_user, make_customer):
    customer_id = make_customer("ACME")
    sales = as_user("sales")
    req_id = new_requirement(sales, customer_id, contact_email="buyer@acme.example.com")
    assert mails(app) == []
    sales.post(f"/requirements/{req_id}/send")
    sent = mails(app)
    assert len(sent) == 1
    message = sent[0]
    assert message["To"] == "buyer@acme.example.com"
    body = message.get_body(("plain",)).get_content()
    url = "https://tracker.example.com" + customer_path(app, "requirement_confirm", req_id)
    assert url in body
    assert "Stainless bracket" in message["Subject"]


def test_failed_validation_sends_no_mail(app, as_user, make_customer):
    customer_id = make_customer("ACME")
    sales = as_user("sales")
    req_id, link = sent_requirement(app, sales, customer_id)
    customer = app.test_client()
    before = len(mails(app))
    assert customer.post(link + "/confirm", data={"confirm-name": ""}).status_code == 422
    assert customer.post(link + "/clarify", data={"clarify-name": "Ann", "clarify-comment": ""}).status_code == 422
    assert sales.post(f"/requirements/{req_id}/edit", data=requirement_form(customer_id)).status_code == 403
    assert len(mails(app)) == before
    # the valid answer does notify the sales rep
    customer.post(link + "/confirm", data={"confirm-name": "Ann"})
    after = mails(app)
    assert len(after) == before + 1
    with app.app_context():
        rep_email = db.session.get(Requirement, req_id).sales_rep.email
    assert [m["To"] for m in after].count(rep_email) == 1
    assert "Ann" in next(m for m in after if m["To"] == rep_email)["Subject"]
    # sending again in the wrong state is refused and mails nothing
    assert sales.post(f"/requirements/{req_id}/send").status_code == 409
    assert len(mails(app)) == before + 1


def test_resend_revokes_the_previous_link(app, as_user, make_customer):
    """Only the newest round's link works (links.issue revokes the older one)."""
    customer_id = make_customer("ACME")
    sales = as_user("sales")
    req_id, link = sent_requirement(app, sales, customer_id)
    app.test_client().post(link + "/clarify", data={"clarify-name": "Ann", "clarify-comment": "?"})
    sales.post(f"/requirements/{req_id}/send")
    with app.app_context():
        live = [l for l in db.session.scalars(db.select(links.AccessLink).where(
            links.AccessLink.object_id == req_id)) if l.is_live]
    assert len(live) == 1


def test_requirement_transitions_refuse_wrong_role_and_state(app, as_user, make_customer):
    """send/resend/cancel: a role outside the table gets 403, a state outside it 409; a new
    link replaces a lost one."""
    customer_id = make_customer("ACME")
    sales = as_user("sales")
    req_id = new_requirement(sales, customer_id)
    assert as_user("finance").post(f"/requirements/{req_id}/send").status_code == 403
    assert as_user("finance").post(f"/requirements/{req_id}/cancel", data={"reason": "x"}).status_code == 403
    assert sales.post(f"/requirements/{req_id}/send").status_code == 303
    assert sales.post(f"/requirements/{req_id}/send").status_code == 409  # resend only after a clarification
    old = customer_path(app, "requirement_confirm", req_id)
    assert sales.post(f"/requirements/{req_id}/link").status_code == 303
    assert app.test_client().get(old).status_code == 404
    link = customer_path(app, "requirement_confirm", req_id)
    app.test_client().post(link + "/confirm", data={"confirm-name": "Ann"})
    assert sales.post(f"/requirements/{req_id}/cancel", data={"reason": "late"}).status_code == 409
    assert sales.post(f"/requirements/{req_id}/link").status_code == 409
