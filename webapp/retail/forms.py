"""Retail forms: the counter's quick order, and the CSV upload of online-shop orders."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, FieldList, Form, FormField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from ..forms import DecimalText, options

ROWS = 4
CHANNEL_CHOICES = [("counter", _l("Shop counter")), ("online", _l("Online shop"))]
METHOD_CHOICES = [("delivery", _l("Delivery to an address")), ("pickup", _l("Pickup at a store"))]


class ItemRow(Form):
    """One item: a stock product and how many."""

    product_id = SelectField(_l("Item"), coerce=int, validators=[Optional()], validate_choice=False)
    quantity = DecimalText(_l("Quantity"), places=3, minimum=0)


class QuickOrderForm(FlaskForm):
    """A retail sale: who buys (an existing customer, or a walk-in or online customer's name, phone and
    address), the items from stock, and delivery or pickup."""

    channel = SelectField(_l("Sold at"), choices=options(*CHANNEL_CHOICES))
    customer_id = SelectField(_l("Existing customer"), coerce=int, validators=[Optional()], validate_choice=False)
    name = StringField(_l("…or a new customer's name"), validators=[Optional(), Length(max=200)],
                       filters=[lambda v: (v or "").strip()])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)], filters=[lambda v: (v or "").strip()],
                        render_kw={"inputmode": "tel", "autocomplete": "tel"})
    address = TextAreaField(_l("Delivery address"), validators=[Optional(), Length(max=500)],
                            filters=[lambda v: (v or "").strip()])
    method = SelectField(_l("Delivery or pickup"), choices=options(*METHOD_CHOICES))
    store = StringField(_l("Store for pickup"), validators=[Optional(), Length(max=100)],
                        filters=[lambda v: (v or "").strip()])
    items = FieldList(FormField(ItemRow), min_entries=ROWS, max_entries=ROWS)
    ship_now = BooleanField(_l("Take it out of stock into a shipment now"), default=True)


class ImportForm(FlaskForm):
    """A CSV file of online-shop orders (docs/retail-import.md)."""

    file = FileField(_l("CSV file"))


class ConfirmImportForm(FlaskForm):
    """The previewed file (kept under instance/ by its SHA-256), to be imported: checked again in full."""

    sha256 = HiddenField()
