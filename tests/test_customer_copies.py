"""The customer's pages reached by link (issue 9): errors at the top of the form, linked to their fields;
a used requirement, countersign or receipt link opens a read-only copy of what was confirmed or signed
(with the firm and the sales contact) for the firm's retention period, and never takes a second
submission; unknown and revoked links are the same plain 404; after the period the copy is gone (410)."""
import re
from datetime import datetime, timedelta, timezone

import pytest
import time_machine

from webapp import capabilities, links
from webapp.admin.models import get_settings
from webapp.auth.models import User
from webapp.extensions import db
from webapp.orders.models import Countersignature, Order, OrderLine
from webapp.requirements.models import Requirement
from webapp.shipping.models import DeliveryReceipt, Shipment, ShipmentLine

from .helpers import SIGNATURE, customer_path, get, text_of
from .test_aftersales import receive
from .test_requirements import sent_requirement
from .helpers import jpeg_file
from .test_shipping import new_shipment, order_in_production, packed  # noqa: F401 -- a fixture

SUMMARY = re.compile(r'<div class="error-summary" role="alert"[^>]*>(.*?)</div>', re.S)


def summary_links(page: str) -> list[str]:
    """The field ids the error summary links to, in order ([] without a summary)."""
    match = SUMMARY.search(page)
    return re.findall(r'href="#([^"]+)"', match.group(1)) if match else []


def main_of(page: str) -> str:
    """The page without its header (which holds the language switch form)."""
    return page.split('<main id="main">', 1)[1]


def set_firm(app, order_id=None, **settings):
    """The firm's name (and settings), the sales rep's phone and the order line's description (in the
    terms the customer reads: refreshed while unsigned, as an edit before signing would)."""
    from webapp.orders import services
    with app.app_context(), app.test_request_context():
        firm = get_settings()
        firm.firm_name = "Suzhou Precision Co."
        for key, value in settings.items():
            setattr(firm, key, value)
        for user in db.session.scalars(db.select(User).where(User.username == "sales-maker")):
            user.name, user.phone = "Wang Fang", "0512 6666-8888"
        if order_id:
            db.session.scalar(db.select(OrderLine).where(OrderLine.order_id == order_id)).description = \
                "Stainless bracket, 2 mm"
            services.freeze_version(db.session.get(Order, order_id))
        db.session.commit()


def countersign_data(**overrides) -> dict:
    return {"name": "Ann Buyer", "title": "Buyer", "consent": "y", "strokes": SIGNATURE, **overrides}


# --- point 1: errors where the eye is -------------------------------------------------------------------

def test_countersign_without_a_name_has_a_summary_at_the_top_linked_to_the_field(app, make_order):
    """Name missing and box unticked: 422 with a role=alert summary at the top of the form that links to
    each wrong field; the fields are aria-invalid with their message beside them; what was typed and
    drawn comes back."""
    order_id = make_order("awaiting_countersign")
    link = customer_path(app, "order_countersign", order_id)
    response = app.test_client().post(link + "/sign", data=countersign_data(name=" ", consent="", title="Buyer"))
    page = text_of(response)
    assert response.status_code == 422
    assert summary_links(page) == ["name", "consent"]
    form = page[page.index('id="sign-form"'):]
    assert form.index("error-summary") < form.index('id="name"')  # at the top of the form
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="name"|<input[^>]*id="name"[^>]*aria-invalid="true"', page)
    assert 'id="name-err"' in page and 'id="consent-err"' in page and 'aria-describedby="consent-err"' in page
    assert 'value="Buyer"' in page  # the position typed
    assert "&#34;points&#34;" in page or "&quot;points&quot;" in page  # the drawn strokes, to redraw
    # errors.js focuses the first wrong field (external: the CSP forbids inline script): on-demand.js imports
    # it on a page with an error summary
    assert "js/on-demand.js" in page and 'class="error-summary"' in page
    assert get(app, Order, order_id).status == "awaiting_countersign"


def test_the_summary_names_a_missing_signature_and_links_to_the_box(app, make_order):
    order_id = make_order("awaiting_countersign")
    link = customer_path(app, "order_countersign", order_id)
    page = text_of(app.test_client().post(link + "/sign", data=countersign_data(strokes="")))
    assert summary_links(page) == ["signature-pad"]
    assert 'aria-describedby="strokes-err"' in page


def test_requirement_confirm_and_clarify_each_summarise_their_own_errors(app, as_user, make_customer):
    """Two forms on one page: only the one sent shows a summary, linked to its own field ids."""
    customer_id = make_customer("ACME")
    _req_id, link = sent_requirement(app, as_user("sales"), customer_id)
    customer = app.test_client()
    page = text_of(customer.post(link + "/confirm", data={"confirm-name": ""}))
    assert summary_links(page) == ["confirm-name"] and page.count('class="error-summary"') == 1
    page = text_of(customer.post(link + "/clarify", data={"clarify-name": "Ann", "clarify-comment": ""}))
    assert summary_links(page) == ["clarify-comment"]
    assert 'value="Ann"' in page


def test_receipt_errors_link_to_the_line_and_the_name(app, order_in_production, as_user):
    """A quantity out of range and no name: both in the summary, each linked to its input."""
    shipment_id, sline_id, link = dispatched_shipment(app, order_in_production, as_user)
    page = text_of(app.test_client().post(link + "/receipt", data={
        f"line-{sline_id}-qty": "999", f"line-{sline_id}-condition": "ok", "name": "", "consent": "y",
        "strokes": SIGNATURE}))
    assert summary_links(page) == [f"line-{sline_id}-qty", "name"]  # in the page's order
    assert f'aria-describedby="line-{sline_id}-qty-err"' in page and 'value="999"' in page
    assert get(app, Shipment, shipment_id).status == "dispatched"


def test_survey_errors_are_summarised_and_link_to_the_first_choice(app, make_order, as_user):
    order_id = make_order("in_production")
    receive(app, order_id)
    path = customer_path(app, "survey", order_id)
    page = text_of(app.test_client().post(f"/aftersales{path}/survey", data={"requirement_response": "5"}))
    assert summary_links(page) == ["delivery_timeliness-0", "service_quality-0"]
    assert 'id="delivery_timeliness-0"' in page and 'aria-invalid="true"' in page


# --- point 3: the countersign page ------------------------------------------------------------------------

def test_countersign_page_shows_descriptions_and_keeps_the_fingerprint_behind_details(app, make_order):
    order_id = make_order("awaiting_countersign")
    set_firm(app, order_id)
    link = customer_path(app, "order_countersign", order_id)
    page = text_of(app.test_client().get(link))
    assert "BRK-1" in page and "Stainless bracket, 2 mm" in page
    with app.app_context():
        from webapp.orders.models import OrderVersion
        sha = db.session.scalar(db.select(OrderVersion.sha256).where(OrderVersion.order_id == order_id))
    details = re.search(r'<details class="fingerprint">(.*?)</details>', page, re.S).group(1)
    assert "<summary>Details</summary>" in details and sha in details
    assert page.count(sha) == 1  # only there


# --- point 2: customers keep what they signed -----------------------------------------------------------

def test_a_used_countersign_link_shows_the_signed_copy_and_never_signs_twice(app, make_order):
    """Signing leads to the copy; the link opened again shows the terms, the signature, the name and the
    time with the firm and the sales contact; a second POST (a replay) changes nothing."""
    order_id = make_order("awaiting_countersign")
    set_firm(app, order_id)
    link = customer_path(app, "order_countersign", order_id)
    customer = app.test_client()
    signed = customer.post(link + "/sign", data=countersign_data())
    assert signed.status_code == 303 and signed.headers["Location"] == link
    page = text_of(customer.get(link))
    assert "is countersigned" in page  # the thanks, once
    later = app.test_client().get(link)  # another day, another browser
    copy = main_of(text_of(later))
    assert later.status_code == 200 and "<form" not in copy and "<input" not in copy
    assert "This is your copy" in copy and "BRK-1" in copy and "Stainless bracket, 2 mm" in copy
    assert "Ann Buyer" in copy and "(Buyer)" in copy and "<svg" in copy
    assert "Suzhou Precision Co." in copy and "Wang Fang" in copy
    assert 'href="tel:051266668888"' in copy and 'href="mailto:sales-maker@example.com"' in copy
    with app.app_context():
        signature = db.session.scalar(db.select(Countersignature).where(Countersignature.order_id == order_id))
        assert signature.terms_sha256 in copy

    replay = app.test_client().post(link + "/sign", data=countersign_data(name="Mallory", strokes=SIGNATURE))
    assert replay.status_code == 303 and replay.headers["Location"] == link
    with app.app_context():
        rows = db.session.scalars(db.select(Countersignature).where(Countersignature.order_id == order_id)).all()
        assert [row.signer_name for row in rows] == ["Ann Buyer"]
    assert "Mallory" not in text_of(app.test_client().get(link))


def test_a_copy_survives_an_amendment_with_a_note(app, make_order, as_user):
    """The amendment revokes the order's links, used ones too; the used one still shows what was signed
    (version 1) and says the order changed since."""
    from .helpers import order_form
    order_id = make_order("awaiting_countersign")
    link = customer_path(app, "order_countersign", order_id)
    app.test_client().post(link + "/sign", data=countersign_data())
    as_user("sales").post(f"/orders/{order_id}/amend", data=order_form(**{"lines-0-quantity": "150",
                                                                         "reason": "more"}))
    assert get(app, Order, order_id).version == 2
    page = text_of(app.test_client().get(link))
    assert "amended after you signed" in page and "Ann Buyer" in page and "150" not in main_of(page).split(
        "What you countersigned")[1].split("</table>")[0]


def test_a_used_requirement_link_shows_the_answer_and_the_record(app, as_user, make_customer):
    customer_id = make_customer("ACME")
    req_id, link = sent_requirement(app, as_user("sales"), customer_id)
    customer = app.test_client()
    assert customer.post(link + "/clarify", data={"clarify-name": "Ann", "clarify-comment": "Which finish?"}
                         ).headers["Location"] == link
    page = text_of(customer.get(link))
    assert "We received your question" in page  # the thanks above the copy
    copy = main_of(page)
    assert "You asked for a clarification" in copy and "Which finish?" in copy and "Stainless bracket" in copy
    assert "<form" not in copy
    # a confirmation sent afterwards through the same link changes nothing
    assert customer.post(link + "/confirm", data={"confirm-name": "Ann"}).headers["Location"] == link
    assert get(app, Requirement, req_id).status == "clarification"


def dispatched_shipment(app, order_in_production, as_user):
    """A shipment of 60 on its way: (shipment id, its line id, the customer's receipt link)."""
    order_id, line_id = order_in_production
    warehouse = as_user("warehouse")
    assert new_shipment(warehouse, order_id, line_id, "60").status_code == 303
    with app.app_context():
        shipment_id = db.session.scalar(db.select(Shipment.id).order_by(Shipment.id.desc()))
        sline_id = db.session.scalar(db.select(ShipmentLine.id).where(ShipmentLine.shipment_id == shipment_id))
    packed(app, warehouse, shipment_id)
    assert warehouse.post(f"/shipping/{shipment_id}/dispatch", data={"note": ""}).status_code == 303
    return shipment_id, sline_id, customer_path(app, "delivery_receipt", shipment_id)


def test_a_used_receipt_link_shows_the_signed_receipt_and_its_photos_only(app, order_in_production, as_user):
    """Signed with one damaged line and a photo: the copy lists what was received, the conditions, the
    signer, the signature and the photo (served through the link, no login); a replay changes nothing."""
    shipment_id, sline_id, link = dispatched_shipment(app, order_in_production, as_user)
    set_firm(app)
    customer = app.test_client()
    data = {f"line-{sline_id}-qty": "55", f"line-{sline_id}-condition": "damaged", f"line-{sline_id}-note": "5 bent",
            "name": "Ann", "relation": "clerk", "consent": "y", "strokes": SIGNATURE}
    signed = customer.post(link + "/receipt", data={**data, "photos": [(jpeg_file(), "bent.jpg")]},
                           content_type="multipart/form-data")
    assert signed.status_code == 200 and "within 24 working hours" in text_of(signed)
    copy = main_of(text_of(app.test_client().get(link)))
    assert "This is your copy" in copy and "<form" not in copy
    assert "55" in copy and "Damaged" in copy and "5 bent" in copy and "Ann (clerk)" in copy and "<svg" in copy
    assert "Wang Fang" in copy and 'href="tel:051266668888"' in copy and "Suzhou Precision Co." in copy
    photo_path = re.search(r'<img class="thumb" src="([^"]+)"', copy).group(1)
    assert photo_path.startswith(link + "/receipt/photos/")
    photo = app.test_client().get(photo_path)
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    photo.close()
    photo_id = int(photo_path.rsplit("/", 1)[1])
    assert app.test_client().get(f"{link}/receipt/photos/{photo_id + 1000}").status_code == 404
    assert app.test_client().get(f"/c/{'A' * 32}/receipt/photos/{photo_id}").status_code == 404

    replay = app.test_client().post(link + "/receipt", data={**data, "name": "Mallory",
                                                              f"line-{sline_id}-qty": "60"})
    assert replay.status_code == 303 and replay.headers["Location"] == link
    with app.app_context():
        receipts = db.session.scalars(db.select(DeliveryReceipt).where(DeliveryReceipt.shipment_id == shipment_id)).all()
        assert [(r.signer_name, str(r.lines[0].received_qty)) for r in receipts] == [("Ann", "55.000")]


def test_revoked_and_unknown_links_are_the_same_plain_404(app, make_order):
    """A link withdrawn before it was used opens nothing, with exactly the page any unknown URL gives."""
    order_id = make_order("awaiting_countersign")
    link = customer_path(app, "order_countersign", order_id)
    with app.app_context(), app.test_request_context():
        links.revoke_all("order_countersign", order_id)
        db.session.commit()
    client = app.test_client()

    def body(path):
        with time_machine.travel(datetime(2026, 11, 20, tzinfo=timezone.utc), tick=False):
            response = client.get(path)
        # what differs between any two pages: the CSRF token, and the path itself (the language switch's
        # way back)
        page = text_of(response).replace(path, "PATH")
        return response.status_code, re.sub(r'"X-CSRFToken": "[^"]*"|name="csrf_token" value="[^"]*"', "", page)
    revoked, unknown = body(link), body("/c/" + "B" * 32)
    assert revoked[0] == unknown[0] == 404
    assert revoked[1] == unknown[1]
    assert client.post(link + "/sign", data=countersign_data()).status_code == 404


def test_after_the_retention_period_the_copy_is_gone_with_a_clear_page(app, make_order, as_user):
    """signed_copy_days after signing the link gives 410 with a page that says so and whom to ask (the
    link existed and was the customer's: "not found" would be untrue). Its photos go too."""
    with time_machine.travel(datetime(2026, 11, 2, tzinfo=timezone.utc), tick=False):
        order_id = make_order("awaiting_countersign")
        set_firm(app, order_id, signed_copy_days=30)
        link = customer_path(app, "order_countersign", order_id)
        app.test_client().post(link + "/sign", data=countersign_data())
    with time_machine.travel(datetime(2026, 11, 30, tzinfo=timezone.utc), tick=False):
        assert app.test_client().get(link).status_code == 200  # day 28: still there (the link expired)
    with time_machine.travel(datetime(2026, 12, 3, tzinfo=timezone.utc), tick=False):
        gone = app.test_client().get(link)
        page = text_of(gone)
        assert gone.status_code == 410
        assert "no longer online" in page and "30 days" in page and "Wang Fang" in page
        assert "Ann Buyer" not in page and "<svg" not in main_of(page)
        replay = app.test_client().post(link + "/sign", data=countersign_data())
        assert replay.status_code == 303 and app.test_client().get(replay.headers["Location"]).status_code == 410
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Countersignature)) == 1


def test_an_expired_unused_link_is_still_404(app, make_order):
    with time_machine.travel(datetime(2026, 11, 1, tzinfo=timezone.utc), tick=False):
        order_id = make_order("awaiting_countersign")
        link = customer_path(app, "order_countersign", order_id)
    with time_machine.travel(datetime(2026, 12, 31, tzinfo=timezone.utc), tick=False):
        assert app.test_client().get(link).status_code == 404


@pytest.mark.parametrize("days, retention, ok", [("30", "10", True), ("", "10", True), ("0", "10", False),
                                                 ("800", "2", False), ("700", "2", True)])
def test_the_copy_period_is_a_firm_setting(app, as_user, days, retention, ok):
    form = {"firm_name": "X", "timezone": "Asia/Shanghai", "currency": "CNY", "tax_rate": "13",
            "reviews": ["production"], "finance_approval_threshold": "0",
            "number_pattern": "{yyyy}{mm}-{abbr}-{seq:03d}", "weekly_capacity": "500", "calendar_country": "CN",
            "retention_years": retention, "signed_copy_days": days}
    response = as_user("admin").post("/admin/settings", data=form)
    assert response.status_code == (303 if ok else 422)
    with app.app_context():
        assert get_settings().signed_copy_days == (int(days or 365) if ok else 365)


def test_copy_routes_keep_their_token_out_of_the_logs(app):
    """The photo route of a copy is a capability URL like the others: its token is redacted."""
    assert "/c/" in capabilities.capability_prefixes(app)
    line = 'GET /c/SECRETtoken123/receipt/photos/7 HTTP/1.1" 200'
    assert "SECRETtoken123" not in capabilities.redact(line)
    endpoint, _args = app.url_map.bind("localhost").match("/c/SECRETtoken123/receipt/photos/7")
    assert endpoint == "shipping.receipt_photo"
