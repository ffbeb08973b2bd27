"""Purchasing pages: what to buy, suppliers, purchase orders, and receiving against them (a tablet
in the warehouse) or without one (customer-supplied material)."""
from datetime import timedelta
from decimal import Decimal

from flask import current_app, flash, g, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload

from .. import audit
from ..extensions import db
from ..inputs import optional_row_id
from ..forms import NumberError, options, parse_decimal
from ..htmx import render, see_other
from ..i18n import firm_today
from ..loading import load
from ..paging import keyset_page
from ..permissions import requires
from ..statemachine import TransitionError
from ..stock import Location, Lot, Material
from . import bp, services
from . import work as _work  # noqa: F401  (registers this domain's My work items)
from .forms import CancelForm, CustomerReceiveForm, OrderForm, ReceiveForm, RequestForm, SupplierForm
from .models import PurchaseOrder, PurchaseOrderLine, PurchaseRequest, Supplier

FILTERS = ("open", "late", "all")


def _refused(error: TransitionError) -> str:
    """Undo what the refused change wrote and give its message (the page is shown again)."""
    db.session.rollback()
    g.rollback = True
    return error.translated()


def _materials(customer_supplied: bool = False):
    query = db.select(Material).where(Material.active.is_(True), Material.product_id.is_(None))
    query = query.where(Material.customer_id.is_not(None) if customer_supplied else Material.customer_id.is_(None))
    return db.session.scalars(query.order_by(Material.code)).all()


def _locations():
    return db.session.scalars(db.select(Location).where(Location.active.is_(True)).order_by(Location.code)).all()


def lot_label_url(lot: Lot) -> str | None:
    """The lot's label page, where the stock pages offer one."""
    if "stock.lot_label" in current_app.view_functions:
        return url_for("stock.lot_label", lot_id=lot.id)
    return None


# --- what to buy -------------------------------------------------------------------------------

@bp.get("/")
@login_required
@requires("purchase.view")
def index():
    """What to buy: open requests by material with need, available, coming and short."""
    return render("purchasing/index.html", rows=services.what_to_buy(),
                  late=services.late_purchase_orders(firm_today()))


@bp.route("/requests/new", methods=["GET", "POST"])
@login_required
@requires("purchase.manage")
def new_request():
    """A purchase request typed by hand (merged with the material's open one)."""
    form = RequestForm()
    materials = _materials()
    form.material_id.choices = options(*[(m.id, f"{m.code} · {m.name} ({m.stock_unit})") for m in materials])
    if form.validate_on_submit():
        material = db.session.get(Material, form.material_id.data)
        services.request_shortage(material, form.quantity.data, needed_by=form.needed_by.data, user=current_user,
                                  note=form.note.data)
        flash(_("Purchase request saved."))
        return see_other(url_for("purchasing.index"))
    return render("purchasing/request_form.html", form=form, status_code=422 if form.errors else 200)


@bp.post("/requests/<int:request_id>/cancel")
@login_required
def cancel_request(request_id: int):
    """Drop an open purchase request."""
    purchase_request = load(PurchaseRequest, request_id, "purchase.manage")
    services.cancel_request(purchase_request, current_user)
    flash(_("Purchase request cancelled."))
    return see_other(url_for("purchasing.index"))


def _selected_requests() -> list[PurchaseRequest]:
    ids = sorted({i for i in (optional_row_id(v) for v in request.values.getlist("request")[:200]) if i})
    if not ids:
        return []
    return list(db.session.scalars(db.select(PurchaseRequest).where(
        PurchaseRequest.id.in_(ids), PurchaseRequest.status == "open")
        .options(joinedload(PurchaseRequest.material)).order_by(PurchaseRequest.id)))


@bp.route("/orders/new", methods=["GET", "POST"])
@login_required
@requires("purchase.manage")
def new_order():
    """A purchase order from the selected requests: supplier, expected date, a price per material."""
    chosen = _selected_requests()
    if not chosen:
        flash(_("Select the purchase requests to order."), "error")
        return see_other(url_for("purchasing.index"))
    groups: dict[int, list] = {}
    for each in chosen:
        groups.setdefault(each.material_id, []).append(each)
    suppliers = db.session.scalars(db.select(Supplier).order_by(Supplier.name)).all()
    if not suppliers:
        flash(_("Add a supplier first."), "error")
        return see_other(url_for("purchasing.new_supplier"))
    form = OrderForm()
    form.supplier_id.choices = options(*[(s.id, s.name) for s in suppliers])
    lines, prices, price_errors = [], {}, {}
    for material_id, group in groups.items():
        material = group[0].material
        total = sum((r.quantity for r in group), services.ZERO)
        raw = (request.form.get(f"price-{material_id}") or "").strip()
        default_price = (material.last_cost * material.purchase_factor).quantize(services.MICRO)
        if request.method == "POST":
            try:
                prices[material_id] = (parse_decimal(raw, places=4, minimum=0, maximum=Decimal("1000000000"))
                                       if raw else default_price)
            except NumberError as error:
                price_errors[material_id] = str(error)
        lines.append({"material": material, "requests": group, "stock": total,
                      "purchase": services.to_purchase_units(material, total), "raw": raw,
                      "default_price": default_price, "error": price_errors.get(material_id)})
    if request.method == "GET":
        suggested = services.suggested_supplier(chosen[0].material_id) or suppliers[0]
        form.supplier_id.data = suggested.id
        form.expected_date.data = firm_today() + timedelta(days=suggested.lead_days)
    elif form.validate_on_submit() and not price_errors:
        supplier = db.session.get(Supplier, form.supplier_id.data)
        try:
            order = services.create_purchase_order(supplier, form.expected_date.data, [], current_user,
                                                   requests=chosen, prices=prices, note=form.note.data)
        except TransitionError as error:
            flash(_refused(error), "error")
            return see_other(url_for("purchasing.index"))
        flash(_("Purchase order %(number)s drafted. Check it and send it.", number=order.number))
        return see_other(url_for("purchasing.order", order_id=order.id))
    return render("purchasing/order_new.html", form=form, lines=lines, chosen=chosen,
                  status_code=422 if (form.errors or price_errors) else 200)


# --- suppliers ---------------------------------------------------------------------------------

@bp.get("/suppliers")
@login_required
@requires("purchase.view")
def suppliers():
    """Suppliers by name."""
    return render("purchasing/suppliers.html",
                  suppliers=db.session.scalars(db.select(Supplier).order_by(Supplier.name)).all())


@bp.route("/suppliers/new", methods=["GET", "POST"])
@bp.route("/suppliers/<int:supplier_id>/edit", methods=["GET", "POST"])
@login_required
@requires("purchase.manage")
def new_supplier(supplier_id: int | None = None):
    """Add or change a supplier."""
    supplier = load(Supplier, supplier_id, "purchase.manage") if supplier_id else None
    form = SupplierForm(obj=supplier)
    if form.validate_on_submit():
        clash = db.session.scalar(db.select(Supplier.id).where(Supplier.name == form.name.data,
                                                               Supplier.id != (supplier_id or 0)))
        if clash:
            form.name.errors.append(_("A supplier of this name exists already."))
        else:
            if supplier is None:
                supplier = Supplier()
                db.session.add(supplier)
            form.populate_obj(supplier)
            db.session.flush()
            audit.record("supplier.saved", supplier, actor=current_user, entity_type="supplier",
                         after={"name": supplier.name, "lead_days": supplier.lead_days})
            flash(_("Supplier saved."))
            return see_other(url_for("purchasing.suppliers"))
    return render("purchasing/supplier_form.html", form=form, supplier=supplier,
                  status_code=422 if form.errors else 200)


# --- purchase orders ---------------------------------------------------------------------------

@bp.get("/orders")
@login_required
@requires("purchase.view")
def orders():
    """Purchase orders: open (the default), late, or all, a page at a time."""
    show = request.args.get("show") if request.args.get("show") in FILTERS else "open"
    today = firm_today()
    query = db.select(PurchaseOrder).options(joinedload(PurchaseOrder.supplier))
    if show == "open":
        query = query.where(PurchaseOrder.status.in_(("draft", *services.OPEN_PO)))
    elif show == "late":
        query = query.where(PurchaseOrder.status.in_(services.OPEN_PO), PurchaseOrder.expected_date < today)
    page = keyset_page(query, PurchaseOrder, PurchaseOrder.expected_date, descending=show == "all", nulls_last=True)
    return render("purchasing/orders.html", orders=page.rows, next_after=page.next_after, show=show, today=today,
                  filters=FILTERS)


def _order_options() -> tuple:
    return (joinedload(PurchaseOrder.supplier),
            selectinload(PurchaseOrder.lines).joinedload(PurchaseOrderLine.material))


def _order_context(order: PurchaseOrder) -> dict:
    lot = None
    if optional_row_id(request.args.get("lot")):
        lot = db.session.get(Lot, optional_row_id(request.args.get("lot")))
        if lot is not None and lot.material_id not in {line.material_id for line in order.lines}:
            lot = None
    return {"order": order, "today": firm_today(), "new_lot": lot, "new_lot_label": lot and lot_label_url(lot),
            "cancel_form": CancelForm(), "to_stock": services.to_stock_units}


@bp.get("/orders/<int:order_id>")
@login_required
def order(order_id: int):
    """A purchase order: its lines ordered, received and open in both units; send, cancel, receive."""
    return render("purchasing/order.html", **_order_context(load(PurchaseOrder, order_id, "purchase.view",
                                                                  options=_order_options())))


@bp.get("/orders/<int:order_id>/print")
@login_required
def order_print(order_id: int):
    """The purchase order as printed for the supplier."""
    return render("purchasing/order_print.html", **_order_context(load(PurchaseOrder, order_id, "purchase.view",
                                                                        options=_order_options())))


@bp.post("/orders/<int:order_id>/send")
@login_required
def send(order_id: int):
    """Mark a draft purchase order sent to the supplier."""
    purchase_order = load(PurchaseOrder, order_id, "purchase.manage")
    services.send(purchase_order, current_user)
    flash(_("Purchase order %(number)s is sent.", number=purchase_order.number))
    return see_other(url_for("purchasing.order", order_id=order_id))


@bp.post("/orders/<int:order_id>/cancel")
@login_required
def cancel(order_id: int):
    """Cancel a purchase order nothing was received against."""
    purchase_order = load(PurchaseOrder, order_id, "purchase.manage")
    form = CancelForm()
    form.validate_on_submit()
    services.cancel(purchase_order, current_user, form.reason.data or "")
    flash(_("Purchase order %(number)s is cancelled.", number=purchase_order.number))
    return see_other(url_for("purchasing.order", order_id=order_id))


# --- receiving ---------------------------------------------------------------------------------

def _receive_form(material: Material, form_class=ReceiveForm):
    form = form_class()
    units = [material.purchase_unit] + ([material.stock_unit] if material.stock_unit != material.purchase_unit else [])
    form.unit.choices = options(*[(u, u) for u in units])
    form.location_id.choices = options(*[(loc.id, f"{loc.code} · {loc.name}") for loc in _locations()])
    return form


@bp.route("/lines/<int:line_id>/receive", methods=["GET", "POST"])
@login_required
def receive(line_id: int):
    """Receive goods against one purchase order line (a tablet in the warehouse)."""
    # The line is locked here and its purchase order in the service: two receipts of the same line
    # at once are served in turn, the second against what the first left open.
    line = load(PurchaseOrderLine, line_id, "purchase.receive")
    material, purchase_order = line.material, line.purchase_order
    form = _receive_form(material)
    refusal = None
    if request.method == "GET" and not form.location_id.data and form.location_id.choices:
        form.location_id.data = form.location_id.choices[0].value
    if purchase_order.status not in services.OPEN_PO:
        refusal = _("Goods can only be received against a sent purchase order.")
        status = 409
    elif form.validate_on_submit():
        location = db.session.get(Location, form.location_id.data)
        try:
            move = services.receive(line, form.quantity.data, form.unit.data, location, form.lot_code.data,
                                    form.supplier_lot.data, current_user, unit_price=form.unit_price.data)
        except TransitionError as error:
            refusal, status = _refused(error), error.status
            line = db.session.get(PurchaseOrderLine, line_id)
            material, purchase_order = line.material, line.purchase_order
        else:
            flash(_("Received %(quantity)s %(unit)s into lot %(lot)s.", quantity=form.quantity.raw,
                    unit=form.unit.data, lot=move.lot.code))
            return see_other(url_for("purchasing.order", order_id=purchase_order.id, lot=move.lot_id))
    else:
        status = 422 if form.errors else 200
    if not form.location_id.choices and refusal is None:
        refusal = _("Add a stock location first.")
    return render("purchasing/receive.html", form=form, line=line, material=material, order=purchase_order,
                  refusal=refusal, open_stock=services.to_stock_units(material, line.outstanding), status_code=status)


@bp.route("/customer-material", methods=["GET", "POST"])
@login_required
@requires("purchase.receive")
def receive_customer_material():
    """Receive material the customer supplies (客供料), without a purchase order."""
    form = CustomerReceiveForm()
    materials = _materials(customer_supplied=True)
    form.material_id.choices = options(*[
        (m.id, f"{m.code} · {m.name} · {m.customer.abbreviation if m.customer else ''} ({m.stock_unit})")
        for m in materials])
    form.location_id.choices = options(*[(loc.id, f"{loc.code} · {loc.name}") for loc in _locations()])
    refusal, status, new_lot = None, 200, None
    if request.method == "GET" and optional_row_id(request.args.get("lot")):
        new_lot = db.session.get(Lot, optional_row_id(request.args.get("lot")))
    if form.validate_on_submit():
        try:
            move = services.receive_customer_material(db.session.get(Material, form.material_id.data),
                                                      form.quantity.data,
                                                      db.session.get(Location, form.location_id.data),
                                                      form.lot_code.data, form.supplier_lot.data, current_user)
        except TransitionError as error:
            refusal, status = _refused(error), error.status
        else:
            flash(_("Received %(quantity)s %(unit)s into lot %(lot)s.", quantity=form.quantity.raw,
                    unit=move.material.stock_unit, lot=move.lot.code))
            return see_other(url_for("purchasing.receive_customer_material", lot=move.lot_id))
    elif form.errors:
        status = 422
    return render("purchasing/customer_receive.html", form=form, refusal=refusal, materials=materials,
                  new_lot=new_lot, new_lot_label=new_lot and lot_label_url(new_lot), status_code=status)
