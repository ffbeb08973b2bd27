"""Customer requirement records (客户需求记录表): read them, and write a new one down as a draft."""
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import Schema, fields, post_dump, validate

from ...customers import Customer, Product, scope_customers, visible
from ...extensions import db
from ...loading import load
from ...permissions import can, require
from ...requirements import Requirement, RequirementForm, lifecycle, services
from ..core import ListQuery, operation, page_of, sort_field
from ..formbody import check, form_of, raise_errors
from ..schemas import Day, DecimalString, Moment, Money, Qty, Stamp

PRIORITIES = ("urgent", "regular", "long_term")


class RequirementOut(Schema):
    """A requirement record: what the customer asks for, its state with them, its budget (null
    without price rights, as on the page)."""

    id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"description": "draft, sent, clarification, confirmed or "
                                                                   "cancelled."})
    customer_id = fields.Integer(required=True)
    contact_name = fields.String()
    contact_phone = fields.String()
    contact_email = fields.String()
    product = fields.String()
    product_id = fields.Integer(allow_none=True, metadata={"description": "The catalogue product, if one was picked."})
    customer_part_no = fields.String()
    drawing_rev = fields.String()
    specs = fields.String()
    quality_standard = fields.String()
    quantity = Qty()
    unit = fields.String()
    expected_date = Day(allow_none=True)
    budget_min = Money(allow_none=True)
    budget_max = Money(allow_none=True)
    currency = fields.String()
    special_requirements = fields.String()
    priority = fields.String(metadata={"description": "urgent, regular or long_term."})
    sales_rep_id = fields.Integer()
    created_at = Stamp()
    updated_at = Stamp()
    confirmed_at = Stamp(allow_none=True)

    @post_dump
    def hide_budget(self, data, **_kwargs):
        """The budget is a price: null for an owner who may not see prices (the page hides it too)."""
        if not can(current_user, "order.prices"):
            data["budget_min"] = data["budget_max"] = None
        return data


class RequirementQuery(ListQuery):
    """Filters of the requirement list."""

    status = fields.List(fields.String(validate=validate.OneOf(lifecycle.STATES)),
                         metadata={"description": "One or more states (repeat the parameter)."})
    customer_id = fields.Integer(validate=validate.Range(1, 2**31 - 1))
    updated_since = Moment(metadata={"description": "Only records changed at or after this moment."})
    sort = sort_field(["created_at", "updated_at", "expected_date", "id"])


@operation("GET", "/requirements", tag="Requirements", summary="List requirements", query=RequirementQuery,
           response=RequirementOut, many=True)
def list_requirements(query):
    """The requirement records the token's owner may see, newest first unless sorted otherwise."""
    require("requirement.view")
    select = db.select(Requirement).where(visible_requirements())
    if query.get("status"):
        select = select.where(Requirement.status.in_(query["status"]))
    if query.get("customer_id") is not None:
        select = select.where(Requirement.customer_id == query["customer_id"])
    if query.get("updated_since"):
        select = select.where(Requirement.updated_at >= query["updated_since"])
    query.setdefault("sort", "-created_at")
    return page_of(select, Requirement, {"created_at": Requirement.created_at, "updated_at": Requirement.updated_at,
                                         "expected_date": Requirement.expected_date, "id": Requirement.id}, query)


def visible_requirements():
    """The WHERE clause of the records the token's owner may see (the list page's own scope)."""
    return scope_customers(current_user, Requirement.customer_id)


@operation("GET", "/requirements/<int:requirement_id>", tag="Requirements", summary="Get a requirement",
           response=RequirementOut)
def get_requirement(requirement_id: int):
    """One requirement record (404 when there is none, or it is outside the owner's scope)."""
    return load(Requirement, requirement_id, "requirement.view")


class RequirementIn(Schema):
    """A new requirement record: the fields of the page's form (表1). Contact fields left empty take
    the customer's; with a catalogue product and no `product`, its name and unit are taken."""

    customer_id = fields.Integer(required=True, validate=validate.Range(1, 2**31 - 1))
    contact_name = fields.String(validate=validate.Length(0, 100))
    contact_phone = fields.String(validate=validate.Length(0, 40))
    contact_email = fields.String(validate=validate.Length(0, 200))
    product = fields.String(validate=validate.Length(0, 200),
                            metadata={"description": "The product or service; or give product_id."})
    product_id = fields.Integer(validate=validate.Range(1, 2**31 - 1), metadata={"description": "A catalogue product."})
    customer_part_no = fields.String(validate=validate.Length(0, 60))
    drawing_rev = fields.String(validate=validate.Length(0, 20))
    specs = fields.String(validate=validate.Length(0, 4000))
    quality_standard = fields.String(validate=validate.Length(0, 2000))
    quantity = Qty(required=True)
    unit = fields.String(validate=validate.Length(1, 20), metadata={"description": "pcs unless given."})
    expected_date = Day()
    budget_min = DecimalString()
    budget_max = DecimalString()
    special_requirements = fields.String(validate=validate.Length(0, 4000))
    priority = fields.String(validate=validate.OneOf(PRIORITIES), metadata={"description": "regular unless given."})


@operation("POST", "/requirements", tag="Requirements", summary="Write down a requirement", body=RequirementIn,
           response=RequirementOut, errors=(422,))
def create_requirement(body):
    """Write down a new requirement record for a customer, as a draft (the page's "New requirement"):
    the same checks as the page's form, then the same service."""
    require("requirement.create")
    form = form_of(RequirementForm, {"unit": "pcs", "priority": "regular", **body})
    customer = db.session.get(Customer, body["customer_id"])
    form.customer_id.choices = [(0, "—")] + ([(customer.id, customer.name)] if customer is not None else [])
    product = db.session.get(Product, body["product_id"]) if body.get("product_id") else None
    form.product_id.choices = [(0, "—")] + ([(product.id, product.model)] if product is not None else [])
    if customer is None or not visible(current_user, customer):
        raise_errors({"customer_id": [_("Choose a customer.")]})
    check(form)
    services.fill_from_catalogue(form)
    return services.create(form, customer, current_user)
