"""Stage 2 through the HTTP layer: every transition's 403/409, numbering, countersignature,
amendments and versions, and the prepayment hold."""
import re
import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest
import time_machine

from webapp import links
from webapp.extensions import db
from webapp.orders.models import Countersignature, Order, OrderAmendment, OrderVersion

from .helpers import SIGNATURE, customer_path, get, order_form, text_of

# transition → (request path suffix, form data, a role that may, a state that allows it)
ORDER_ACTIONS = {
    "submit": ("submit", {}, "sales", "draft"),
    "review": ("review/production", {"production-verdict": "agree"}, "production", "in_review"),
    "override_concern": ("override/production", {"reason": "ok"}, "manager", "in_review"),
    "revise": ("revise", {}, "sales", "in_review"),
    "approve": ("decide", {"role": "manager", "decision": "approve"}, "manager", "pending_approval"),
    "reject": ("decide", {"role": "manager", "decision": "reject", "note": "no"}, "manager", "pending_approval"),
    "start_production": ("do/start_production", {}, "operations", "effective"),
    "override_prepayment": ("prepayment-override", {"reason": "trusted"}, "finance", "effective"),
    "hold": ("do/hold", {"hold-reason": "customer asked"}, "manager", "effective"),
    "cancel": ("do/cancel", {"cancel-reason": "customer withdrew"}, "manager", "effective"),
    "discard": ("do/discard", {}, "sales", "draft"),
}


@pytest.mark.parametrize("name", sorted(ORDER_ACTIONS))
def test_wrong_role_gets_403_with_message(name, make_order, as_user):
    """A role the table does not name is refused with 403 and nothing changes."""
    suffix, data, role, state = ORDER_ACTIONS[name]
    order_id = make_order(state, prepayment_pct="30" if name == "override_prepayment" else "0")
    intruder = as_user("qc")
    response = intruder.post(f"/orders/{order_id}/{suffix}", data=data)
    assert response.status_code == 403
    assert "not allowed" in text_of(response) or "may not" in text_of(response)


@pytest.mark.parametrize("name", sorted(ORDER_ACTIONS))
def test_wrong_state_gets_409_with_message(name, app, make_order, as_user):
    """The right role in a state the table does not allow gets 409 and nothing changes."""
    suffix, data, role, state = ORDER_ACTIONS[name]
    wrong_state = {"draft": "pending_approval", "effective": "in_production"}.get(state, "draft")
    if name in ("hold",):
        wrong_state = "draft"
    order_id = make_order(wrong_state)
    client = as_user(role)
    response = client.post(f"/orders/{order_id}/{suffix}", data=data)
    assert response.status_code == 409
    assert "state" in text_of(response) or "not possible" in text_of(response)
    assert get(app, Order, order_id).status == wrong_state


def test_countersign_and_amend_are_refused_in_wrong_states(app, make_order, as_user):
    """A draft cannot be amended (409), whoever asks."""
    order_id = make_order("draft")
    sales = as_user("sales")
    assert sales.get(f"/orders/{order_id}/amend").status_code == 409


def test_htmx_action_returns_the_status_panel_fragment(app, make_order, as_user):
    """An htmx sign-off swaps only #status-panel; the same URL without htmx redirects (303)."""
    order_id = make_order("in_review")
    production = as_user("production")
    response = production.post(f"/orders/{order_id}/review/production",
                               data={"production-verdict": "concern", "production-note": "No capacity"},
                               headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = text_of(response)
    assert body.lstrip().startswith('<section id="status-panel"') and "<html" not in body
    assert "HX-Request" in response.headers["Vary"]
    # a concern without a note is refused with 422 and the panel shows the error
    order_id = make_order("in_review", customer="OTH")
    response = production.post(f"/orders/{order_id}/review/production",
                               data={"production-verdict": "concern", "production-note": ""},
                               headers={"HX-Request": "true"})
    assert response.status_code == 422 and "Say what the concern is" in text_of(response)


def test_concern_blocks_until_override(app, make_order, as_user):
    """A concern keeps the order in review; the manager's override with a reason lets it on."""
    order_id = make_order("in_review", reviews_required="production")
    production, manager = as_user("production"), as_user("manager")
    production.post(f"/orders/{order_id}/review/production",
                    data={"production-verdict": "concern", "production-note": "Full"})
    assert get(app, Order, order_id).status == "in_review"
    assert manager.post(f"/orders/{order_id}/override/production", data={"reason": ""}).status_code == 422
    assert manager.post(f"/orders/{order_id}/override/production", data={"reason": "Overtime approved"}).status_code == 303
    assert get(app, Order, order_id).status == "pending_approval"


def test_revise_after_concern_starts_a_new_review_round(app, make_order, as_user):
    """Revising sends the order back to draft; the old sign-offs do not count in the next round."""
    order_id = make_order("in_review", reviews_required="production,warehouse")
    production, sales = as_user("production"), as_user("sales")
    production.post(f"/orders/{order_id}/review/production", data={"production-verdict": "concern", "production-note": "x"})
    assert sales.post(f"/orders/{order_id}/revise").status_code == 303
    assert sales.post(f"/orders/{order_id}/submit").status_code == 303
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert order.status == "in_review" and order.current_reviews() == {}


def test_finance_must_set_budget_before_agreeing(app, make_order, as_user):
    """Finance cannot agree before the cost budget is set."""
    order_id = make_order("in_review", reviews_required="finance")
    finance = as_user("finance")
    response = finance.post(f"/orders/{order_id}/review/finance", data={"finance-verdict": "agree"})
    assert response.status_code == 409 and "budget" in text_of(response)
    bad = finance.post(f"/orders/{order_id}/budget", data={"budget_material": "abc", "budget_labour": "1",
                                                           "budget_overhead": "1", "budget_logistics": "1",
                                                           "budget_aftersales": "1"})
    assert bad.status_code == 422 and 'value="abc"' in text_of(bad)


# --- numbering --------------------------------------------------------------------------------

def test_number_format_and_serial_per_customer_per_month(app, make_order):
    """YYYYMM-ABBR-NNN with a serial per customer per month in the firm's time zone."""
    with time_machine.travel(datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc), tick=False):
        a1 = make_order("awaiting_countersign", customer="ACME")
        a2 = make_order("awaiting_countersign", customer="ACME")
        b1 = make_order("awaiting_countersign", customer="BETA")
    # 2026-11-30 16:30 UTC is already 1 December in Shanghai: the firm's month decides.
    with time_machine.travel(datetime(2026, 11, 30, 16, 30, tzinfo=timezone.utc), tick=False):
        a3 = make_order("awaiting_countersign", customer="ACME")
    numbers = [get(app, Order, i).number for i in (a1, a2, b1, a3)]
    assert numbers == ["202611-ACME-001", "202611-ACME-002", "202611-BETA-001", "202612-ACME-001"]


def test_cancelled_orders_keep_their_numbers_and_numbers_are_never_reused(app, make_order, as_user):
    """A cancelled order keeps its number; the next order gets the next serial."""
    with time_machine.travel(datetime(2026, 11, 10, 3, 0, tzinfo=timezone.utc), tick=False):
        first = make_order("awaiting_countersign")
        manager = as_user("manager")
        assert manager.post(f"/orders/{first}/do/cancel", data={"cancel-reason": "withdrawn"}).status_code == 303
        second = make_order("awaiting_countersign")
    assert get(app, Order, first).status == "cancelled"
    assert get(app, Order, first).number == "202611-ORD-001"
    assert get(app, Order, second).number == "202611-ORD-002"


def test_drafts_and_rejections_get_no_number(app, make_order, as_user):
    """The number is assigned only when approval completes, so a rejection leaves no gap."""
    with time_machine.travel(datetime(2026, 11, 10, 3, 0, tzinfo=timezone.utc), tick=False):
        rejected = make_order("pending_approval")
        manager = as_user("manager")
        manager.post(f"/orders/{rejected}/decide", data={"role": "manager", "decision": "reject", "note": "price"})
        approved = make_order("awaiting_countersign")
    assert get(app, Order, rejected).number is None
    assert get(app, Order, approved).number == "202611-ORD-001"


# --- countersignature -------------------------------------------------------------------------

def test_countersignature_stores_frozen_terms_and_hash(app, make_order):
    """The signature covers the frozen terms: the stored SHA-256 is that of the canonical JSON."""
    import hashlib
    order_id = make_order("effective")
    with app.app_context():
        signature = db.session.scalar(db.select(Countersignature).where(Countersignature.order_id == order_id))
        digest = hashlib.sha256(signature.terms_json.encode("utf-8")).hexdigest()
        assert digest == signature.terms_sha256
        assert json.loads(signature.terms_json)["lines"][0]["quantity"] == "100.000"
        assert signature.consent_version and signature.consent_text


def test_signature_form_bad_input_keeps_what_was_typed(app, make_order):
    """Missing consent, missing or forged strokes: 422, a clear message, the name kept."""
    order_id = make_order("awaiting_countersign")
    customer = app.test_client()
    link = customer_path(app, "order_countersign", order_id)
    response = customer.post(link + "/sign", data={"name": "Ann Buyer", "strokes": SIGNATURE})
    assert response.status_code == 422 and "Tick the box" in text_of(response) and 'value="Ann Buyer"' in text_of(response)
    response = customer.post(link + "/sign", data={"name": "Ann Buyer", "consent": "y", "strokes": ""})
    assert response.status_code == 422 and "Sign in the box" in text_of(response)
    forged = json.dumps([{"points": [{"x": "<script>", "y": 1}]}])
    response = customer.post(link + "/sign", data={"name": "Ann Buyer", "consent": "y", "strokes": forged})
    assert response.status_code == 422 and "could not be read" in text_of(response)
    assert get(app, Order, order_id).status == "awaiting_countersign"


def test_link_for_one_order_is_useless_for_another(app, make_order):
    """Tokens are scoped: unknown, revoked and other-purpose tokens all give the same 404."""
    order_id = make_order("awaiting_countersign")
    customer = app.test_client()
    link = customer_path(app, "order_countersign", order_id)
    assert customer.get(link + "x").status_code == 404
    assert customer.get("/c/" + "A" * 32).status_code == 404
    with app.app_context(), app.test_request_context():
        links.revoke_all("order_countersign", order_id)
        db.session.commit()
    assert customer.get(link).status_code == 404


def test_expired_link_is_404(app, make_order):
    """A link past its expiry opens nothing."""
    with time_machine.travel(datetime(2026, 11, 1, tzinfo=timezone.utc), tick=False):
        order_id = make_order("awaiting_countersign")
        link = customer_path(app, "order_countersign", order_id)
    with time_machine.travel(datetime(2026, 12, 31, tzinfo=timezone.utc), tick=False):
        assert app.test_client().get(link).status_code == 404


# --- amendments -------------------------------------------------------------------------------

def test_amendment_keeps_versions_voids_link_and_needs_new_signature(app, make_order, as_user):
    """Amending an effective order: version 2, old link void, re-approval and re-signature by the
    settings, both versions viewable side by side."""
    order_id = make_order("effective")
    sales, manager, finance = as_user("sales"), as_user("manager"), as_user("finance")
    data = order_form(**{"lines-0-quantity": "150", "reason": "Customer needs 50 more"})
    response = sales.post(f"/orders/{order_id}/amend", data=data)
    assert response.status_code == 303, text_of(response)[:1500]
    order = get(app, Order, order_id)
    assert order.version == 2 and order.status == "pending_approval"
    number = order.number
    for role, client in (("manager", manager), ("finance", finance)):
        client.post(f"/orders/{order_id}/decide", data={"role": role, "decision": "approve"})
    order = get(app, Order, order_id)
    assert order.status == "awaiting_countersign" and order.number == number  # the number stays
    customer = app.test_client()
    link = customer_path(app, "order_countersign", order_id)
    assert "150" in text_of(customer.get(link))
    customer.post(link + "/sign", data={"name": "Ann", "consent": "y", "strokes": SIGNATURE})
    order = get(app, Order, order_id)
    assert order.status == "effective" and order.signed_version == 2
    with app.app_context():
        versions = db.session.scalars(db.select(OrderVersion).where(OrderVersion.order_id == order_id)
                                      .order_by(OrderVersion.version)).all()
        assert [v.version for v in versions] == [1, 2]
        assert versions[0].terms["lines"][0]["quantity"] == "100.000"
        assert versions[1].terms["lines"][0]["quantity"] == "150.000"
        amendment = db.session.scalar(db.select(OrderAmendment).where(OrderAmendment.order_id == order_id))
        assert amendment.reason == "Customer needs 50 more"
        assert {c["field"] for c in amendment.changes} >= {"line 1 quantity"}
        signatures = db.session.scalars(db.select(Countersignature).where(Countersignature.order_id == order_id)).all()
        assert [s.version for s in signatures] == [1, 2]
    page = text_of(sales.get(f"/orders/{order_id}/versions?a=1&b=2"))
    assert 'class="changed"' in page and ">150<" in page.replace(" ", "") and ">100<" in page.replace(" ", "")


def test_amendment_voids_an_open_countersign_link(app, make_order, as_user):
    """Editing the order after approval voids the link the customer has not used yet."""
    order_id = make_order("awaiting_countersign")
    customer = app.test_client()
    link = customer_path(app, "order_countersign", order_id)
    sales = as_user("sales")
    sales.post(f"/orders/{order_id}/amend", data=order_form(**{"delivery_date": "2027-01-15", "reason": "later"}))
    assert customer.get(link).status_code == 404
    assert customer.post(link + "/sign", data={"name": "Ann", "consent": "y", "strokes": SIGNATURE}).status_code == 404


def test_amendment_without_reapproval_or_resignature(app, make_order, as_user):
    """With both switched off in the settings, the amendment applies at once as a new version."""
    order_id = make_order("effective", amend_reapprove=False, amend_resign=False)
    sales = as_user("sales")
    response = sales.post(f"/orders/{order_id}/amend", data=order_form(**{"lines-0-unit_price": "9.50", "reason": "discount"}))
    assert response.status_code == 303
    order = get(app, Order, order_id)
    assert order.status == "effective" and order.version == 2 and order.total_excl == Decimal("950.00")


def test_amendment_needs_a_reason_and_a_change(app, make_order, as_user):
    """No reason: 422 with the typed terms kept; no change at all: 409."""
    order_id = make_order("effective")
    sales = as_user("sales")
    response = sales.post(f"/orders/{order_id}/amend", data=order_form(**{"lines-0-quantity": "123"}))
    assert response.status_code == 422 and 'value="123"' in text_of(response)
    same = order_form(**{"reason": "nothing", "customer_po": "", "prepayment_pct": "0",
                         "delivery_place": "", "breach_liability": "", "credit_days": "0"})
    with app.app_context():
        order = db.session.get(Order, order_id)
        same["delivery_date"] = order.delivery_date.isoformat()
        same["lines-0-customer_part_no"], same["lines-0-drawing_rev"] = "", ""
    response = sales.post(f"/orders/{order_id}/amend", data=same)
    assert response.status_code == 422 and "Nothing in the terms was changed" in text_of(response)
    assert 'nothing</textarea>' in text_of(response)  # the reason typed is kept


# --- payments and the prepayment hold ---------------------------------------------------------

def test_prepayment_holds_production_until_recorded(app, make_order, as_user):
    """With 30 % prepayment, release to production is refused until finance records it."""
    order_id = make_order("effective", prepayment_pct="30")
    operations, finance = as_user("operations"), as_user("finance")
    response = operations.post(f"/orders/{order_id}/do/start_production")
    assert response.status_code == 409 and "prepayment" in text_of(response)
    due = get(app, Order, order_id).prepayment_due
    assert finance.post(f"/orders/{order_id}/payments", data={"kind": "deposit", "amount": str(due - 1),
                                                             "received_on": "2026-11-20"}).status_code == 303
    assert operations.post(f"/orders/{order_id}/do/start_production").status_code == 409
    finance.post(f"/orders/{order_id}/payments", data={"kind": "deposit", "amount": "1", "received_on": "2026-11-21"})
    assert operations.post(f"/orders/{order_id}/do/start_production").status_code == 303
    assert get(app, Order, order_id).status == "in_production"


def test_finance_override_releases_the_hold(app, make_order, as_user):
    """Finance may override the hold with a reason; then production can start."""
    order_id = make_order("effective", prepayment_pct="50")
    operations, finance = as_user("operations"), as_user("finance")
    assert finance.post(f"/orders/{order_id}/prepayment-override", data={"reason": ""}).status_code == 422
    assert finance.post(f"/orders/{order_id}/prepayment-override", data={"reason": "Key account"}).status_code == 303
    assert operations.post(f"/orders/{order_id}/do/start_production").status_code == 303


def test_payment_bad_input(app, make_order, as_user):
    """Wrong amount or date: 422 with what was typed."""
    order_id = make_order("effective", prepayment_pct="30")
    finance = as_user("finance")
    response = finance.post(f"/orders/{order_id}/payments", data={"kind": "deposit", "amount": "-5",
                                                                 "received_on": "yesterday"})
    assert response.status_code == 422
    assert 'value="-5"' in text_of(response) and "Not a valid date" in text_of(response)
    for absurd in ("1e30", "NaN", "99999999999999999999"):
        response = finance.post(f"/orders/{order_id}/payments", data={"kind": "deposit", "amount": absurd,
                                                                     "received_on": "2026-11-20"})
        assert response.status_code == 422 and f'value="{absurd}"' in text_of(response), absurd


def test_hold_and_resume(app, make_order, as_user):
    """On hold remembers where it was and resumes there."""
    order_id = make_order("in_production")
    manager = as_user("manager")
    blank = manager.post(f"/orders/{order_id}/do/hold", data={"hold-reason": "   "})
    assert blank.status_code == 422 and 'id="hold-reason-err"' in text_of(blank)
    assert manager.post(f"/orders/{order_id}/do/hold", data={"hold-reason": "quality issue"}).status_code == 303
    assert get(app, Order, order_id).status == "on_hold"
    manager.post(f"/orders/{order_id}/do/resume")
    assert get(app, Order, order_id).status == "in_production"


def test_settings_snapshot_is_kept(app, make_order, as_user):
    """An order keeps the settings in force when it entered review, even after they change."""
    order_id = make_order("in_review", reviews_required="production")
    admin = as_user("admin")
    form = {"firm_name": "X", "timezone": "Asia/Shanghai", "currency": "CNY", "tax_rate": "13",
            "reviews": ["production", "finance", "warehouse"], "manager_approval": "y",
            "finance_approval_threshold": "0", "number_pattern": "{yyyy}{mm}-{abbr}-{seq:03d}",
            "weekly_capacity": "500", "calendar_country": "CN", "retention_years": "10"}
    assert admin.post("/admin/settings", data=form).status_code == 303
    with app.app_context():
        assert db.session.get(Order, order_id).settings["reviews"] == ["production"]
    production = as_user("production")
    production.post(f"/orders/{order_id}/review/production", data={"production-verdict": "agree"})
    assert get(app, Order, order_id).status == "pending_approval"


def test_finance_approval_only_above_threshold(app, make_order):
    """Below the threshold only the manager approves."""
    small = make_order("pending_approval", finance_approval_threshold=Decimal("5000"))
    with app.app_context():
        assert db.session.get(Order, small).required_approvals() == ["manager"]


def test_refused_htmx_action_keeps_the_panel(app, make_order, as_user):
    """A refused htmx action (409) shows its message inside the status panel, not instead of it."""
    order_id = make_order("in_review", reviews_required="finance")
    finance = as_user("finance")
    response = finance.post(f"/orders/{order_id}/review/finance", data={"finance-verdict": "agree"},
                            headers={"HX-Request": "true"})
    assert response.status_code == 409
    body = text_of(response)
    assert body.lstrip().startswith('<section id="status-panel"') and "budget" in body
    assert "Record sign-off" in body  # the form is still there to try again


def test_order_form_bad_input_keeps_what_was_typed(app, as_user, make_customer):
    """Bad lines and terms: 422, a message per field, every typed value shown back, nothing stored."""
    customer_id = make_customer("ACME")
    sales = as_user("sales")
    data = order_form(**{"customer_id": str(customer_id), "lines-0-quantity": "ten", "lines-0-unit_price": "",
                         "lines-1-model": "", "lines-1-quantity": "5", "lines-1-unit": "pcs",
                         "tax_rate": "113", "credit_days": "-1", "delivery_date": "31/12/2026"})
    response = sales.post("/orders/new", data=data)
    assert response.status_code == 422
    page = text_of(response)
    assert 'value="ten"' in page and "Enter a number" in page
    assert "Enter the model" in page and 'value="5"' in page
    assert "at most 100" in page and 'value="113"' in page
    assert "Not a valid date" in page
    with app.app_context():
        from webapp.orders.models import Order as OrderRow
        assert db.session.scalar(db.select(db.func.count()).select_from(OrderRow)) == 0
    # no line at all
    empty = order_form(**{"customer_id": str(customer_id), "lines-0-model": "", "lines-0-quantity": "",
                          "lines-0-unit_price": "", "lines-0-customer_part_no": "", "lines-0-drawing_rev": ""})
    response = sales.post("/orders/new", data=empty)
    assert response.status_code == 422 and "Add at least one order line" in text_of(response)


def test_add_line_button_works_without_javascript(app, as_user, make_customer):
    """'Add a line' posts the form back with one more empty line and keeps what was typed."""
    customer_id = make_customer("ACME")
    sales = as_user("sales")
    response = sales.post("/orders/new", data=order_form(**{"customer_id": str(customer_id), "add_line": "1"}))
    assert response.status_code == 200
    page = text_of(response)
    assert 'name="lines-1-model"' in page and 'value="BRK-1"' in page


def test_unit_price_with_tax_alone_is_enough(app, as_user, make_customer):
    """Given only the price with tax, the price without tax is worked out from the rate."""
    customer_id = make_customer("ACME")
    sales = as_user("sales")
    data = order_form(**{"customer_id": str(customer_id), "lines-0-unit_price": "", "lines-0-unit_price_incl": "11.30"})
    response = sales.post("/orders/new", data=data)
    assert response.status_code == 303
    with app.app_context():
        order = db.session.scalar(db.select(Order))
        assert order.lines[0].unit_price == Decimal("10.00") and order.total == Decimal("1130.00")


def test_reject_needs_a_reason(app, make_order, as_user):
    """Rejecting without a note is refused with a message; with one, the order is a draft again."""
    order_id = make_order("pending_approval")
    manager = as_user("manager")
    response = manager.post(f"/orders/{order_id}/decide", data={"role": "manager", "decision": "reject"})
    assert response.status_code == 422 and "Give a reason for rejecting" in text_of(response)
    manager.post(f"/orders/{order_id}/decide", data={"role": "manager", "decision": "reject", "note": "Price too low"})
    assert get(app, Order, order_id).status == "draft"


def test_approving_twice_or_for_a_role_one_lacks_is_refused(app, make_order, as_user):
    """The same approval twice is 409; approving as finance without the role is 403."""
    order_id = make_order("pending_approval")
    manager = as_user("manager")
    assert manager.post(f"/orders/{order_id}/decide", data={"role": "manager", "decision": "approve"}).status_code == 303
    assert manager.post(f"/orders/{order_id}/decide", data={"role": "manager", "decision": "approve"}).status_code == 409
    assert manager.post(f"/orders/{order_id}/decide", data={"role": "finance", "decision": "approve"}).status_code == 403


def test_my_work_lists_what_waits_for_each_role(app, make_order, as_user):
    """Each role's home page lists its own waiting actions."""
    in_review = make_order("in_review")
    pending = make_order("pending_approval", customer="PEN")
    production, manager = as_user("production"), as_user("manager")
    assert f"/orders/{in_review}" in text_of(production.get("/"))
    assert f"/orders/{pending}" not in text_of(production.get("/"))
    assert f"/orders/{pending}" in text_of(manager.get("/"))
    assert "Nothing waits for you" in text_of(as_user("qc").get("/"))


def test_search_by_number_po_and_customer(app, make_order, as_user):
    """Search finds orders by number, customer PO number and customer name; htmx gets the results block."""
    with time_machine.travel(datetime(2026, 11, 10, 3, 0, tzinfo=timezone.utc), tick=False):
        order_id = make_order("awaiting_countersign", customer="ZETA")
    sales = as_user("sales")
    # By the number's start, the customer's name or abbreviation, and a fragment inside the number.
    for query in ("202611-ZETA", "zeta ltd", "ZETA", "ZETA-001", "611-zeta"):
        assert f"/orders/{order_id}" in text_of(sales.get(f"/search?q={query}")), query
    fragment = sales.get("/search?q=ZETA", headers={"HX-Request": "true"})
    assert text_of(fragment).lstrip().startswith('<div id="results">')
    assert "Nothing found" in text_of(sales.get("/search?q=nothing-like-this"))
    # A typed % or _ is a character to find, not a wildcard matching every order and requirement.
    for wildcard in ("%", "_", "%25", "a%"):
        assert "Nothing found" in text_of(sales.get("/search", query_string={"q": wildcard})), wildcard


def test_disagreeing_unit_prices_are_refused(app, as_user, make_customer):
    """Changing only the price with tax while the old price without tax stays is caught, not ignored."""
    customer_id = make_customer("ACME")
    sales = as_user("sales")
    data = order_form(**{"customer_id": str(customer_id), "lines-0-unit_price": "10.00",
                         "lines-0-unit_price_incl": "12.00"})
    response = sales.post("/orders/new", data=data)
    assert response.status_code == 422 and "do not agree" in text_of(response)
    data["lines-0-unit_price_incl"] = "11.30"
    assert sales.post("/orders/new", data=data).status_code == 303


def test_lost_countersign_link_is_replaced_or_withdrawn(app, make_order, as_user):
    """Sales makes a new link (the old one dies) or withdraws it; other roles may not."""
    order_id = make_order("awaiting_countersign")
    old = customer_path(app, "order_countersign", order_id)
    sales = as_user("sales")
    assert as_user("warehouse").post(f"/orders/{order_id}/link").status_code == 403
    assert sales.post(f"/orders/{order_id}/link").status_code == 303
    new = customer_path(app, "order_countersign", order_id)
    client = app.test_client()
    assert new != old and client.get(old).status_code == 404 and client.get(new).status_code == 200
    sales.post(f"/orders/{order_id}/link", data={"revoke": "1"})
    assert client.get(new).status_code == 404
    assert "No live link" in text_of(sales.get(f"/orders/{order_id}"))


def test_an_amendment_keeps_the_currency_and_rate_and_a_foreign_order_needs_its_rate(app, make_order, as_user):
    """The currency and exchange rate are the order's from the day it was made: an amendment that
    changes either is refused (409), the order untouched; a draft in USD is not submitted while its
    rate is the default 1 (every balance would count dollars as yuan)."""
    order_id = make_order("effective")
    sales = as_user("sales")
    for change in ({"currency": "USD", "exchange_rate": "7.1"}, {"currency": "EUR", "exchange_rate": "7.8"}):
        response = sales.post(f"/orders/{order_id}/amend", data=order_form(reason="Paid in dollars", **change))
        assert response.status_code == 409 and "fixed when the order is made" in text_of(response), change
        order = get(app, Order, order_id)
        assert (order.currency, order.exchange_rate, order.version) == ("CNY", Decimal("1"), 1)
    draft_id = make_order("draft")
    with app.app_context():
        db.session.get(Order, draft_id).currency = "USD"
        db.session.commit()
    refused = sales.post(f"/orders/{draft_id}/submit")
    assert refused.status_code == 409 and "exchange rate before submitting" in text_of(refused), re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text_of(refused).split("<main")[1]))[:800]
    assert get(app, Order, draft_id).status == "draft"


def test_month_end_credit_terms_are_part_of_what_the_customer_signs(app, make_order, as_user):
    """月结: amending net 30 days to 30 days after the month's end is a change of the terms (recorded,
    signed again), and the customer's page says so."""
    order_id = make_order("effective")
    response = as_user("sales").post(f"/orders/{order_id}/amend",
                                     data=order_form(reason="Customer pays monthly", credit_basis="month_end"))
    assert response.status_code == 303, text_of(response)[:1500]
    with app.app_context():
        amendment = db.session.scalar(db.select(OrderAmendment).where(OrderAmendment.order_id == order_id))
        assert "credit_basis" in {c["field"] for c in amendment.changes}
    for role in ("manager", "finance"):
        as_user(role).post(f"/orders/{order_id}/decide", data={"role": role, "decision": "approve"})
    page = text_of(app.test_client().get(customer_path(app, "order_countersign", order_id)))
    assert "30 days after the end of the invoice&#39;s month (月结)" in page or \
        "30 days after the end of the invoice's month (月结)" in page
