"""The in-app scanner: a page for continuous scanning, and what a scanned code does."""
from flask import abort, flash, g, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import links
from ..auth import login_or_floor_required
from ..htmx import render, see_other
from ..permissions import can, require
from ..shipping import Shipment, packing
from ..statemachine import TransitionError
from ..pwa import keep_offline
from ..sync import Conflict, Refused
from ..sync import offline_capable
from ..templating import quantity
from . import bp, services
from .forms import ScanForm


def wants_json() -> bool:
    """Whether the scanner's fetch asked (the plain form gets a page or a redirect)."""
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def progress(shipment: Shipment) -> str:
    """How far the packing list is ticked off, as a sentence."""
    done = sum(1 for line in shipment.lines if line.checked_at is not None)
    return _("%(done)s of %(total)s lines checked", done=done, total=len(shipment.lines))


def line_state(line, counted) -> str:
    """What a packing-list row says: checked, or how many of it are counted so far."""
    if line.checked_at is not None:
        return _("checked")
    if counted:
        return _("%(counted)s of %(quantity)s counted", counted=quantity(counted), quantity=quantity(line.quantity))
    return _("to check")


def scan_page(form: ScanForm, shipment: Shipment | None, status: int = 200, result: dict | None = None):
    """Render the scanner page (the camera, the manual form and what was scanned)."""
    # The decoder is WebAssembly: this response alone allows compiling it ('wasm-unsafe-eval').
    g.csp_wasm = True
    counted = packing.packed(shipment) if shipment else {}
    return render("scan/scan.html", form=form, shipment=shipment, result=result, public_base=links.public_base(),
                  progress=progress(shipment) if shipment else "", status_code=status, counted=counted,
                  line_states={line.id: line_state(line, counted.get(line.id)) for line in shipment.lines}
                  if shipment else {})


@bp.get("/scan")
@login_or_floor_required
def scan():
    """The scanner page; ?shipment=<id> ticks off that shipment's packing list by product barcode."""
    raw, shipment = request.args.get("shipment", ""), None
    if raw:
        # Permission first: someone who may not pack learns nothing about which shipments exist.
        require("shipment.manage")
        shipment = services.load_shipment(raw)
        if shipment is None:
            abort(404)
    keep_offline()
    return scan_page(ScanForm(shipment=shipment.id if shipment else ""), shipment)


def refuse(status: int, message: str, form: ScanForm, shipment: Shipment | None):
    """A scan that did nothing: JSON for the camera, the page with the typed code kept for the form.
    A packing scan replayed from the outbox that can no longer apply is kept as a conflict."""
    def answer():
        if wants_json():
            return jsonify(action="error", message=message), status
        form.code.errors = [message]
        return scan_page(form, shipment, status=status)
    if status == 409 and request.headers.get("X-Attempt", "1") != "1":
        # Sent later from the outbox: kept as a conflict for the office. A first, live attempt is
        # answered on the scanner at once, where the person sees it.
        return Conflict(message, answer)
    return Refused(status, message, answer, json=answer)


@bp.post("/scan/resolve")
@offline_capable
@login_or_floor_required
def resolve():
    """Act on a scanned or typed code: open this app's own link, tick off the product on the packing
    list, or show the product; unknown codes are a 404 with the code named."""
    form = ScanForm()
    if form.shipment.data and not can(current_user, "shipment.manage"):
        return refuse(403, _("You are not allowed to do this."), form, None)
    shipment = services.load_shipment(form.shipment.data, lock=True) if form.shipment.data else None
    if form.shipment.data and shipment is None:
        return refuse(404, _("This shipment does not exist."), form, None)
    if not form.validate():
        return refuse(422, " ".join(str(e) for e in form.code.errors) or _("Some of what was sent is not valid."),
                      form, shipment)
    code = form.code.data
    if shipment is not None and packing.is_carton_code(code):
        if not current_user.is_authenticated:
            return refuse(403, _("Switch in first: scan your badge, or enter your employee number and PIN."),
                          form, shipment)
        return count_carton(shipment, code, form)
    path = services.own_path(code)
    if path is not None:
        return jsonify(action="go", url=path) if wants_json() else see_other(path)
    if not current_user.is_authenticated:
        # A floor phone with nobody switched in: its scanner opens badges and labels, nothing else.
        return refuse(403, _("Switch in first: scan your badge, or enter your employee number and PIN."),
                      form, shipment)
    product = services.find_product(code)
    if product is None:
        return refuse(404, _("Unknown code: %(code)s", code=code), form, shipment)
    if shipment is None:
        return show_product(product, form)
    return check_product(shipment, product, form)


def show_product(product, form: ScanForm):
    """Outside packing: what the product is and how many are on hand (no prices)."""
    message = _("%(model)s · %(name)s: %(on_hand)s %(unit)s on hand", model=product.model, name=product.name,
                on_hand=quantity(product.on_hand), unit=product.unit)
    result = {"model": product.model, "name": product.name, "on_hand": quantity(product.on_hand),
              "unit": product.unit, "message": message}
    if wants_json():
        return jsonify(action="product", product=result, message=message)
    return scan_page(form, None, result=result)


def check_product(shipment: Shipment, product, form: ScanForm):
    """Packing: an item's barcode counts one of its line (ticked when the line is full)."""
    try:
        counted = packing.count_item(shipment, product, current_user)
    except packing.PackingProblem as problem:
        return refuse(problem.status, problem.message, form, shipment)
    except TransitionError as error:
        return refuse(error.status, _(error.message), form, shipment)
    return counted_answer(shipment, counted, form)


def count_carton(shipment: Shipment, code: str, form: ScanForm):
    """Packing: a carton's label counts its whole content from its lot, once."""
    try:
        carton = packing.carton_from_code(code, lock=True)
        counted = packing.count_carton(shipment, carton, current_user)
    except packing.PackingProblem as problem:
        return refuse(problem.status, problem.message, form, shipment)
    except TransitionError as error:
        return refuse(error.status, _(error.message), form, shipment)
    return counted_answer(shipment, counted, form, carton=carton)


def counted_answer(shipment: Shipment, counted: dict, form: ScanForm, carton=None):
    """What a counted scan answers: the line's count and lot, and how far the list is."""
    line, lot = counted["line"], counted["lot"]
    what = _("%(model)s × %(qty)s %(unit)s", model=line.order_line.model,
             qty=quantity(carton.quantity if carton is not None else 1), unit=line.order_line.unit)
    if carton is not None:
        what = _("Carton %(number)s: %(what)s", number=carton.number, what=what)
    if lot is not None:
        what = _("%(what)s, lot %(lot)s", what=what, lot=lot.code)
    message = _("Counted: %(what)s (%(counted)s of %(quantity)s)", what=what, counted=quantity(counted["counted"]),
                quantity=quantity(line.quantity))
    if line.checked_at is not None:
        message = _("%(message)s. Line complete.", message=message)
    if wants_json():
        return jsonify(action="checked", message=message, progress=progress(shipment),
                       line={"id": line.id, "model": line.order_line.model, "quantity": quantity(line.quantity),
                             "counted": quantity(counted["counted"]), "checked": line.checked_at is not None,
                             "state": line_state(line, counted["counted"]), "lot": lot.code if lot else ""})
    flash(message)
    return see_other(url_for("scan.scan", shipment=shipment.id))
