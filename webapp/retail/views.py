"""Retail pages: the list, the counter's quick order, a retail order with its shipment from stock,
and the CSV import of online-shop orders (upload, preview, import) with its sample file."""
import hashlib
import re

from flask import Response, abort, flash, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import storage
from ..customers import Customer, Product, scope_customers, visible
from ..extensions import db
from ..forms import options
from ..htmx import render, see_other
from ..loading import load
from ..orders import Order
from ..permissions import can, requires
from ..statemachine import TransitionError
from ..uploads import storage_errors
from . import bp, importer, services
from .forms import ConfirmImportForm, ImportForm, QuickOrderForm
from .models import RetailOrder


def _choices(form: QuickOrderForm) -> dict[int, Product]:
    """Fill the customer and item choices; the items show what is in stock."""
    from ..templating import quantity
    form.customer_id.choices = options((0, "—"), *[
        (c.id, c.name) for c in db.session.scalars(db.select(Customer).where(
            scope_customers(current_user, Customer.id)).order_by(Customer.name).limit(300))])
    products = {p.id: p for p in db.session.scalars(db.select(Product).order_by(Product.model).limit(500))}
    choices = options((0, "—"), *[
        (p.id, _("%(model)s %(name)s · %(n)s %(unit)s in stock", model=p.model, name=p.name,
                 n=quantity(p.on_hand), unit=p.unit)) for p in products.values()])
    for entry in form.items:
        entry.form.product_id.choices = choices
    return products


@bp.get("/retail/")
@login_required
@requires("retail.view")
def index():
    """The latest retail orders, from the counter and the online shop."""
    rows = db.session.execute(db.select(RetailOrder, Order).join(Order, Order.id == RetailOrder.order_id)
                              .where(scope_customers(current_user, Order.customer_id))
                              .order_by(RetailOrder.id.desc()).limit(100)).all()
    return render("retail/index.html", rows=rows)


@bp.route("/retail/new", methods=["GET", "POST"])
@login_required
@requires("retail.create")
def new():
    """Enter a sale of stock items at the counter (or for an online shop): customer, items, delivery or pickup."""
    form = QuickOrderForm()
    products = _choices(form)
    may_ship = can(current_user, "shipment.manage")
    if form.validate_on_submit():
        items, ok = [], True
        for entry in form.items:
            row = entry.form
            if not row.product_id.data:
                if row.quantity.data:
                    row.product_id.errors = [_("Choose the item.")]
                    ok = False
                continue
            product = products.get(row.product_id.data)
            if product is None:
                row.product_id.errors = [_("Choose the item.")]
                ok = False
            elif not row.quantity.data:
                row.quantity.errors = [_("Enter a quantity above zero.")]
                ok = False
            else:
                items.append((product, row.quantity.data))
        customer = db.session.get(Customer, form.customer_id.data) if form.customer_id.data else None
        if customer is None and not form.name.data:
            form.name.errors = [_("Choose a customer or give the new customer's name.")]
            ok = False
        if ok and not items:
            form.items[0].form.product_id.errors = [_("Add at least one item.")]
            ok = False
        address = form.address.data or (customer.address if customer else "")
        if ok and form.method.data == "delivery" and not address:
            form.address.errors = [_("Give the delivery address, or choose pickup at a store.")]
            ok = False
        if ok and form.method.data == "pickup" and not form.store.data:
            form.store.errors = [_("Name the store the customer picks it up at.")]
            ok = False
        problem = services.stock_problem(items) if ok else None
        if problem:
            form.items[0].form.quantity.errors = [problem]
            ok = False
        if ok:
            try:
                if customer is None:
                    # Another rep's customer of the same name and phone is not reused for a rep
                    # the firm restricts to their own customers (a new walk-in customer instead).
                    customer = services.walk_in_customer(form.name.data, form.phone.data or "", address, current_user,
                                                         channel=form.channel.data,
                                                         reuse_if=lambda found: visible(current_user, found))
                sale = services.Sale(items=items, method=form.method.data, address=address, store=form.store.data or "",
                                     receiver_name=form.name.data or customer.name,
                                     receiver_phone=form.phone.data or customer.contact_phone, channel=form.channel.data)
                order = services.create_retail_order(customer, sale, current_user)
                if may_ship and form.ship_now.data and order.status == "effective":
                    services.ship_from_stock(order, current_user)
            except TransitionError as error:
                db.session.rollback()
                products = _choices(form)
                form.items[0].form.quantity.errors = [error.translated()]
            else:
                flash(_("Retail order %(number)s saved.", number=order.number or f"#{order.id}"))
                return see_other(url_for("retail.detail", order_id=order.id))
    return render("retail/new.html", form=form, may_ship=may_ship,
                  status_code=422 if request.method == "POST" else 200)


def get_retail(order_id: int, action: str = "retail.view") -> tuple[Order, RetailOrder]:
    """A retail order for the current user doing action (404 for any other order)."""
    order = load(Order, order_id, action)
    retail = services.retail_of(order.id)
    if retail is None:
        abort(404)
    return order, retail


@bp.get("/retail/<int:order_id>")
@login_required
@requires("retail.view")
def detail(order_id: int):
    """A retail order: items with what is in stock, delivery or pickup, and its shipments."""
    order, retail = get_retail(order_id)
    return render("retail/detail.html", order=order, retail=retail, may_ship=can(current_user, "shipment.manage"),
                  open_qty=services.shipping.open_quantities(order))


@bp.post("/retail/<int:order_id>/ship")
@login_required
@requires("shipment.manage")
def ship(order_id: int):
    """Take what is still to ship out of stock into a shipment (packed, dispatched and signed for as any)."""
    order, _retail = get_retail(order_id, "shipment.manage")
    shipment = services.ship_from_stock(order, current_user)
    flash(_("Shipment %(number)s made from stock: check the packing list.", number=shipment.number))
    return see_other(url_for("shipping.detail", shipment_id=shipment.id))


# --- the CSV import -------------------------------------------------------------------------------

def _kept_key(sha256: str) -> str:
    """Where a previewed file waits for its confirmation: in the storage, so that the confirmation may
    reach another app server than the preview did."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256 or ""):
        abort(404)
    return f"imports/{sha256}.csv"


@bp.get("/retail/import/sample.csv")
@login_required
@requires("retail.create")
def sample():
    """The sample file of the import's column layout."""
    return Response(importer.SAMPLE.encode("utf-8-sig"), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=retail-import-sample.csv"})


@bp.route("/retail/import", methods=["GET", "POST"])
@login_required
@requires("retail.create")
def import_page():
    """Upload a CSV of online-shop orders: every row is checked and shown before anything is imported."""
    form = ImportForm()
    groups, error, sha = None, None, None
    if form.validate_on_submit():
        upload = request.files.get(form.file.name)
        if upload and upload.filename:
            upload.stream.seek(0)  # the write phase runs the view again over the same upload
        data = upload.stream.read(importer.MAX_BYTES + 1) if upload and upload.filename else b""
        try:
            groups = importer.read(data)
        except importer.ImportRefused as refused:
            error = str(refused)
        else:
            sha = hashlib.sha256(data).hexdigest()
            with storage_errors():  # a full disk or a store that is down: 503, try again later
                storage.current().put(_kept_key(sha), data, "text/csv")
    elif request.method == "POST":
        error = _("The form expired; choose the file again.")
    status = 422 if error else 200
    return render("retail/import.html", form=form, groups=groups, error=error, sha=sha,
                  confirm=ConfirmImportForm(sha256=sha) if sha else None,
                  headers=importer.CHINESE_HEADERS if str(get_locale()).startswith("zh") else
                  {column: column for column in importer.COLUMNS},
                  status_code=status)


@bp.post("/retail/import/confirm")
@login_required
@requires("retail.create")
def import_confirm():
    """Import the previewed file's new, valid shop orders; those already imported are skipped."""
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        data = storage.current().get(_kept_key(form.sha256.data))
    except FileNotFoundError:
        flash(_("That file is no longer here; upload it again."))
        return see_other(url_for("retail.import_page"))
    try:
        done = importer.run_import(data, current_user)
    except importer.ImportRefused as refused:
        flash(str(refused))
        return see_other(url_for("retail.import_page"))
    flash(_("Imported %(new)s shop orders; %(skipped)s already imported were skipped; %(invalid)s with problems were left out.",
            new=len(done["new"]), skipped=len(done["skipped"]), invalid=len(done["invalid"])))
    return see_other(url_for("retail.index"))
