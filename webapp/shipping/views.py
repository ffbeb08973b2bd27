"""Shipments: the warehouse's pages, the courier's link and the customer's receipt."""
import uuid
from datetime import timezone

from flask import abort, flash, g, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy.orm import joinedload, selectinload

from .. import links, registry
from ..contacts import Contact, order_contact
from ..extensions import db
from ..i18n import firm_zone
from ..forms import NumberError, input_number, parse_decimal
from ..htmx import is_partial, render, see_other
from ..orders import lifecycle as order_lifecycle
from ..orders import Order
from ..public.copies import link_keeps_copy, within_retention
from ..public import copies
from ..permissions import can, requires
from ..photos import Photo, get_photo, photos_of, send_photo
from ..signatures import SignatureError
from ..statemachine import N_
from ..templating import quantity
from ..loading import load
from ..paging import keyset_page
from ..orders import scope_orders
from ..pwa import keep_offline
from ..sync import replay
from ..sync import Applied, Conflict, Invalid, Stop
from ..sync import offline_capable
from ..uploads import UploadError
from . import bp, carriers, lifecycle, packing_page, services
from . import work as _work  # noqa: F401  (registers this domain's My work items)
from . import transit
from .forms import (CONDITION_CHOICES, DispatchForm, EventForm, ProblemForm, ReturnCloseForm, ReturnStartForm,
                    StaffEventForm, receipt_form, shipment_form)
from .forms import carrier_form as make_carrier_form
from .models import ReturnCase, Shipment, ShipmentLine


def get_shipment(shipment_id: int, action: str = "shipment.view") -> Shipment:
    """The shipment for the current user doing action (404/403/409 otherwise); a writer locks its
    row on PostgreSQL, so two people packing or dispatching it at once see each other."""
    return load(Shipment, shipment_id, action, options=(selectinload(Shipment.lines), joinedload(Shipment.order)))


def _order_page(order: Order, form=None, status=200):
    remaining = services.open_quantities(order) if order.lines else {}
    sources = services.line_sources(order) if order.lines else {}
    returns = db.session.scalars(db.select(ReturnCase).where(ReturnCase.order_id == order.id)
                                 .order_by(ReturnCase.id)).all()
    form = form or shipment_form(order)
    form.carrier_pick.choices = carriers.choices()
    return render("shipping/order.html", order=order, form=form, remaining=remaining,
                  qty_fields=dict(form.qty.keyed()), batch_fields=dict(form.batch.keyed()),
                  fulfilment=order.fulfilment(), returns=returns, sources=sources, state_labels=lifecycle.STATE_LABELS,
                  return_labels=lifecycle.RETURN_LABELS, return_outcomes=lifecycle.RETURN_OUTCOMES,
                  shippable=order.status in order_lifecycle.SHIPPABLE,
                  status_code=status)


@bp.get("/shipping/orders/<int:order_id>")
@login_required
def order_shipments(order_id: int):
    """What is shipped, delivered and outstanding for an order; start a new shipment."""
    return _order_page(load(Order, order_id, "shipment.view"))


@bp.post("/shipping/orders/<int:order_id>/new")
@login_required
def create(order_id: int):
    """Make a shipment with some quantity of some lines (one of possibly several)."""
    # The loader locks the order row (PostgreSQL; SQLite serialises writers): two shipments made at
    # once must see each other's quantities against what passed QC.
    order = load(Order, order_id, "shipment.manage")
    form = shipment_form(order)
    valid = form.validate_on_submit()
    quantities, batches = {}, {}
    sources = services.line_sources(order)
    for line, (_key, qty), (_key2, batch) in zip(order.lines, form.qty.keyed(), form.batch.keyed()):
        raw = (qty.raw_data[0] if qty.raw_data else "").strip()
        batches[line.id] = batch.data or ""
        if raw:
            try:
                quantities[line.id] = parse_decimal(raw, places=3, minimum=0, maximum=line.quantity)
            except ValueError as error:
                qty.errors = [str(error)]
                continue
            problem = _beyond_source(sources[line.id], quantities[line.id])
            if problem:
                qty.errors = [problem]
    if not valid or any(qty.errors for qty in form.qty):
        return _order_page(order, form, status=422)
    carrier, vehicle = carriers.parse_choice(form.carrier_pick.data)
    shipment = services.create_shipment(order, current_user, quantities, batches, form.method.data,
                                        carriers.carrier_text(carrier, vehicle, (form.carrier.data or "").strip()),
                                        (form.tracking_no.data or "").strip(), form.eta.data, form.cost.data,
                                        carrier_id=carrier.id if carrier else None,
                                        vehicle_id=vehicle.id if vehicle else None)
    flash(_("Shipment %(number)s created. Check the packing list.", number=shipment.number))
    return see_other(url_for("shipping.detail", shipment_id=shipment.id))


def _beyond_source(source: dict, wanted) -> str | None:
    """Why wanted cannot ship from this line's source (QC-passed goods or stock), or None."""
    if not wanted or wanted <= source["limit"]:
        return None
    if source["source"] == "made":
        return _("Only %(n)s of this line passed QC and are not yet shipped.", n=quantity(source["limit"]))
    if source["source"] == "stock":
        return _("Only %(n)s of this line are in stock.", n=quantity(source["limit"]))
    return _("This line has no work order and no product in stock to ship from.")


@bp.get("/shipping/")
@login_required
@requires("shipment.view")
def index():
    """List shipments, newest first, optionally by state, a page at a time."""
    status = request.args.get("status")
    query = (db.select(Shipment).where(scope_orders(current_user, Shipment.order_id))
             .options(joinedload(Shipment.order).joinedload(Order.customer)))
    if status in lifecycle.STATES:
        query = query.where(Shipment.status == status)
    page = keyset_page(query, Shipment, Shipment.created_at, descending=True)
    return render("shipping/index.html", shipments=page.rows, next_after=page.next_after, status=status,
                  states=lifecycle.STATES, pickups=carriers.booked_for([s.id for s in page.rows]))


@bp.get("/shipping/<int:shipment_id>")
@login_required
def detail(shipment_id: int):
    """A shipment: packing list to tick off, the courier's link, the receipt and any return case."""
    shipment = get_shipment(shipment_id)
    keep_offline()
    return render("shipping/detail.html", **_detail_context(shipment))


def _detail_context(shipment: Shipment, dispatch_form=None, close_forms=None, event_form=None,
                    carrier_form=None) -> dict:
    receipt = shipment.receipt
    returns = db.session.scalars(db.select(ReturnCase).where(ReturnCase.shipment_id == shipment.id)
                                 .order_by(ReturnCase.id)).all()
    close_forms = close_forms or {}
    return {
        "shipment": shipment, "state_labels": lifecycle.STATE_LABELS,
        "courier_link": links.current("courier", shipment.id),
        "receipt_link": links.current("delivery_receipt", shipment.id),
        "receipt": receipt,
        "receipt_svg": Markup(receipt.signature_svg) if receipt and receipt.signature_svg else None,
        "receipt_photos": photos_of("receipt", [receipt.id])[receipt.id] if receipt else [],
        "dispatch_photos": photos_of("dispatch", [shipment.id])[shipment.id],
        **_problems(shipment),
        "returns": returns,
        "return_form": ReturnStartForm(), "dispatch_form": dispatch_form or DispatchForm(),
        "close_forms": {case.id: close_forms.get(case.id) or ReturnCloseForm(prefix=f"close-{case.id}")
                        for case in returns},
        "return_labels": lifecycle.RETURN_LABELS, "return_outcomes": lifecycle.RETURN_OUTCOMES,
        "conditions": dict(CONDITION_CHOICES),
        **_transit_context(shipment, event_form),
        # Who carries it and when it is picked up (views_carriers.py); the case it replaces goods for.
        "carrier_form": (make_carrier_form(shipment, carrier_form) if can(current_user, "shipment.manage")
                         and shipment.status not in lifecycle.DELIVERED else None),
        "pickup": carriers.pending_pickup(shipment), "who_label": carriers.who_label,
        "replaces_case": db.session.get(ReturnCase, shipment.return_case_id) if shipment.return_case_id else None,
        **packing_page.detail_extras(shipment),  # cartons, counts and lots, the override, documents
        # What higher domains add (receivables: the shipping hold and finance's release form).
        **registry.page_context("shipment", shipment),
    }


def _transit_context(shipment: Shipment, form=None) -> dict:
    """The shipment's transit events and the form that adds one (a fresh nonce: a form sent twice is one event)."""
    if form is None:
        form = StaffEventForm(prefix="e", formdata=None)
        form.nonce.data = uuid.uuid4().hex
    return {"events": transit.events_of([shipment.id])[shipment.id], "event_form": form,
            "event_kinds": transit.KIND_LABELS, "event_reasons": transit.REASON_LABELS,
            "event_sources": transit.SOURCE_LABELS}


def _problems(shipment: Shipment) -> dict:
    """What the courier reported on the way (kept as audit events), with their photos."""
    from ..audit import AuditEvent
    problems = db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.entity_type == "shipment", AuditEvent.entity_id == shipment.id,
        AuditEvent.action == "shipment.problem").options(joinedload(AuditEvent.actor))
        .order_by(AuditEvent.id)).all()
    return {"problems": problems, "problem_photos": photos_of("shipment_problem", [e.id for e in problems])}


@bp.post("/shipping/<int:shipment_id>/lines/<int:line_id>/check")
@login_required
@requires("shipment.manage")
def check(shipment_id: int, line_id: int):
    """Tick a packing-list line off (the batch may be entered or scanned)."""
    shipment = get_shipment(shipment_id)
    line = db.session.get(ShipmentLine, line_id)
    if line is None or line.shipment_id != shipment.id:
        abort(404)
    services.check_line(shipment, line, (request.form.get("batch") or "").strip()[:60], current_user)
    return see_other(url_for("shipping.detail", shipment_id=shipment.id))


@bp.post("/shipping/<int:shipment_id>/pack")
@login_required
def pack(shipment_id: int):
    """Mark the shipment packed (every line checked)."""
    shipment = get_shipment(shipment_id)
    services.pack(shipment, current_user)
    flash(_("Packed. The courier can pick it up with the shipment's code."))
    return see_other(url_for("shipping.detail", shipment_id=shipment.id))


@bp.post("/shipping/<int:shipment_id>/dispatch")
@login_required
def dispatch(shipment_id: int):
    """The warehouse confirms dispatch itself (e.g. own truck or pickup)."""
    shipment = get_shipment(shipment_id)
    form = DispatchForm()
    if not form.validate_on_submit():
        return render("shipping/detail.html", status_code=422, **_detail_context(shipment))
    try:
        services.dispatch(shipment, request.files.getlist(form.photos.name), (form.note.data or "").strip(),
                          user=current_user)
    except UploadError as error:
        _roll_back()
        form.photos.errors = [str(error)]
        return render("shipping/detail.html", status_code=422,
                      **_detail_context(db.session.get(Shipment, shipment_id), dispatch_form=form))
    flash(_("Dispatched. The customer has the link to sign for the delivery."))
    return see_other(url_for("shipping.detail", shipment_id=shipment.id))


@bp.post("/shipping/<int:shipment_id>/events")
@login_required
def add_event(shipment_id: int):
    """Staff add a transit event (what the carrier said on the phone, a failed attempt and why)."""
    shipment = get_shipment(shipment_id, "shipment.manage")
    form = StaffEventForm(prefix="e")
    valid = form.validate_on_submit()
    error = _event_error(form) if valid else None
    if not valid or error:
        if error:
            form.reason.errors = [error]
        return render("shipping/detail.html", status_code=422, **_detail_context(shipment, event_form=form))
    occurred_at = None
    if form.occurred_at.data is not None:  # typed in the firm's local time
        occurred_at = form.occurred_at.data.replace(tzinfo=firm_zone()).astimezone(timezone.utc)
    transit.add_event(shipment, form.kind.data, "staff", occurred_at=occurred_at, reason=form.reason.data or "",
                      place=form.place.data or "", note=(form.note.data or "").strip(), user=current_user,
                      dedupe_key=f"form:{form.nonce.data}:{form.kind.data}" if form.nonce.data else None)
    flash(_("Transit event added."))
    return see_other(url_for("shipping.detail", shipment_id=shipment.id))


def _event_error(form) -> str | None:
    """Why an event form cannot be recorded (a kind we do not know, a failed attempt without its reason)."""
    if form.kind.data not in transit.KIND_LABELS:
        return _("Choose what happened.")
    if form.kind.data == "attempt_failed" and form.reason.data not in transit.REASON_LABELS:
        return _("Choose why the delivery attempt failed.")
    return None


def _roll_back() -> None:
    """A refused photo: nothing of the request is kept (the form is shown again with the message)."""
    g.rollback = True
    db.session.rollback()


@bp.get("/shipping/<int:shipment_id>/receipt")
@login_required
def receipt(shipment_id: int):
    """The printable delivery receipt with the signature (or the stamped note)."""
    shipment = get_shipment(shipment_id)
    if shipment.receipt is None:
        abort(404)
    # The QR of the customer's order page (after-sales registers it: registry page_context).
    return render("shipping/receipt.html", **_detail_context(shipment),
                  **registry.page_context("delivery_note", shipment))


@bp.post("/shipping/returns/<int:case_id>/start")
@login_required
def start_return(case_id: int):
    """Start a return or exchange (the 24 h clock stops)."""
    case = load(ReturnCase, case_id, "return.manage")
    form = ReturnStartForm()
    if not form.validate_on_submit():
        flash(_("Say what will be done."), "error")
    else:
        services.start_return(case, current_user, form.action.data.strip())
        flash(_("Return case started."))
    return see_other(url_for("shipping.detail", shipment_id=case.shipment_id))


@bp.post("/shipping/returns/<int:case_id>/close")
@login_required
def close_return(case_id: int):
    """Close a return case with its outcome and a note (422 with the form when one is missing)."""
    case = load(ReturnCase, case_id, "return.close")  # locked: two closes at once, one wins
    shipment = get_shipment(case.shipment_id)
    form = ReturnCloseForm(prefix=f"close-{case.id}")
    if not form.validate_on_submit():
        return render("shipping/detail.html", "returns", status_code=422,
                      **_detail_context(shipment, close_forms={case.id: form}))
    services.close_return(case, current_user, form.outcome.data, form.note.data.strip())
    if is_partial():
        db.session.flush()
        return render("shipping/detail.html", "returns", **_detail_context(shipment))
    flash(_("Return case closed."))
    return see_other(url_for("shipping.detail", shipment_id=case.shipment_id))


@bp.get("/shipping/photos/<int:photo_id>")
@login_required
@requires("shipment.view")
def photo(photo_id: int):
    """A dispatch, receipt or stamped-note photo (the older address of photos.full)."""
    return send_photo(get_photo(photo_id, ("dispatch", "receipt", "stamped_note", "shipment_problem")))


# --- the courier's link ---------------------------------------------------------------------------

def courier_page(link, status=200, **forms):
    """What the courier sees: the shipment's lines and, until it is delivered, who receives it (name,
    phone, address); its transit events and big buttons to add one; no prices and nothing else about
    the customer."""
    shipment = load(Shipment, link.object_id, None)
    keep_offline()
    event_form = forms.get("event_form")
    if event_form is None:
        event_form = EventForm(prefix="e", formdata=None)
        event_form.nonce.data = uuid.uuid4().hex
    return render("shipping/courier.html", link=link, shipment=shipment, state_labels=lifecycle.STATE_LABELS,
                  contact=courier_contact(shipment),
                  dispatch_form=forms.get("dispatch_form") or DispatchForm(prefix="d"),
                  problem_form=forms.get("problem_form") or ProblemForm(prefix="p"), event_form=event_form,
                  events=transit.events_of([shipment.id])[shipment.id], event_kinds=transit.KIND_LABELS,
                  event_reasons=transit.REASON_LABELS, status_code=status)


def courier_contact(shipment: Shipment) -> Contact | None:
    """The delivery contact the courier may see: only for a delivery still to be made (after it is
    signed for, the customer's phone and address are no longer the courier's business)."""
    if shipment.method != "delivery" or shipment.status not in lifecycle.UNDELIVERED:
        return None
    return order_contact(shipment.order)


def _resolve(token: str, used_copy_message: str | None = None):
    """links.resolve, except that a link since replaced, used or expired is a conflict: a replay from a
    phone's outbox is kept with its data (the courier cannot record it again); the browser gets the
    404 as before, or, for the customer's used receipt link (a double tap, the back button), their
    copy with used_copy_message."""
    known = links.find(token)
    if known is not None and not known.is_live:
        page = lambda: abort(404)  # noqa: E731
        if used_copy_message and known.purpose == "delivery_receipt" and copies.was_used(known):
            page = lambda: _to_copy(token, used_copy_message)  # noqa: E731
        raise Stop(Conflict(N_("This link was replaced or has expired, so this was not recorded. "
                               "The office sees it with its data."), page))
    return links.resolve(token)


def _to_copy(token: str, message: str):
    """The customer's link again, which shows their copy, with message on top."""
    flash(message)
    return see_other(url_for("public.open_link", token=token))


def _courier_link(token: str):
    link = _resolve(token)
    if link.purpose != "courier":
        abort(404)
    return link


def _courier_action(token: str, form, form_name: str, apply, message: str):
    """A courier's form (pickup or problem): validate, apply with the photos. A refused photo keeps
    nothing and brings the form back with the message."""
    link = _courier_link(token)
    shipment = load(Shipment, link.object_id, None)
    page = lambda: courier_page(link, status=422, **{form_name: form})  # noqa: E731
    if not form.validate_on_submit():
        return Invalid(form, page)
    try:
        apply(shipment, link, request.files.getlist(form.photos.name))
    except UploadError as error:
        form.photos.errors = [str(error)]
        return Invalid(form, page, rollback=True)
    return Applied(message, url_for("public.open_link", token=token), {"id": shipment.id})


@bp.post("/c/<token>/dispatch")
@offline_capable(link=True)
def courier_dispatch(token: str):
    """The courier confirms pickup with photos. Works offline."""
    form = DispatchForm(prefix="d")
    return _courier_action(token, form, "dispatch_form", lambda shipment, link, photos: services.dispatch(
        shipment, photos, (form.note.data or "").strip(), courier_link=link), _("Pickup confirmed. Safe journey!"))


@bp.post("/c/<token>/problem")
@offline_capable(link=True)
def courier_problem(token: str):
    """The courier reports a problem (with photos). Works offline."""
    form = ProblemForm(prefix="p")
    return _courier_action(token, form, "problem_form", lambda shipment, link, photos: services.report_problem(
        shipment, form.note.data.strip(), photos, courier_link=link), _("Problem reported to the warehouse."))


@bp.post("/c/<token>/events")
@offline_capable(link=True)
def courier_event(token: str):
    """The courier tells what happened on the way (picked up, in transit, a failed attempt and why,
    delivered): one tap, works offline. The shipment is the link's, whatever the form says; an
    outbox entry sent again is the same event (its Idempotency-Key), and it happened when the phone
    recorded it, even if it arrives after later ones."""
    link = _courier_link(token)
    shipment = load(Shipment, link.object_id, None)
    form = EventForm(prefix="e")
    page = lambda: courier_page(link, status=422, event_form=form)  # noqa: E731
    if not form.validate_on_submit():
        return Invalid(form, page)
    error = _event_error(form)
    if error:
        form.reason.errors = [error]
        return Invalid(form, page)
    if g.get("replay"):
        key = "idem:" + request.headers.get("Idempotency-Key", "")
    else:
        key = f"form:{form.nonce.data}:{form.kind.data}" if form.nonce.data else None
    transit.add_event(shipment, form.kind.data, "courier", occurred_at=replay.recorded_at(),
                      reason=form.reason.data or "", place=form.place.data or "",
                      note=(form.note.data or "").strip(), dedupe_key=key)
    return Applied(_("Recorded: %(what)s.", what=transit.KIND_LABELS[form.kind.data]),
                   url_for("public.open_link", token=token), {"id": shipment.id})


# --- the customer's receipt -------------------------------------------------------------------------

def receipt_page(link, shipment=None, form=None, status=200, taken_on="customer"):
    """The receipt form: per-line quantity and condition, name, consent, signature."""
    shipment = shipment or load(Shipment, link.object_id, None)
    if shipment.status in lifecycle.DELIVERED:
        # Signed already (perhaps just now, from this phone's outbox, or on the courier's phone): the
        # customer's own link shows what was signed; the courier's phone only says thanks.
        if link.purpose == "delivery_receipt" and shipment.receipt is not None:
            return receipt_copy(link)
        return render("shipping/thanks.html", shipment=shipment, thanks=services.receipt_thanks(shipment))
    if shipment.status != "dispatched":
        abort(404)
    keep_offline()
    form = form or receipt_form(shipment)
    return render("shipping/sign.html", link=link, shipment=shipment, form=form,
                  rows=[(sline, entry) for sline, (_key, entry) in zip(shipment.lines, form.line.keyed())],
                  consent=services.receipt_consent_text(), note=services.delivery_note(shipment),
                  taken_on=taken_on, status_code=status)


def _receipt_target(token: str, used_copy_message: str | None = None):
    """The shipment a receipt token (the customer's) or a courier token (signing on the courier's phone) is for."""
    link = _resolve(token, used_copy_message)
    if link.purpose not in ("delivery_receipt", "courier"):
        abort(404)
    shipment = load(Shipment, link.object_id, None)
    return link, shipment, ("courier" if link.purpose == "courier" else "customer")


@bp.get("/c/<token>/receipt")
def courier_receipt(token: str):
    """The customer signs on the courier's phone (their own has no signal)."""
    link, shipment, taken_on = _receipt_target(token)
    return receipt_page(link, shipment, taken_on=taken_on)


@bp.post("/c/<token>/receipt")
@offline_capable(link=True)
def sign(token: str):
    """Store the receipt; damage or shortfall opens a return case. Works offline (signed where the
    signal dropped). Sent again through the customer's used link, it changes nothing and shows the copy."""
    already = _("This delivery is already signed for. Nothing was changed; here is what was signed.")
    link, shipment, taken_on = _receipt_target(token, already)
    if shipment.status != "dispatched":
        # Signed on the courier's phone: the customer's link still shows the copy.
        signed_elsewhere = link.purpose == "delivery_receipt" and shipment.receipt is not None
        return Conflict(N_("This shipment is no longer out for delivery; this receipt was not recorded."),
                        (lambda: _to_copy(token, already)) if signed_elsewhere else (lambda: abort(404)))
    form = receipt_form(shipment)
    valid = form.validate_on_submit()
    lines = []
    for sline, (_key, entry) in zip(shipment.lines, form.line.keyed()):
        raw = (entry.qty.raw_data[0] if entry.qty.raw_data else "").strip()
        condition = entry.condition.data or "ok"
        try:
            # more than shipped is impossible to receive from this shipment
            received = parse_decimal(raw, places=3, minimum=0, maximum=sline.quantity)
        except NumberError as error:
            # "1234,5" gets the hint about commas; anything else the range it must be in
            entry.qty.errors = [str(error) if error.kind == "separator" else
                                _("Enter the quantity received, 0 to %(max)s.", max=input_number(sline.quantity))]
            continue
        if condition not in ("ok", "damaged", "missing"):
            entry.qty.errors = [_("Choose a condition.")]
            continue
        lines.append({"line": sline, "received": received, "condition": condition, "note": entry.note.data or ""})
    stamped = [f for f in request.files.getlist(form.stamped.name) if f and f.filename]
    if valid and not form.strokes.data and not stamped:
        form.strokes.errors = [_("Sign in the box, or add a photo of the stamped delivery note.")]
        valid = False

    def page():
        return receipt_page(link, db.session.get(Shipment, shipment.id), form, status=422, taken_on=taken_on)
    if not valid or len(lines) < len(shipment.lines):
        return Invalid(form, page)
    try:
        services.sign_receipt(shipment, link if taken_on == "customer" else None, lines, form.name.data.strip(),
                              (form.relation.data or "").strip(), form.strokes.data or None, stamped,
                              request.files.getlist(form.photos.name), request.remote_addr or "",
                              request.user_agent.string or "", taken_on=taken_on,
                              signed_at=replay.recorded_at())
    except SignatureError:
        form.strokes.errors = [_("The signature could not be read. Clear the box and sign again.")]
        return Invalid(form, page, rollback=True)
    except UploadError as error:
        form.photos.errors = [str(error)]
        return Invalid(form, page, rollback=True)
    from .copy_link import receipt_copy_url
    thanks = services.receipt_thanks(shipment)
    if taken_on == "customer":
        # The customer's own phone: their copy, with the thanks on top (sent again by a reload, it
        # changes nothing and shows the copy); offline, their signed copy is offered in place.
        return Applied(thanks, data={"id": shipment.id, "download": receipt_copy_url(token) or ""},
                       page=lambda: receipt_copy(link, thanks))
    # The courier's phone only says thanks (the copy is not the courier's: its link is not theirs).
    return Applied(thanks, data={"id": shipment.id, "download": receipt_copy_url(token) or ""},
                   page=lambda: render("shipping/thanks.html", shipment=shipment, thanks=thanks))


def receipt_copy(link, thanks: str | None = None):
    """The customer's read-only copy of the signed receipt (their link, used or still live), headed by
    thanks right after signing."""
    shipment = load(Shipment, link.object_id, None)
    receipt = shipment.receipt
    if receipt is None:
        abort(404)
    return copies.render_copy(
        "shipping/receipt_copy.html", link, receipt.signed_at, shipment.order.sales_rep, thanks, shipment=shipment,
        receipt=receipt, receipt_svg=Markup(receipt.signature_svg) if receipt.signature_svg else None,
        receipt_photos=photos_of("receipt", [receipt.id])[receipt.id], photo_token=link.token,
        conditions=dict(CONDITION_CHOICES))


@bp.get("/c/<token>/receipt/photos/<int:photo_id>")
def receipt_photo(token: str, photo_id: int):
    """A photo of the customer's own signed receipt (the stamped note or the damage), through their link
    for as long as the link shows the copy."""
    link = links.find(token)
    if not link_keeps_copy(link, "delivery_receipt"):
        abort(404)
    shipment = load(Shipment, link.object_id, None)
    receipt = shipment.receipt
    item = db.session.get(Photo, photo_id)
    if (receipt is None or item is None or item.entity_type not in ("receipt", "stamped_note")
            or item.entity_id != receipt.id or not within_retention(receipt.signed_at)):
        abort(404)
    return send_photo(item)
