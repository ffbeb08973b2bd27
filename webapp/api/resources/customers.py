"""Customers and products."""
from flask_login import current_user
from marshmallow import fields

from ...customers import Customer, Product, scope_customers
from ...extensions import db
from ...loading import load
from ...permissions import require
from ..core import ListQuery, operation, page_of, sort_field
from ..schemas import CustomerOut, ProductOut


class CustomerQuery(ListQuery):
    """Filters of the customer list."""

    q = fields.String(metadata={"description": "Part of the name or the abbreviation."})
    sort = sort_field(["name", "created_at", "id"])


@operation("GET", "/customers", tag="Customers", summary="List customers", query=CustomerQuery,
           response=CustomerOut, many=True)
def list_customers(query):
    """The customers the token's owner may see (a sales rep whose firm restricts them: their own)."""
    require("customer.view")
    select = db.select(Customer).where(scope_customers(current_user, Customer.id))
    if query.get("q"):
        pattern = f"%{query['q']}%"
        select = select.where(db.or_(Customer.name.ilike(pattern), Customer.abbreviation.ilike(pattern)))
    return page_of(select, Customer, {"name": Customer.name, "created_at": Customer.created_at, "id": Customer.id},
                   query)


@operation("GET", "/customers/<int:customer_id>", tag="Customers", summary="Get a customer", response=CustomerOut)
def get_customer(customer_id: int):
    """One customer (404 when there is none, or it is outside the owner's scope)."""
    return load(Customer, customer_id, "customer.view")


class ProductQuery(ListQuery):
    """Filters of the product list."""

    q = fields.String(metadata={"description": "Part of the model or name."})
    barcode = fields.String()
    sort = sort_field(["model", "id"])


@operation("GET", "/products", tag="Products", summary="List products", query=ProductQuery, response=ProductOut,
           many=True)
def list_products(query):
    """The firm's stock items with what is on hand."""
    require("customer.view")
    select = db.select(Product)
    if query.get("q"):
        pattern = f"%{query['q']}%"
        select = select.where(db.or_(Product.model.ilike(pattern), Product.name.ilike(pattern)))
    if query.get("barcode"):
        select = select.where(Product.barcode == query["barcode"])
    return page_of(select, Product, {"model": Product.model, "id": Product.id}, query)


@operation("GET", "/products/<int:product_id>", tag="Products", summary="Get a product", response=ProductOut)
def get_product(product_id: int):
    """One stock item."""
    require("customer.view")
    return load(Product, product_id, None)
