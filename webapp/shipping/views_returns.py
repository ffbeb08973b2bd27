"""A return case's page and its steps (collection, inspection, outcome, costs), and the return
courier's link."""
from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from .. import links
from ..contacts import order_contact
from ..extensions import db
from ..forms import NumberError, input_number, parse_decimal
from ..htmx import render, see_other
from ..loading import load
from ..permissions import can
from ..photos import photos_of
from ..pwa import keep_offline
from ..sync import Applied, Invalid, offline_capable, replay
from ..templating import money
from ..uploads import UploadError
from . import bp, carriers, lifecycle, returns
from .forms import (COST_KIND_CHOICES, CONDITION_CHOICES, CollectedForm, CollectionForm, CostForm, CreditForm,
                    InspectionForm, LinkReplacementForm, RefuseForm, RepairForm, replacement_form)
from .models import ReturnCase, Shipment
from .views import _resolve, _roll_back

FORMS = {"collection_form": (CollectionForm, "rc"), "collected_form": (CollectedForm, "cd"),
         "inspection_form": (InspectionForm, "in"), "link_form": (LinkReplacementForm, "lk"),
         "repair_form": (RepairForm, "rp"), "credit_form": (CreditForm, "cr"), "refuse_form": (RefuseForm, "rf"),
         "cost_form": (CostForm, "co")}


def _linkable(case: ReturnCase) -> list[Shipment]:
    """The order's shipments that may be named as the case's replacement."""
    return db.session.scalars(db.select(Shipment).where(
        Shipment.order_id == case.order_id, Shipment.id != case.shipment_id, Shipment.return_case_id.is_(None),
        Shipment.status.not_in(lifecycle.DELIVERED)).order_by(Shipment.id)).all()


def _context(case: ReturnCase, **given) -> dict:
    """Everything the case page shows, with fresh forms unless given ones carry errors."""
    forms = {name: given.get(name) or cls(prefix=prefix) for name, (cls, prefix) in FORMS.items()}
    forms["collection_form"].carrier_pick.choices = carriers.choices()
    forms["link_form"].shipment.choices = [(str(s.id), s.number) for s in _linkable(case)]
    replace_form = given.get("replace_form") or replacement_form(case)
    replace_form.carrier_pick.choices = carriers.choices()
    lines = {sline.order_line_id: sline for sline in case.shipment.lines}
    return {
        "case": case, "shipment": case.shipment, "order": case.order, "problems": returns.problem_lines(case),
        "labels": lifecycle.RETURN_LABELS, "outcomes": lifecycle.RETURN_OUTCOMES, "next_step": lifecycle.RETURN_NEXT_STEP,
        "conditions": dict(CONDITION_CHOICES), "cost_kinds": dict(COST_KIND_CHOICES),
        "pickup": returns.collection(case), "who_label": carriers.who_label,
        "courier_link": links.current("return_pickup", case.id) if case.status == "collecting" else None,
        "inspection_photos": photos_of("return_inspection", [case.id])[case.id],
        "step_due": returns.step_due(case), "credit_left": returns.credit_limit(case.order),
        "replace_form": replace_form,
        "replace_rows": [(lines[key], entry) for key, entry in replace_form.qty.keyed()],
        **forms,
    }


def _page(case: ReturnCase, status: int = 200, **forms):
    return render("shipping/return_case.html", status_code=status, **_context(case, **forms))


def _case(case_id: int, action: str = "shipment.view") -> ReturnCase:
    """The return case for the current user doing action (404/403/409 otherwise; a writer locks it)."""
    return load(ReturnCase, case_id, action, options=(joinedload(ReturnCase.shipment), joinedload(ReturnCase.order)))


def _done(case: ReturnCase, message: str):
    flash(message)
    return see_other(url_for("shipping.return_case", case_id=case.id))


@bp.get("/shipping/returns/<int:case_id>")
@login_required
def return_case(case_id: int):
    """A return case: what went wrong, its steps with owner and due time, and the next step's form."""
    return _page(_case(case_id))


@bp.post("/shipping/returns/<int:case_id>/collection")
@login_required
def book_collection(case_id: int):
    """Book the collection of the goods at the customer (a pickup with a window and a courier link)."""
    case = _case(case_id, "return_case:book_collection")
    form = CollectionForm(prefix="rc")
    form.carrier_pick.choices = carriers.choices()
    valid = form.validate_on_submit()
    if valid and form.window_from.data >= form.window_to.data:
        form.window_to.errors = [_("The pickup window must end after it starts.")]
        valid = False
    if not valid:
        return _page(case, 422, collection_form=form)
    carrier, vehicle = carriers.parse_choice(form.carrier_pick.data)
    returns.book_collection(case, current_user, form.on_date.data, form.window_from.data, form.window_to.data,
                            carrier=carrier, vehicle=vehicle, tracking_no=form.tracking_no.data or "",
                            note=(form.note.data or "").strip())
    return _done(case, _("Collection booked. Give the courier the collection link."))


@bp.post("/shipping/returns/<int:case_id>/collected")
@login_required
def collected(case_id: int):
    """The warehouse records the goods as collected (the courier did not on their link)."""
    case = _case(case_id, "return_case:collect")
    form = CollectedForm(prefix="cd")
    if not form.validate_on_submit():
        return _page(case, 422, collected_form=form)
    returns.collect(case, (form.note.data or "").strip(), user=current_user)
    return _done(case, _("Goods collected. Inspect them when they arrive."))


@bp.post("/shipping/returns/<int:case_id>/inspect")
@login_required
def inspect(case_id: int):
    """Record the inspection on arrival: quantity, condition, findings, photos."""
    case = _case(case_id, "return_case:inspect")
    form = InspectionForm(prefix="in")
    if not form.validate_on_submit():
        return _page(case, 422, inspection_form=form)
    try:
        returns.inspect(case, current_user, form.received_qty.data, form.condition.data,
                        form.findings.data.strip(), request.files.getlist(form.photos.name))
    except UploadError as error:
        _roll_back()
        form.photos.errors = [str(error)]
        return _page(db.session.get(ReturnCase, case_id), 422, inspection_form=form)
    return _done(case, _("Inspection recorded."))


@bp.post("/shipping/returns/<int:case_id>/replacement")
@login_required
def replacement(case_id: int):
    """Make the replacement shipment (it then goes through packing, the courier and the receipt)."""
    case = _case(case_id, "return_case:replace")
    if not can(current_user, "shipment.manage") and not can(current_user, "return.manage"):
        abort(403)
    form = replacement_form(case)
    form.carrier_pick.choices = carriers.choices()
    valid = form.validate_on_submit()
    lines = {sline.order_line_id: sline for sline in case.shipment.lines}
    quantities = {}
    for key, entry in form.qty.keyed():
        raw = (entry.raw_data[0] if entry.raw_data else "").strip()
        if not raw:
            continue
        try:
            quantities[key] = parse_decimal(raw, places=3, minimum=0, maximum=lines[key].quantity)
        except NumberError as error:
            entry.errors = [str(error) if error.kind == "separator" else
                            _("Enter a quantity from 0 to %(max)s.", max=input_number(lines[key].quantity))]
    if not valid or any(entry.errors for entry in form.qty):
        return _page(case, 422, replace_form=form)
    carrier, vehicle = carriers.parse_choice(form.carrier_pick.data)
    shipment = returns.create_replacement(case, current_user, quantities, carrier=carrier, vehicle=vehicle,
                                          typed_carrier=form.carrier.data or "",
                                          tracking_no=form.tracking_no.data or "",
                                          eta=form.eta.data, cost=form.cost.data)
    flash(_("Replacement %(number)s created. Check the packing list.", number=shipment.number))
    return see_other(url_for("shipping.detail", shipment_id=shipment.id))


@bp.post("/shipping/returns/<int:case_id>/link-replacement")
@login_required
def link_replacement(case_id: int):
    """Name a shipment already made for the order as the case's replacement."""
    case = _case(case_id, "return_case:replace")
    form = LinkReplacementForm(prefix="lk")
    form.shipment.choices = [(str(s.id), s.number) for s in _linkable(case)]
    raw = (form.shipment.data or "").strip()
    if not form.validate_on_submit() or not raw.isdigit() or len(raw) > 9:
        form.shipment.errors = [_("Choose a shipment from the list.")]
        return _page(case, 422, link_form=form)
    shipment = db.session.get(Shipment, int(raw))
    if shipment is None:
        form.shipment.errors = [_("Choose a shipment from the list.")]
        return _page(case, 422, link_form=form)
    returns.link_replacement(case, shipment, current_user)  # 409: another order's, delivered, the original
    return _done(case, _("Shipment %(number)s is this case's replacement.", number=shipment.number))


@bp.post("/shipping/returns/<int:case_id>/repair")
@login_required
def repair(case_id: int):
    """Close the case as repaired."""
    case = _case(case_id, "return_case:repair")
    form = RepairForm(prefix="rp")
    if not form.validate_on_submit():
        return _page(case, 422, repair_form=form)
    returns.repair(case, current_user, form.note.data.strip())
    return _done(case, _("Return case closed: repaired."))


@bp.post("/shipping/returns/<int:case_id>/credit")
@login_required
def credit(case_id: int):
    """Credit the customer on the order (never more than was paid or ordered, less earlier credits)."""
    case = _case(case_id, "return_case:credit")
    form = CreditForm(prefix="cr")
    valid = form.validate_on_submit()
    left = returns.credit_limit(case.order)
    if valid and form.amount.data > left:
        form.amount.errors = [_("A credit cannot be larger than what was paid or ordered; at most %(left)s is left "
                                "to credit on this order.", left=money(left, case.order.currency))]
        valid = False
    if not valid:
        return _page(case, 422, credit_form=form)
    returns.credit(case, current_user, form.amount.data, form.note.data.strip())
    return _done(case, _("Credit recorded on the order; the return case is closed."))


@bp.post("/shipping/returns/<int:case_id>/refuse")
@login_required
def refuse(case_id: int):
    """Refuse the return with a reason the customer reads."""
    case = _case(case_id, "return_case:refuse")
    form = RefuseForm(prefix="rf")
    if not form.validate_on_submit():
        return _page(case, 422, refuse_form=form)
    returns.refuse(case, current_user, form.reason.data.strip())
    return _done(case, _("Return refused; the customer sees the reason on their page."))


@bp.post("/shipping/returns/<int:case_id>/costs")
@login_required
def add_cost(case_id: int):
    """Record a cost of the case (freight, scrap, rework)."""
    case = _case(case_id, "return.cost")
    form = CostForm(prefix="co")
    if not form.validate_on_submit():
        return _page(case, 422, cost_form=form)
    returns.add_cost(case, current_user, form.kind.data, form.amount.data, form.note.data or "")
    return _done(case, _("Cost recorded."))


# --- the return courier's link -----------------------------------------------------------------

def return_courier_page(link, status: int = 200, form=None):
    """What the return's courier sees: what to collect (models and quantities, no prices), where and
    when; the customer's contact only until the goods are collected."""
    case = load(ReturnCase, link.object_id, None)
    keep_offline()  # the courier opens it at the customer's door, where the signal may be gone
    contact = order_contact(case.order) if case.status == "collecting" else None
    return render("shipping/return_courier.html", link=link, case=case, problems=returns.problem_lines(case),
                  pickup=returns.collection(case), who_label=carriers.who_label, contact=contact,
                  form=form or CollectedForm(prefix="cd"), labels=lifecycle.RETURN_LABELS, status_code=status)


@bp.post("/c/<token>/collected")
@offline_capable(link=True)
def courier_collected(token: str):
    """The return's courier confirms the goods were collected. Works offline (confirmed where the
    signal dropped): a replay after the case moved on is kept as a conflict for the office."""
    link = _resolve(token)
    if link.purpose != "return_pickup":
        abort(404)
    case = load(ReturnCase, link.object_id, None, lock=True)
    form = CollectedForm(prefix="cd")
    if not form.validate_on_submit():
        return Invalid(form, lambda: return_courier_page(link, 422, form))
    returns.collect(case, (form.note.data or "").strip(), courier_link=link,  # 409 once collected
                    at=replay.recorded_at())
    return Applied(_("Collection confirmed. Thank you!"), url_for("public.open_link", token=token), {"id": case.id})
