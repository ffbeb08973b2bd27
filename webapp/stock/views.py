"""The warehouse's pages: materials and their lots, locations, the BOM editor, a lot's page with its
trace and label, manual movements, and stocktakes (盘点)."""
from decimal import Decimal
from xml.sax.saxutils import escape

from flask import Response, abort, flash, g, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy.orm import joinedload, selectinload

from .. import audit, links, qr, signals
from ..customers import Customer, Product
from ..extensions import db
from ..inputs import ID_MAX, bounded_int
from ..forms import NumberError, options, parse_decimal
from ..htmx import render, see_other
from ..loading import load
from ..paging import keyset_page
from ..permissions import can, requires
from ..statemachine import N_, TransitionError
from . import bp, ledger, products, trace
from . import stocktake as counting
from .stocktake import plain
from . import work as _work  # noqa: F401  (registers this domain's My work items)
from .bom import BomInput, current_bom, save_bom
from .forms import (AddLotForm, AdjustForm, BomNoteForm, LocationForm, MaterialForm, RelocateForm, ScrapForm,
                    StocktakeStartForm)
from .models import (BomVersion, Location, Lot, Material, Reservation, StockBalance, StockMove, Stocktake,
                     StocktakeLine)

ZERO = Decimal("0")


def _refused(error: TransitionError) -> str:
    """A service's refusal: nothing of the request is kept; its message, translated, for the form."""
    g.rollback = True
    db.session.rollback()
    return error.translated()


def _sums(column, material_ids: list[int], *where) -> dict[int, Decimal]:
    """SUM(column) per material for the listed materials (one query)."""
    if not material_ids:
        return {}
    query = (db.select(column.table.c.material_id, db.func.sum(column)).where(
        column.table.c.material_id.in_(material_ids), *where).group_by(column.table.c.material_id))
    return {mid: Decimal(total or 0) for mid, total in db.session.execute(query)}


# --- materials ------------------------------------------------------------------------------------

@bp.get("/")
@login_required
@requires("stock.view")
def index():
    """Materials with on hand, reserved and available (filter by code or name), a page at a time."""
    text = (request.args.get("q") or "").strip()[:100]
    query = db.select(Material).options(joinedload(Material.customer))
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(db.or_(Material.code.ilike(pattern, escape="\\"), Material.name.ilike(pattern, escape="\\")))
    page = keyset_page(query, Material, Material.code)
    ids = [m.id for m in page.rows]
    on_hand = _sums(StockBalance.on_hand, ids)
    usable = _sums(StockBalance.on_hand, ids, StockBalance.lot_id.in_(
        db.select(Lot.id).where(Lot.status == "available", Lot.work_order_id.is_(None))))
    # Two sums, each typed (scaled) as its column: a sum of a difference would come back unscaled.
    open_reservation = (Reservation.closed.is_(False), Reservation.quantity > Reservation.issued)
    held = _sums(Reservation.quantity, ids, *open_reservation)
    issued = _sums(Reservation.issued, ids, *open_reservation)
    reserved = {mid: held[mid] - issued.get(mid, ZERO) for mid in held}
    rows = [{"material": m, "on_hand": on_hand.get(m.id, ZERO), "reserved": reserved.get(m.id, ZERO),
             "available": usable.get(m.id, ZERO) - reserved.get(m.id, ZERO)} for m in page.rows]
    return render("stock/index.html", rows=rows, q=text, next_after=page.next_after,
                  prices=can(current_user, "stock.prices"))


@bp.get("/materials/<int:material_id>")
@login_required
@requires("stock.view")
def material(material_id: int):
    """A material: its lots with their balance per location, its valuation, its movements (newest first)."""
    item = load(Material, material_id, "stock.view", options=[joinedload(Material.customer),
                                                             joinedload(Material.product)])
    balances = db.session.scalars(
        db.select(StockBalance).join(Lot, Lot.id == StockBalance.lot_id)
        .where(StockBalance.material_id == item.id, StockBalance.on_hand > 0)
        .options(joinedload(StockBalance.lot), joinedload(StockBalance.location))
        .order_by(Lot.created_at, Lot.id, StockBalance.location_id)).all()
    page = keyset_page(db.select(StockMove).where(StockMove.material_id == item.id)
                       .options(joinedload(StockMove.lot), joinedload(StockMove.location), joinedload(StockMove.user)),
                       StockMove, StockMove.at, descending=True, size=50)
    return render("stock/material.html", material=item, balances=balances, moves=page.rows,
                  next_after=page.next_after, on_hand=ledger.on_hand(item.id),
                  reserved=ledger.reserved(item.id), available=ledger.available(item.id),
                  prices=can(current_user, "stock.prices"))


def _material_choices(form: MaterialForm) -> None:
    form.customer_id.choices = options((0, _("No: the firm's own")), *[
        (c.id, f"{c.abbreviation} · {c.name}") for c in db.session.scalars(db.select(Customer).order_by(Customer.abbreviation))])
    form.product_id.choices = options((0, "—"), *[
        (p.id, f"{p.model} · {p.name}") for p in db.session.scalars(db.select(Product).order_by(Product.model))])


def _has_moves(item: Material | None) -> bool:
    return item is not None and db.session.scalar(
        db.select(StockMove.id).where(StockMove.material_id == item.id).limit(1)) is not None


@bp.route("/materials/new", methods=["GET", "POST"])
@bp.route("/materials/<int:material_id>/edit", methods=["GET", "POST"])
@login_required
@requires("material.manage")
def edit_material(material_id: int | None = None):
    """Create or edit a material: units and their conversion, customer-supplied, inspection, product."""
    item = load(Material, material_id, "material.manage") if material_id else None
    form = MaterialForm(obj=item)
    _material_choices(form)
    if request.method == "GET":
        form.customer_id.data = (item.customer_id if item else None) or 0
        form.product_id.data = (item.product_id if item else None) or 0
        if item is None:
            form.active.data = True
    valid = form.validate_on_submit()
    if valid:
        _check_material(form, item)
    if valid and not any(f.errors for f in form):
        item = item or Material()
        before = {"stock_unit": item.stock_unit, "purchase_factor": str(item.purchase_factor or "")}
        form.populate_obj(item)
        item.code, item.name = item.code.strip(), item.name.strip()
        item.customer_id = form.customer_id.data or None
        linked = form.product_id.data and form.product_id.data != (item.product_id if item.id else None)
        item.product_id = form.product_id.data or None
        db.session.add(item)
        db.session.flush()
        if linked:  # the product's shelf figure from before the ledger becomes this material's opening lot
            products.open_legacy_stock(item, db.session.get(Product, item.product_id))
        audit.record("material.saved", item, actor=current_user, entity_type="material", before=before,
                     after={"code": item.code, "stock_unit": item.stock_unit,
                            "purchase_factor": str(item.purchase_factor)})
        flash(_("Material saved."))
        return see_other(url_for("stock.material", material_id=item.id))
    return render("stock/material_edit.html", form=form, material=item, status_code=422 if form.errors else 200)


def _check_material(form: MaterialForm, item: Material | None) -> None:
    """What the fields alone cannot say: a code or product taken, a unit or owner that stock already
    carries (its quantities and value would change meaning)."""
    code = form.code.data.strip()
    own = item.id if item else 0
    if db.session.scalar(db.select(Material.id).where(Material.code == code, Material.id != own)):
        form.code.errors.append(_("Another material already has this code."))
    if form.customer_id.data and not db.session.get(Customer, form.customer_id.data):
        form.customer_id.errors.append(_("Choose a customer from the list."))
    if form.product_id.data:
        if not db.session.get(Product, form.product_id.data):
            form.product_id.errors.append(_("Choose a product from the list."))
        elif db.session.scalar(db.select(Material.id).where(Material.product_id == form.product_id.data,
                                                            Material.id != own)):
            form.product_id.errors.append(_("Another material already is this product's stock."))
    if _has_moves(item):
        if form.stock_unit.data.strip() != item.stock_unit:
            form.stock_unit.errors.append(_("Stock was already counted in %(unit)s; the stock unit can no longer "
                                            "change (make a new material).", unit=item.stock_unit))
        if (form.customer_id.data or None) != item.customer_id:
            form.customer_id.errors.append(_("This material already has movements; whose it is can no longer change."))
        if (form.product_id.data or None) != item.product_id:
            form.product_id.errors.append(_("This material already has movements; the product it stocks can no "
                                            "longer change."))
    if item is not None and _on_order(item) and (
            form.purchase_unit.data.strip() != item.purchase_unit or form.purchase_factor.data != item.purchase_factor):
        form.purchase_factor.errors.append(_("Open purchase orders are in %(unit)s: the purchase unit and its "
                                             "conversion can change once they are received or cancelled.",
                                             unit=item.purchase_unit))


def _on_order(item: Material) -> bool:
    """Whether open documents (purchase orders still to receive) count the material in its purchase unit."""
    return any(answer for _receiver, answer in signals.material_on_order.send(item))


# --- locations ------------------------------------------------------------------------------------

@bp.route("/locations", methods=["GET", "POST"])
@login_required
@requires("stock.view")
def locations():
    """The locations, and a new one."""
    form = LocationForm()
    if request.method == "POST":
        if not can(current_user, "material.manage"):
            abort(403)
        if form.validate_on_submit():
            code = form.code.data.strip()
            if db.session.scalar(db.select(Location.id).where(Location.code == code)):
                form.code.errors.append(_("Another location already has this code."))
            else:
                db.session.add(Location(code=code, name=form.name.data.strip()))
                flash(_("Location saved."))
                return see_other(url_for("stock.locations"))
    rows = db.session.scalars(db.select(Location).order_by(Location.code)).all()
    return render("stock/locations.html", locations=rows, form=form, status_code=422 if form.errors else 200)


# --- bills of materials ---------------------------------------------------------------------------

BLANK_ROWS = 3


# Quotes too: the label's texts go into SVG attributes as well as its text.
ATTRIBUTE_ENTITIES = {'"': "&quot;", "'": "&#39;"}

# The largest quantity per unit or price a Fine column (millionths in 64 bits) is asked to keep.
FINE_MOST = Decimal("1000000000")


def _whole(raw, maximum: int) -> int:
    """A whole number from the request within 1..maximum, or 0 (missing, "²", a megabyte of digits)."""
    try:
        return bounded_int(raw, 1, maximum)
    except ValueError:
        return 0


class BomRow:
    """One row of the BOM editor as typed (what comes back on an error)."""

    def __init__(self, material_id: int = 0, quantity: str = "", scrap: str = "", error: str = ""):
        self.material_id, self.quantity, self.scrap, self.error = material_id, quantity, scrap, error


def _read_rows() -> tuple[list[BomRow], list[BomInput]]:
    """The rows posted (line-<n>-material/-qty/-scrap) and the lines they make; a row left blank is dropped."""
    rows, lines = [], []
    count = _whole(request.form.get("rows"), 200)
    for n in range(count):
        row = BomRow(_whole(request.form.get(f"line-{n}-material"), ID_MAX),
                     request.form.get(f"line-{n}-qty", "").strip()[:40],
                     request.form.get(f"line-{n}-scrap", "").strip()[:40])
        if not row.material_id and not row.quantity:
            continue
        rows.append(row)
        if not row.material_id:
            row.error = _("Choose the material.")
            continue
        if not row.quantity:
            row.error = _("Enter the quantity per unit.")
            continue
        try:
            quantity = parse_decimal(row.quantity, places=6, minimum=0, maximum=FINE_MOST)
            scrap = parse_decimal(row.scrap, places=2, minimum=0, maximum=Decimal("100")) if row.scrap else ZERO
        except NumberError as error:
            row.error = str(error)
            continue
        lines.append(BomInput(row.material_id, quantity, scrap))
    return rows, lines


@bp.route("/bom/<int:product_id>", methods=["GET", "POST"])
@login_required
@requires("stock.view")
def bom(product_id: int):
    """A product's bill of materials: the current version's lines to edit (saving makes a new
    version), and the versions kept."""
    product = load(Product, product_id, "stock.view")
    current = current_bom(product.id)
    form = BomNoteForm()
    message, status, blank = None, 200, BLANK_ROWS
    if request.method == "POST":
        if not can(current_user, "material.manage"):
            abort(403)
        rows, lines = _read_rows()
        if "more" in request.form:  # more empty rows; nothing is saved, what was typed stays
            blank += 5
            for row in rows:
                row.error = ""
        elif form.validate_on_submit() and not any(r.error for r in rows):
            try:
                version = save_bom(product, lines, current_user, note=(form.note.data or "").strip())
            except TransitionError as error:
                message, status = _refused(error), error.status
                product = db.session.get(Product, product_id)
                current = current_bom(product_id)
            else:
                flash(_("Bill of materials saved as version %(n)s.", n=version.version))
                return see_other(url_for("stock.bom", product_id=product.id))
        else:
            status = 422
    else:
        rows = [BomRow(line.material_id, plain(line.quantity_per), plain(line.scrap_percent))
                for line in (current.lines if current else [])]
    shown = _whole(request.args.get("version"), 99999)
    old = None
    if shown:
        old = db.session.scalar(db.select(BomVersion).where(BomVersion.product_id == product.id,
                                                             BomVersion.version == shown))
    rows = rows + [BomRow() for _n in range(min(blank, 100))]
    own = db.session.scalar(db.select(Material.id).where(Material.product_id == product.id))
    materials = db.session.scalars(db.select(Material).where(Material.active.is_(True), Material.id != (own or 0))
                                   .order_by(Material.code)).all()
    versions = db.session.scalars(db.select(BomVersion).where(BomVersion.product_id == product.id)
                                  .options(joinedload(BomVersion.created_by)).order_by(BomVersion.version.desc())).all()
    return render("stock/bom.html", product=product, current=current, rows=rows, materials=materials,
                  versions=versions, old=old, form=form, message=message, status_code=status)


# --- lots -----------------------------------------------------------------------------------------

def _lot_context(lot: Lot, **forms) -> dict:
    """What a lot's page shows: balances, movements, trace, and the warehouse's forms."""
    balances = [b for b in db.session.scalars(db.select(StockBalance).where(StockBalance.lot_id == lot.id)
                                              .options(joinedload(StockBalance.location))
                                              .order_by(StockBalance.location_id)) if b.on_hand > 0]
    page = keyset_page(db.select(StockMove).where(StockMove.lot_id == lot.id)
                       .options(joinedload(StockMove.location), joinedload(StockMove.user)),
                       StockMove, StockMove.at, descending=True, size=50)
    here = options(*[(b.location_id, f"{b.location.code} · {b.location.name} ({_fine(b.on_hand)})") for b in balances])
    every = options(*[(loc.id, f"{loc.code} · {loc.name}") for loc in
                      db.session.scalars(db.select(Location).where(Location.active.is_(True)).order_by(Location.code))])
    scrap_form = forms.get("scrap_form") or ScrapForm(prefix="s")
    adjust_form = forms.get("adjust_form") or AdjustForm(prefix="a")
    relocate_form = forms.get("relocate_form") or RelocateForm(prefix="m")
    scrap_form.location_id.choices = here
    relocate_form.location_id.choices = here
    adjust_form.location_id.choices = every
    relocate_form.to_location_id.choices = every
    return {"lot": lot, "balances": balances, "moves": page.rows, "next_after": page.next_after,
            "forward": trace.forward(lot), "receipts": trace.receipts(lot), "backward": trace.backward(lot),
            "scrap_form": scrap_form, "adjust_form": adjust_form, "relocate_form": relocate_form,
            "message": forms.get("message"), "prices": can(current_user, "stock.prices")}


def _fine(value) -> str:
    return plain(Decimal(value))


def get_lot(lot_id: int, action: str = "stock.view") -> Lot:
    """The lot for the current user doing action (404/403; writers lock it)."""
    return load(Lot, lot_id, action, options=[joinedload(Lot.material).joinedload(Material.customer)])


@bp.get("/lots/<int:lot_id>")
@login_required
@requires("stock.view")
def lot(lot_id: int):
    """A lot: status, balance per location, movements, where it went and where it came from."""
    return render("stock/lot.html", **_lot_context(get_lot(lot_id)))


@bp.get("/l/<token>")
@login_required
@requires("stock.view")
def lot_by_token(token: str):
    """The page a lot label's QR opens (the lot's page)."""
    item = load(Lot, None, "stock.view", where=Lot.token == token[:40])
    return render("stock/lot.html", **_lot_context(item))


def label_url(item: Lot) -> str:
    """The absolute URL in a lot label's QR."""
    return links.absolute(url_for("stock.lot_by_token", token=item.token))


def _label_svg(item: Lot) -> str:
    """A 70 × 40 mm label: the QR with material code, name and supplier lot beside it, the lot code
    below in bold (what people read when the code will not scan)."""
    width, height, size = 70, 40, 29
    lines = [item.material.code, item.material.name[:24]]
    if item.supplier_lot:
        lines.append(item.supplier_lot[:24])
    if item.material.customer_id:
        lines.append(_("Customer-supplied") + " · " + item.material.customer.abbreviation)
    parts = [f'<svg xmlns="{qr.SVG_NS}" width="{width}mm" height="{height}mm" viewBox="0 0 {width} {height}" '
             f'class="label" role="img" aria-label="{escape(item.code, ATTRIBUTE_ENTITIES)}">',
             f'<rect width="{width}" height="{height}" fill="#fff" stroke="none"/>', qr.group(label_url(item), 2, 2, size)]
    code_size = min(4.6, (width - 4) / max(len(item.code) * 0.66, 1))
    parts.append(f'<text x="2" y="{height - 2.5}" font-family="sans-serif" font-size="{code_size:.2f}" '
                 f'font-weight="700" class="number">{escape(item.code, ATTRIBUTE_ENTITIES)}</text>')
    for index, text in enumerate(lines[:4]):
        parts.append(f'<text x="{size + 4}" y="{8 + index * 6.5}" font-family="sans-serif" font-size="3.2">'
                     f'{escape(text, ATTRIBUTE_ENTITIES)}</text>')
    parts.append("</svg>")
    return "".join(parts)


@bp.get("/lots/<int:lot_id>/label")
@login_required
@requires("stock.view")
def lot_label(lot_id: int):
    """A printable label page for the lot."""
    item = get_lot(lot_id)
    return render("stock/label.html", lot=item, svg=Markup(_label_svg(item)))


@bp.get("/lots/<int:lot_id>/label.svg")
@login_required
@requires("stock.view")
def lot_label_svg(lot_id: int):
    """The lot's label as an SVG file (for label printers)."""
    item = get_lot(lot_id)
    return Response(_label_svg(item), mimetype="image/svg+xml",
                    headers={"Content-Disposition": f'inline; filename="lot-{item.id}.svg"'})


def _location(location_id: int | None, field) -> Location | None:
    """The active location chosen in field (an error on the field otherwise)."""
    place = db.session.get(Location, location_id) if location_id else None
    if place is None or not place.active:
        field.errors = [*field.errors, _("Choose a location from the list.")]
        return None
    return place


def _lot_refusal(lot_id: int, error: TransitionError, form_name: str, form):
    """The ledger refused a movement: nothing is kept; the lot's page again with the message on the
    form, what was typed kept (409)."""
    message = _refused(error)
    form.quantity.errors = [message]
    return render("stock/lot.html", status_code=error.status, **_lot_context(get_lot(lot_id), **{form_name: form}))


def _manual_move(lot_id: int, kind: str, form, form_name: str, audit_action: str, message: str):
    """Post a scrap or an adjustment typed on the lot's page, with its reason: the page again with
    the form's errors (422) or the ledger's refusal (409), nothing kept; else back to the lot."""
    item = get_lot(lot_id, "stock.move")
    place = _location(form.location_id.data, form.location_id) if form.validate_on_submit() else None
    if place is None:
        return render("stock/lot.html", status_code=422, **_lot_context(item, **{form_name: form}))
    reason = form.reason.data.strip()
    try:
        ledger.post(kind, item, place, form.quantity.data, doc=ledger.Doc("manual"), reason=reason,
                    user=current_user)
    except TransitionError as error:
        return _lot_refusal(lot_id, error, form_name, form)
    audit.record(audit_action, item, actor=current_user, entity_type="lot",
                 after={"quantity": str(form.quantity.data), "location": place.code, "reason": reason})
    flash(_(message, qty=_fine(form.quantity.data), unit=item.material.stock_unit))
    return see_other(url_for("stock.lot", lot_id=item.id))


@bp.post("/lots/<int:lot_id>/scrap")
@login_required
@requires("stock.move")
def scrap(lot_id: int):
    """Scrap part of the lot in one location, with the reason."""
    return _manual_move(lot_id, "scrap", ScrapForm(prefix="s"), "scrap_form", "stock.scrapped",
                        N_("Scrapped %(qty)s %(unit)s."))


@bp.post("/lots/<int:lot_id>/adjust")
@login_required
@requires("stock.move")
def adjust(lot_id: int):
    """Correct the lot's quantity in one location, up or down, with the reason."""
    return _manual_move(lot_id, "adjust", AdjustForm(prefix="a"), "adjust_form", "stock.adjusted",
                        N_("Adjusted by %(qty)s %(unit)s."))


@bp.post("/lots/<int:lot_id>/move")
@login_required
@requires("stock.move")
def relocate(lot_id: int):
    """Move part of the lot to another location: out of one and into the other at the same cost
    (two adjustments naming each other)."""
    item = get_lot(lot_id, "stock.move")
    form = RelocateForm(prefix="m")
    source = target = None
    if form.validate_on_submit():
        source = _location(form.location_id.data, form.location_id)
        target = _location(form.to_location_id.data, form.to_location_id)
    if source is None or target is None:
        return render("stock/lot.html", status_code=422, **_lot_context(item, relocate_form=form))
    doc = ledger.Doc("relocate", None, f"{source.code}→{target.code}")
    try:
        ledger.post("adjust", item, source, -form.quantity.data, doc=doc,
                    reason=_("Moved to %(code)s", code=target.code), user=current_user)
        ledger.post("adjust", item, target, form.quantity.data, doc=doc,
                    reason=_("Moved from %(code)s", code=source.code), user=current_user)
    except TransitionError as error:
        return _lot_refusal(lot_id, error, "relocate_form", form)
    audit.record("stock.relocated", item, actor=current_user, entity_type="lot",
                 after={"quantity": str(form.quantity.data), "from": source.code, "to": target.code})
    flash(_("Moved %(qty)s %(unit)s to %(code)s.", qty=_fine(form.quantity.data), unit=item.material.stock_unit,
            code=target.code))
    return see_other(url_for("stock.lot", lot_id=item.id))


# --- stocktakes -----------------------------------------------------------------------------------

@bp.route("/stocktakes", methods=["GET", "POST"])
@login_required
@requires("stock.view")
def stocktakes():
    """The counts, newest first, and starting one for a location."""
    form = StocktakeStartForm()
    form.location_id.choices = options(*[(loc.id, f"{loc.code} · {loc.name}") for loc in db.session.scalars(
        db.select(Location).where(Location.active.is_(True)).order_by(Location.code))])
    if request.method == "POST":
        if not can(current_user, "stocktake.count"):
            abort(403)
        place = _location(form.location_id.data, form.location_id) if form.validate_on_submit() else None
        if place is not None:
            started = counting.start(place, current_user)
            flash(_("Stocktake %(number)s started: %(n)s lots to count.", number=started.number, n=len(started.lines)))
            return see_other(url_for("stock.stocktake", stocktake_id=started.id))
    page = keyset_page(db.select(Stocktake).options(joinedload(Stocktake.location), joinedload(Stocktake.created_by)),
                       Stocktake, Stocktake.created_at, descending=True, size=50)
    return render("stock/stocktakes.html", stocktakes=page.rows, next_after=page.next_after, form=form,
                  status_code=422 if form.errors else 200)


def get_stocktake(stocktake_id: int, action: str = "stock.view") -> Stocktake:
    """The stocktake for the current user doing action (writers lock it: two posts are one after the other)."""
    return load(Stocktake, stocktake_id, action, options=[
        joinedload(Stocktake.location),
        selectinload(Stocktake.lines).joinedload(StocktakeLine.lot).joinedload(Lot.material)])


def _sheet(stocktake: Stocktake, status: int = 200, **extra):
    """The count sheet (what was typed kept in extra["typed"], errors by line id)."""
    show = request.args.get("expected") == "1" or stocktake.status != "counting"
    lines = sorted(stocktake.lines, key=lambda line: (line.lot.material.code, line.lot.code))
    problems = dict((line.id, msg) for line, msg in counting.problems(stocktake)) if extra.pop("check", False) else {}
    return render("stock/stocktake.html", stocktake=stocktake, lines=lines, show_expected=show,
                  typed=extra.pop("typed", {}), errors=extra.pop("errors", {}), problems=problems,
                  add_form=extra.pop("add_form", None) or AddLotForm(prefix="add"),
                  message=extra.pop("message", None), plain=plain, status_code=status, **extra)


@bp.get("/stocktakes/<int:stocktake_id>")
@login_required
@requires("stock.view")
def stocktake(stocktake_id: int):
    """The count sheet: a row per lot with a big input for the count (expected hidden unless asked)."""
    return _sheet(get_stocktake(stocktake_id))


@bp.get("/stocktakes/<int:stocktake_id>/print")
@login_required
@requires("stock.view")
def stocktake_print(stocktake_id: int):
    """The count sheet to print and fill in by hand."""
    item = get_stocktake(stocktake_id)
    lines = sorted(item.lines, key=lambda line: (line.lot.material.code, line.lot.code))
    return render("stock/stocktake_print.html", stocktake=item, lines=lines,
                  show_expected=request.args.get("expected") == "1")


@bp.post("/stocktakes/<int:stocktake_id>")
@login_required
@requires("stocktake.count")
def count(stocktake_id: int):
    """Keep the typed counts and reasons; with "submit", hand the sheet over for approval."""
    item = get_stocktake(stocktake_id, "stocktake.count")
    if item.status != "counting":
        raise TransitionError(409, N_("This stocktake was submitted; its counts can no longer change."))
    typed, errors, values = {}, {}, {}
    for line in item.lines:
        raw = request.form.get(f"counted-{line.id}", "").strip()[:40]
        reason = request.form.get(f"reason-{line.id}", "").strip()[:1000]
        typed[line.id] = (raw, reason)
        was = request.form.get(f"was-{line.id}")
        if was is not None and raw == was.strip()[:40] and reason == request.form.get(f"wasr-{line.id}", "").strip()[:1000]:
            continue  # not touched on this sheet: what another tablet counted meanwhile stays
        try:
            counted = parse_decimal(raw, places=6, minimum=0, maximum=ledger.MOST) if raw else None
        except NumberError as error:
            errors[line.id] = str(error)
            continue
        values[line.id] = (counted, reason)
    if errors:
        return _sheet(item, 422, typed=typed, errors=errors,
                      message=_("Some counts could not be read; nothing was saved. Correct the marked rows."))
    counting.record(item, values, current_user)
    if "submit" not in request.form:
        flash(_("Counts saved."))
        return see_other(url_for("stock.stocktake", stocktake_id=item.id))
    if counting.problems(item) or not item.lines:
        # The counts are kept (saved above); the sheet comes back with what is missing marked.
        return _sheet(item, 409, check=True,
                      message=_("Counts saved, but not submitted: count every lot and give a reason for each difference."))
    counting.submit(item, current_user)
    flash(_("Stocktake %(number)s submitted for approval.", number=item.number))
    return see_other(url_for("stock.stocktake", stocktake_id=item.id))


def find_lot_by_code(raw: str) -> tuple[Lot | None, str | None]:
    """The lot a typed code or a scanned label names (its /stock/l/<token> address), or the reason none."""
    text = raw.strip()
    if "/stock/l/" in text:
        token = text.split("/stock/l/", 1)[1].split("?", 1)[0].split("#", 1)[0].strip("/")[:40]
        found = db.session.scalar(db.select(Lot).where(Lot.token == token)) if token else None
        return (found, None) if found else (None, _("No lot has this label."))
    found = db.session.scalars(db.select(Lot).where(Lot.code == text[:60]).limit(2)).all()
    if len(found) > 1:
        return None, _("Several materials have a lot with this code; scan its label instead.")
    return (found[0], None) if found else (None, _("No lot has this code."))


@bp.post("/stocktakes/<int:stocktake_id>/add")
@login_required
@requires("stocktake.count")
def add_lot(stocktake_id: int):
    """Add a lot found on the shelf (typed code or scanned label) to the sheet."""
    item = get_stocktake(stocktake_id, "stocktake.count")
    form = AddLotForm(prefix="add")
    if form.validate_on_submit():
        found, why = find_lot_by_code(form.code.data)
        if found is None:
            form.code.errors.append(why)
        else:
            counting.add_lot(item, found, current_user)
            flash(_("Lot %(lot)s added to the sheet.", lot=found.code))
            return see_other(url_for("stock.stocktake", stocktake_id=item.id) + f"#lot-{found.id}")
    return _sheet(item, 422, add_form=form)


@bp.post("/stocktakes/<int:stocktake_id>/post")
@login_required
@requires("stocktake.approve")
def post_stocktake(stocktake_id: int):
    """Approve the submitted count and post its differences (another person than the counter)."""
    item = get_stocktake(stocktake_id, "stocktake.approve")
    moves = counting.post(item, current_user)
    flash(_("Stocktake %(number)s posted: %(n)s corrections.", number=item.number, n=len(moves)))
    return see_other(url_for("stock.stocktake", stocktake_id=item.id))


@bp.post("/stocktakes/<int:stocktake_id>/reopen")
@login_required
def reopen_stocktake(stocktake_id: int):
    """Send a submitted count back for a recount of the lots that moved since it started."""
    item = get_stocktake(stocktake_id, "stock.view")
    if not (can(current_user, "stocktake.approve") or can(current_user, "stocktake.count")):
        abort(403)
    changed = counting.reopen(item, current_user)
    flash(_("Back to counting: %(n)s lots to count again.", n=len(changed)))
    return see_other(url_for("stock.stocktake", stocktake_id=item.id))
