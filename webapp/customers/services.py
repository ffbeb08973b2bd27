"""Saving customers and products, with their audit rows."""
from .. import audit
from ..extensions import db
from .models import Product
from .models import Customer


def save_customer(customer: Customer | None, form, user) -> Customer:
    """Create (owned by user, who made it) or update a customer from its form, and audit it."""
    if customer is None:
        customer = Customer(owner_id=user.id)
        db.session.add(customer)
    owner_id = customer.owner_id
    form.populate_obj(customer)
    owner_field = getattr(form, "owner_id", None)  # absent for a scoped rep: theirs stays theirs
    customer.owner_id = (owner_field.data or None) if owner_field is not None and owner_field.raw_data else owner_id
    db.session.flush()
    audit.record("customer.saved", customer, actor=user)
    return customer


def save_product(product: Product | None, form, user) -> Product:
    """Create or update a product (a new one with its opening stock) from its form, and audit it."""
    if product is None:
        product = Product()
        db.session.add(product)
    form.populate_obj(product)
    product.model = product.model.strip()
    db.session.flush()
    audit.record("product.saved", product, actor=user, after={"on_hand": str(product.on_hand)})
    return product
