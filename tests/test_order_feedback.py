"""Every action on the order page says what happened, where it happened: an htmx post answers with
the status panel (and the order's facts out of band) holding a note beside the action and the
values as saved; without htmx the post redirects to that note with a flash shown in the panel;
errors come back in the panel with what was typed and the right status."""
import io
import re

import pytest

from webapp.extensions import db
from webapp.orders import services
from webapp.orders.models import Order
from webapp.statemachine import TransitionError

from .helpers import get, text_of

HX = {"HX-Request": "true"}
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
BUDGET = {"budget_material": "1,200.5", "budget_labour": "300", "budget_overhead": "０", "budget_logistics": "45.5",
          "budget_aftersales": "2,000"}


def input_value(html: str, name: str) -> str | None:
    """The value attribute of the named input (None without one)."""
    tag = re.search(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', html)
    assert tag, f"no input {name}"
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return value.group(1) if value else None


def notes(html: str) -> list[tuple[str, str]]:
    """The panel's notes as (role, text)."""
    return [(role, re.sub(r"<[^>]+>", "", text).strip()) for role, text in re.findall(
        r'<p [^>]*class="flash panel-note[^"]*" role="(status|alert)">(.*?)</p>', html, re.S)]


def card(html: str, department: str) -> str:
    """One department's review card (up to the next card or the end of the panel)."""
    start = html.index(f'id="review-{department}"')
    ends = [i for i in (html.find('class="card review-card"', start), html.find("</section>", start)) if i > 0]
    return html[start:min(ends)]


def test_htmx_sign_off_answers_the_panel_with_the_note_in_its_card(app, make_order, as_user):
    """The verdict's note sits in its department's card; the other cards keep their saved values
    (the finance card's budget inputs are not emptied by a post that had no budget fields)."""
    order_id = make_order("in_review", reviews_required="production,finance")
    finance = as_user("finance", "production")
    assert finance.post(f"/orders/{order_id}/budget", data=BUDGET).status_code == 303
    response = finance.post(f"/orders/{order_id}/review/production",
                            data={"production-verdict": "agree", "production-note": "Fits week 50"}, headers=HX)
    assert response.status_code == 200
    body = text_of(response)
    assert body.lstrip().startswith('<section id="status-panel"') and "<html" not in body
    assert notes(body) == [("status", "Saved: feasibility sign-off (Production) — Agree")]
    assert 'id="panel-note" autofocus' in card(body, "production")  # htmx focuses it: in view on a phone
    assert input_value(body, "budget_material") == "1200.50"
    assert input_value(body, "budget_aftersales") == "2000.00"
    # the order's facts (terms with the budget, the links below) come along, swapped out of band
    assert '<div id="order-facts" hx-swap-oob="true">' in body
    assert "Vary" in response.headers and "HX-Request" in response.headers["Vary"]


def test_htmx_budget_shows_the_saved_values_and_the_note_in_chinese(app, make_order, as_user):
    """Saving the budget answers with the inputs as saved (no grouping, the cents) and a note
    saying what was saved, in the user's language."""
    order_id = make_order("in_review", reviews_required="production,finance")
    finance = as_user("finance")
    response = finance.post(f"/orders/{order_id}/budget", data=BUDGET, headers={**HX, **ZH})
    assert response.status_code == 200
    body = text_of(response)
    assert [input_value(body, f"budget_{c}") for c in ("material", "labour", "overhead", "logistics", "aftersales")] \
        == ["1200.50", "300.00", "0.00", "45.50", "2000.00"]
    [(role, text)] = notes(body)
    assert role == "status" and text.startswith("已保存：成本预算") and "3,546.00" in text, text
    budget_form = body.index('action="/orders/%d/budget"' % order_id)
    assert body.index('id="panel-note"') < budget_form and 'id="panel-note"' in card(body, "finance")
    with app.app_context():
        assert str(db.session.get(Order, order_id).budget_total) == "3546.00"


def test_without_htmx_the_post_redirects_to_the_note_in_the_panel(app, make_order, as_user):
    """No JavaScript: 303 to the page anchored at the note; the flash is shown once, in the panel
    beside the action, not above the page."""
    order_id = make_order("in_review", reviews_required="production,finance")
    finance = as_user("finance")
    response = finance.post(f"/orders/{order_id}/budget", data=BUDGET)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/orders/{order_id}#panel-note")
    page = text_of(finance.get(f"/orders/{order_id}"))
    assert page.count("Saved: cost budget") == 1
    assert notes(page) == [("status", "Saved: cost budget, ¥3,546.00 in all")]
    assert 'id="panel-note"' in card(page, "finance")
    assert input_value(page, "budget_material") == "1200.50"
    assert "Saved: cost budget" not in text_of(finance.get(f"/orders/{order_id}"))  # shown once


def test_an_action_that_moves_the_order_on_notes_it_under_the_status(app, make_order, as_user):
    """The last sign-off moves the order to approval: its card is gone, so the note sits under
    the status at the top of the panel."""
    order_id = make_order("in_review", reviews_required="production")
    production = as_user("production")
    body = text_of(production.post(f"/orders/{order_id}/review/production",
                                   data={"production-verdict": "agree"}, headers=HX))
    assert notes(body) == [("status", "Saved: feasibility sign-off (Production) — Agree")]
    assert body.index('id="panel-note"') < body.index("<h2>Approval</h2>")
    assert get(app, Order, order_id).status == "pending_approval"


@pytest.mark.parametrize("htmx", [True, False])
def test_invalid_budget_keeps_what_was_typed_with_422(app, make_order, as_user, htmx):
    """A wrong number comes back (htmx: the panel; without: the page) with 422, what was typed
    and an alert beside the form; nothing is saved."""
    order_id = make_order("in_review", reviews_required="production,finance")
    finance = as_user("finance")
    response = finance.post(f"/orders/{order_id}/budget", data={**BUDGET, "budget_labour": "3 hundred"},
                            headers=HX if htmx else {})
    assert response.status_code == 422
    body = text_of(response)
    assert ("<html" in body) is not htmx
    assert input_value(body, "budget_labour") == "3 hundred" and input_value(body, "budget_material") == "1,200.5"
    assert notes(body) == [("alert", "Not saved: check the fields marked below.")]
    assert 'id="panel-note"' in card(body, "finance")
    assert get(app, Order, order_id).budget_total is None


@pytest.mark.parametrize("htmx", [True, False])
def test_a_refusal_comes_back_in_the_panel_with_409_and_the_typed_values(app, make_order, as_user,
                                                                        monkeypatch, htmx):
    """A state refusal (here: the order changed under the user) is shown beside the form with 409,
    and what was typed is still in it."""
    order_id = make_order("in_review", reviews_required="production,finance")
    finance = as_user("finance")

    def refuse(*args, **kwargs):
        raise TransitionError(409, "This order is not in a state that allows this.")
    monkeypatch.setattr(services, "set_budget", refuse)
    response = finance.post(f"/orders/{order_id}/budget", data=BUDGET, headers={**(HX if htmx else {}), **ZH})
    assert response.status_code == 409
    body = text_of(response)
    assert ("<html" in body) is not htmx
    [(role, text)] = notes(body)
    assert role == "alert" and "状态" in text, text
    assert 'id="panel-note"' in card(body, "finance")
    assert input_value(body, "budget_material") == "1,200.5"


def test_payment_note_names_what_was_recorded_and_the_form_is_fresh(app, make_order, as_user):
    """A payment's note names kind, amount and date; the payment form is empty for the next one."""
    order_id = make_order("effective", prepayment_pct="30")
    finance = as_user("finance")
    response = finance.post(f"/orders/{order_id}/payments", headers=HX, data={
        "kind": "deposit", "amount": "1,000", "received_on": "2026-11-20", "reference": "BANK-7"})
    assert response.status_code == 200
    body = text_of(response)
    assert notes(body) == [("status", "Saved: Deposit / prepayment of ¥1,000.00 received on Nov 20, 2026")]
    assert body.index("<h2>Payments</h2>") < body.index('id="panel-note"')
    assert input_value(body, "amount") in (None, "") and input_value(body, "reference") in (None, "")


def test_every_button_on_the_order_page_posts_through_htmx(app, make_order, as_user):
    """Each form in the status panel that stays on the page has hx-post and a real action (no JS
    still works); revise leaves for the edit page and stays a plain post."""
    for state, roles in (("draft", ("sales",)), ("in_review", ("production", "finance", "warehouse", "manager")),
                         ("pending_approval", ("manager", "finance")), ("effective", ("finance", "operations", "manager"))):
        order_id = make_order(state, prepayment_pct="30")
        page = text_of(as_user(*roles).get(f"/orders/{order_id}"))
        panel = page[page.index('<section id="status-panel"'):page.index('<div id="order-facts"')]
        forms = re.findall(r"<form [^>]*>", panel)
        assert forms, state
        for form in forms:
            action = re.search(r'action="([^"]+)"', form).group(1)
            if action.endswith("/revise"):
                continue
            assert f'hx-post="{action}"' in form and 'hx-target="#status-panel"' in form, (state, form)


def test_approval_note(app, make_order, as_user):
    """Approving as one of two approvers keeps the approval section: the note is there."""
    order_id = make_order("pending_approval")
    manager = as_user("manager")
    body = text_of(manager.post(f"/orders/{order_id}/decide", data={"role": "manager", "decision": "approve"},
                                headers=HX))
    assert notes(body) == [("status", "Saved: approved as Manager")]
    assert body.index("<h2>Approval</h2>") < body.index('id="panel-note"')


# --- the requirement page: attaching a drawing answers beside the upload form ---------------------

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _requirement(as_user, make_customer):
    from .helpers import id_from_location, requirement_form
    sales = as_user("sales")
    response = sales.post("/requirements/new", data=requirement_form(make_customer("ACME")))
    assert response.status_code == 303
    sales.get(response.headers["Location"])  # the browser follows the redirect: its note is shown there
    return sales, id_from_location(response)


def _attach(client, req_id, data: bytes, filename: str, headers=None):
    return client.post(f"/requirements/{req_id}/attachments", headers=headers or {},
                       data={"title": "DRW-100", "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def test_htmx_upload_answers_the_attachments_section_with_its_note(app, as_user, make_customer):
    """An htmx upload gets the attachments section only, the new file listed and a note beside it."""
    sales, req_id = _requirement(as_user, make_customer)
    response = _attach(sales, req_id, PDF, "drawing.pdf", HX)
    assert response.status_code == 200
    body = text_of(response)
    assert body.lstrip().startswith('<section class="card" id="attachments">') and "<html" not in body
    assert notes(body) == [("status", "Saved: drawing.pdf attached as “DRW-100”, revision 1")]
    assert "drawing.pdf" in body[body.index("</p>"):]  # listed below the note
    # a second one is a new revision, and says so
    assert "revision 2" in notes(text_of(_attach(sales, req_id, PDF, "drawing-b.pdf", HX)))[0][1]


def test_upload_without_htmx_redirects_to_the_note_and_errors_stay_beside_the_form(app, as_user, make_customer):
    """No JavaScript: 303 to the note, shown once beside the attachments; a refused file comes back
    with 422 and the alert in the attachments section (htmx: the section; without: the page)."""
    sales, req_id = _requirement(as_user, make_customer)
    response = _attach(sales, req_id, PDF, "drawing.pdf")
    assert response.status_code == 303 and response.headers["Location"].endswith("#panel-note")
    page = text_of(sales.get(f"/requirements/{req_id}"))
    assert page.count("Saved: drawing.pdf") == 1
    assert page.index('id="attachments"') < page.index('id="panel-note"')
    for headers in (HX, {}):
        response = _attach(sales, req_id, b"MZ\x90\x00 not a drawing", "tool.exe", headers)
        assert response.status_code == 422
        body = text_of(response)
        assert ("<html" in body) is not bool(headers)
        assert notes(body) == [("alert", "Not saved: check the fields marked below.")]
        assert body.index('id="attachments"') < body.index('id="panel-note"')
        assert input_value(body, "title") == "DRW-100"  # what was typed is kept


def test_cancel_without_a_reason_shows_the_error_in_the_open_cancel_box(app, as_user, make_customer):
    """The reason is missing: 422, the cancel box stays open with the alert in it."""
    sales, req_id = _requirement(as_user, make_customer)
    response = sales.post(f"/requirements/{req_id}/cancel", data={"reason": " "})
    assert response.status_code == 422
    body = text_of(response)
    assert '<details class="card" id="cancel" open>' in body
    assert notes(body) == [("alert", "Give a reason for cancelling.")]
    assert body.index('id="cancel"') < body.index('id="panel-note"')


def test_rejection_note_sits_under_the_status_of_the_draft(app, make_order, as_user):
    """A rejection sends the order back to draft: the approval section is gone, the note says what
    happened under the new status; without a reason it is refused beside the decision form (422)."""
    order_id = make_order("pending_approval")
    manager = as_user("manager")
    response = manager.post(f"/orders/{order_id}/decide", headers=HX,
                            data={"role": "manager", "decision": "reject", "note": ""})
    assert response.status_code == 422
    body = text_of(response)
    assert notes(body) == [("alert", "Not saved: check the fields marked below.")]
    assert body.index("<h2>Approval</h2>") < body.index('id="panel-note"')
    body = text_of(manager.post(f"/orders/{order_id}/decide", headers=HX,
                                data={"role": "manager", "decision": "reject", "note": "Price too low"}))
    assert notes(body) == [("status", "Saved: rejected as Manager; the order is a draft again.")]
    assert "<h2>Approval</h2>" not in body
    assert body.index('class="badge s-draft"') < body.index('id="panel-note"')
