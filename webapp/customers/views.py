"""Customers and products: list, create, edit."""
from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import signals
from ..auth import User
from ..extensions import db
from ..forms import options
from ..htmx import render, see_other
from ..loading import load
from .scope import is_scoped, scope_customers
from ..paging import keyset_page
from ..permissions import requires
from .models import Product
from . import bp, services
from .forms import CustomerForm, ProductForm
from .models import Customer


@bp.get("/")
@login_required
@requires("customer.view")
def index():
    """List customers and products."""
    page = keyset_page(db.select(Customer).where(scope_customers(current_user, Customer.id)), Customer,
                       Customer.name)
    products = db.session.scalars(db.select(Product).order_by(Product.model)).all()
    return render("customers/index.html", customers=page.rows, next_after=page.next_after, products=products)


@bp.get("/<int:customer_id>")
@login_required
@requires("customer.view")
def detail(customer_id: int):
    """A customer's record: the contact (phone to tap, WeChat), the invoicing details and the defaults."""
    customer = load(Customer, customer_id, "customer.view")
    return render("customers/detail.html", customer=customer)


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:customer_id>/edit", methods=["GET", "POST"])
@login_required
@requires("customer.manage")
def edit(customer_id: int | None = None):
    """Create or edit a customer; the abbreviation must be unique."""
    customer = load(Customer, customer_id, "customer.manage") if customer_id else None
    form = CustomerForm(obj=customer)
    _owner_choices(form, customer)
    if form.validate_on_submit():
        clash = db.session.scalar(db.select(Customer).where(
            Customer.abbreviation == form.abbreviation.data,
            Customer.id != (customer.id if customer else 0)))
        if clash:
            form.abbreviation.errors.append(_("Another customer already uses this abbreviation."))
        elif customer and customer.abbreviation != form.abbreviation.data and _has_numbers(customer):
            form.abbreviation.errors.append(
                _("This customer already has numbered orders; its abbreviation can no longer change."))
        else:
            customer = services.save_customer(customer, form, current_user)
            flash(_("Customer saved."))
            return see_other(url_for("customers.detail", customer_id=customer.id))
    return render("customers/edit.html", form=form, customer=customer,
                  status_code=422 if form.errors else 200)


def _owner_choices(form: CustomerForm, customer: Customer | None) -> None:
    """Let those who see every customer pick its sales rep; a scoped rep's customers stay theirs."""
    if is_scoped(current_user):
        del form.owner_id
        return
    reps = db.session.scalars(db.select(User).where(User.active.is_(True)).order_by(User.name)).all()
    form.owner_id.choices = options((0, "—"), *[(u.id, u.name) for u in reps if "sales" in u.roles])
    if request.method == "GET":
        form.owner_id.data = (customer.owner_id if customer else None) or (
            current_user.id if "sales" in current_user.roles else 0)


def _has_numbers(customer: Customer) -> bool:
    """Whether records already carry the customer's abbreviation (the orders stage answers for its
    numbered orders, webapp/signals.py)."""
    return any(answer for _receiver, answer in signals.customer_abbreviation_used.send(customer))


@bp.route("/products/new", methods=["GET", "POST"])
@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@login_required
@requires("product.manage")
def edit_product(product_id: int | None = None):
    """Create a product with its opening stock, or edit one (its stock then moves only in the ledger)."""
    product = load(Product, product_id, "product.manage") if product_id else None
    form = ProductForm(obj=product)
    if product is not None:  # never typed again: receipts, issues, shipments and counts move it
        del form.on_hand
    if form.validate_on_submit():
        clash = db.session.scalar(db.select(Product).where(
            Product.model == form.model.data.strip(), Product.id != (product.id if product else 0)))
        barcode_clash = form.barcode.data and db.session.scalar(db.select(Product.id).where(
            Product.barcode == form.barcode.data, Product.id != (product.id if product else 0)))
        if clash:
            form.model.errors.append(_("Another product already has this model."))
        elif barcode_clash:
            form.barcode.errors.append(_("Another product already has this barcode."))
        else:
            product = services.save_product(product, form, current_user)
            flash(_("Product saved."))
            return see_other(url_for("customers.index"))
    return render("customers/product.html", form=form, product=product,
                  status_code=422 if form.errors else 200)
