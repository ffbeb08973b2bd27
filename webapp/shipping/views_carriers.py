"""The carriers page (carriers with their records, own vehicles) and a shipment's carrier and pickup."""
from flask import flash, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import audit
from ..auth import User
from ..extensions import db
from ..htmx import render, see_other
from ..loading import load
from ..permissions import can, requires
from . import bp, carriers
from ..statemachine import N_, TransitionError
from .forms import CarrierForm, CarrierPickForm, VehicleForm, carrier_form
from .views import _detail_context
from .models import Carrier, Shipment, Vehicle


def _couriers() -> list[tuple[str, str]]:
    """The courier users a vehicle's driver may be, as choices."""
    people = db.session.scalars(db.select(User).where(User.active.is_(True), User.roles_csv.like("%courier%"))
                                .order_by(User.name)).all()
    return [("", _("— typed below —"))] + [(str(p.id), p.name) for p in people if "courier" in p.roles]


def _page(carrier_form=None, vehicle_form=None, edit_forms=None, status=200):
    """The carriers page: each carrier with its record, the own vehicles, and (for those who keep the
    list) the forms to add and change them."""
    rows = db.session.scalars(db.select(Carrier).order_by(Carrier.active.desc(), Carrier.name)).all()
    vehicles = db.session.scalars(db.select(Vehicle).order_by(Vehicle.active.desc(), Vehicle.plate)).all()
    edit_forms = edit_forms or {}
    forms = {}
    if can(current_user, "carrier.manage"):
        for row in rows:
            forms[f"c{row.id}"] = edit_forms.get(f"c{row.id}") or CarrierForm(prefix=f"c{row.id}", obj=row)
        for row in vehicles:
            form = edit_forms.get(f"v{row.id}") or VehicleForm(prefix=f"v{row.id}", obj=row,
                                                               driver=str(row.driver_id or ""))
            form.driver.choices = _couriers()
            forms[f"v{row.id}"] = form
    vehicle_form = vehicle_form or VehicleForm(prefix="nv")
    vehicle_form.driver.choices = _couriers()
    return render("shipping/carriers.html", carriers=rows, vehicles=vehicles, records=carriers.records(),
                  percent=carriers.percent, carrier_form=carrier_form or CarrierForm(prefix="nc"),
                  vehicle_form=vehicle_form, forms=forms, status_code=status)


@bp.get("/shipping/carriers")
@login_required
@requires("shipment.view")
def carriers_page():
    """The firm's carriers with their on-time and damage rates, and its own vehicles."""
    return _page()


def _save_carrier(row: Carrier, form: CarrierForm) -> bool:
    """Copy the form onto row; False (with the form's message) when the name is taken."""
    taken = db.session.scalar(db.select(Carrier.id).where(Carrier.name == form.name.data, Carrier.id != (row.id or 0)))
    if taken is not None:
        form.name.errors = [_("A carrier of that name is already on the list.")]
        return False
    row.name, row.code, row.phone, row.active = form.name.data, form.code.data or "", form.phone.data or "", \
        bool(form.active.data)
    db.session.add(row)
    db.session.flush()
    audit.record("carrier.saved", row, actor=current_user,
                 after={"name": row.name, "code": row.code, "active": row.active})
    return True


@bp.post("/shipping/carriers/new")
@login_required
@requires("carrier.manage")
def carrier_new():
    """Add a carrier to the list."""
    form = CarrierForm(prefix="nc")
    if not form.validate_on_submit() or not _save_carrier(Carrier(), form):
        return _page(carrier_form=form, status=422)
    flash(_("Carrier saved."))
    return see_other(url_for("shipping.carriers_page"))


@bp.post("/shipping/carriers/<int:carrier_id>")
@login_required
@requires("carrier.manage")
def carrier_edit(carrier_id: int):
    """Change a carrier (name, code, phone, whether it is still used)."""
    row = load(Carrier, carrier_id, "carrier.manage")
    form = CarrierForm(prefix=f"c{row.id}")
    if not form.validate_on_submit() or not _save_carrier(row, form):
        db.session.rollback()
        return _page(edit_forms={f"c{carrier_id}": form}, status=422)
    flash(_("Carrier saved."))
    return see_other(url_for("shipping.carriers_page"))


def _save_vehicle(row: Vehicle, form: VehicleForm) -> bool:
    """Copy the form onto row; False (with the form's message) for a taken plate or an unknown driver."""
    taken = db.session.scalar(db.select(Vehicle.id).where(Vehicle.plate == form.plate.data,
                                                          Vehicle.id != (row.id or 0)))
    if taken is not None:
        form.plate.errors = [_("A vehicle with that plate is already on the list.")]
        return False
    driver_id = None
    raw = (form.driver.data or "").strip()
    if raw:
        driver = db.session.get(User, int(raw)) if raw.isdigit() and len(raw) < 10 else None
        if driver is None or "courier" not in driver.roles:
            form.driver.errors = [_("Choose a courier from the list.")]
            return False
        driver_id = driver.id
    row.plate, row.driver_id, row.driver_name = form.plate.data, driver_id, form.driver_name.data or ""
    row.phone, row.active = form.phone.data or "", bool(form.active.data)
    db.session.add(row)
    db.session.flush()
    audit.record("vehicle.saved", row, actor=current_user, after={"plate": row.plate, "driver": row.driver_id,
                                                                  "active": row.active})
    return True


@bp.post("/shipping/vehicles/new")
@login_required
@requires("carrier.manage")
def vehicle_new():
    """Add an own vehicle."""
    form = VehicleForm(prefix="nv")
    form.driver.choices = _couriers()
    if not form.validate_on_submit() or not _save_vehicle(Vehicle(), form):
        return _page(vehicle_form=form, status=422)
    flash(_("Vehicle saved."))
    return see_other(url_for("shipping.carriers_page"))


@bp.post("/shipping/vehicles/<int:vehicle_id>")
@login_required
@requires("carrier.manage")
def vehicle_edit(vehicle_id: int):
    """Change an own vehicle."""
    row = load(Vehicle, vehicle_id, "carrier.manage")
    form = VehicleForm(prefix=f"v{row.id}")
    form.driver.choices = _couriers()
    if not form.validate_on_submit() or not _save_vehicle(row, form):
        db.session.rollback()
        return _page(edit_forms={f"v{vehicle_id}": form}, status=422)
    flash(_("Vehicle saved."))
    return see_other(url_for("shipping.carriers_page"))


@bp.post("/shipping/<int:shipment_id>/carrier")
@login_required
def shipment_carrier(shipment_id: int):
    """Set who carries the shipment and its tracking number, and book its pickup (a date and a window)."""
    shipment = load(Shipment, shipment_id, "shipment.manage")
    form = carrier_form(shipment, CarrierPickForm(prefix="cp"))
    valid = form.validate_on_submit()
    window = (form.pickup_on.data, form.pickup_from.data, form.pickup_to.data)
    if valid and any(window) and not all(window):
        form.pickup_on.errors = [_("Give the pickup's date and both ends of its window.")]
        valid = False
    if valid and all(window) and window[1] >= window[2]:
        form.pickup_to.errors = [_("The pickup window must end after it starts.")]
        valid = False
    if not valid:
        return render("shipping/detail.html", status_code=422, **_detail_context(shipment, carrier_form=form))
    carrier, vehicle = carriers.parse_choice(form.carrier_pick.data)
    carriers.set_carrier(shipment, carrier, vehicle, form.carrier.data or "", form.tracking_no.data or "", current_user)
    if all(window):
        if shipment.status not in ("packing", "packed"):
            raise TransitionError(409, N_("The goods have left: no pickup is booked for them any more."))
        carriers.book_pickup(current_user, *window, shipment=shipment, carrier=carrier, vehicle=vehicle)
        flash(_("Pickup booked."))
    else:
        flash(_("Carrier saved."))
    return see_other(url_for("shipping.detail", shipment_id=shipment.id))
