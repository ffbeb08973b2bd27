"""Shipping forms: a new shipment, the courier's confirmation, the customer's receipt."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (BooleanField, DateField, DateTimeLocalField, FormField, HiddenField, SelectField, StringField,
                     TextAreaField, TimeField)
from wtforms import Form
from wtforms.validators import DataRequired, Length, Optional

from ..forms import DecimalText, InputInPageOrder, LineTable, OfflineForm, filled, input_number, options, positive
from ..orders import METHOD_CHOICES
from .lifecycle import RETURN_OUTCOMES

# Transit events (transit.py): what happened, why a delivery attempt failed, who told it.
KIND_LABELS = {
    "picked_up": _l("Picked up"),
    "in_transit": _l("In transit"),
    "attempt_failed": _l("Delivery attempt failed"),
    "delivered": _l("Handed over"),  # delivered; the customer's signature is the receipt
    "other": _l("Other"),
}
REASON_LABELS = {
    "nobody_home": _l("Nobody there to receive it"),
    "address_wrong": _l("Address wrong or incomplete"),
    "refused": _l("Refused by the receiver"),
    "closed": _l("Closed (holiday, after hours)"),
    "phone_unanswered": _l("Receiver's phone not answered"),
    "other": _l("Other reason"),
}
SOURCE_LABELS = {"courier": _l("Courier"), "staff": _l("Our staff"), "carrier": _l("Carrier tracking")}

CONDITION_CHOICES = [("ok", _l("In good order")), ("damaged", _l("Damaged")), ("missing", _l("Missing"))]


class ShipmentForm(FlaskForm):
    """A quantity and a batch per order line (posted as qty-<order line id>, batch-<order line id>;
    `shipment_form`), method, carrier, tracking number, ETA and cost."""

    qty = LineTable(StringField(_l("Quantity in this shipment"), widget=InputInPageOrder(),
                                render_kw={"inputmode": "decimal", "autocomplete": "off"}))
    batch = LineTable(StringField(_l("Batch"), filters=[lambda value: (value or "").strip()[:60]]))
    method = SelectField(_l("Delivery method"), choices=options(*METHOD_CHOICES))
    # One of the firm's carriers (with its record) or own vehicles; the text field for any other.
    carrier_pick = SelectField(_l("Carrier or own vehicle"), choices=[], validate_choice=False)
    carrier = StringField(_l("Carrier"), validators=[Optional(), Length(max=100)])
    tracking_no = StringField(_l("Tracking number"), validators=[Optional(), Length(max=100)])
    eta = DateField(_l("Expected arrival"), validators=[Optional()])
    cost = DecimalText(_l("Shipping cost"), minimum=0)


class DispatchForm(OfflineForm):
    """The courier confirms pickup, with photos."""

    note = TextAreaField(_l("Note"), validators=[Length(max=1000)])
    photos = MultipleFileField(_l("Photos of the load"))


class ProblemForm(OfflineForm):
    """The courier reports a problem on the way."""

    note = TextAreaField(_l("What is the problem?"), validators=[DataRequired(), Length(max=2000)])
    photos = MultipleFileField(_l("Photos"))


class ReceiptLineForm(Form):
    """One shipment line on the receipt, posted as line-<shipment line id>-qty/-condition/-note. The
    quantity is read against the line in the view (at most what was shipped)."""

    qty = StringField(_l("Quantity received"), widget=InputInPageOrder())
    condition = SelectField(_l("Condition"), choices=options(*CONDITION_CHOICES), default="ok", validate_choice=False)
    note = StringField(_l("Note"), filters=[lambda value: (value or "").strip()[:500]])


class ReceiptForm(OfflineForm):
    """The signer, and a line of quantity, condition and note per shipment line (`receipt_form`)."""

    line = LineTable(FormField(ReceiptLineForm))
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=100)])
    relation = StringField(_l("Your role (e.g. receiving clerk)"), validators=[Optional(), Length(max=100)])
    photos = MultipleFileField(_l("Photos of the goods (damage)"))
    # In the page's order (the error summary lists them so): signature or stamped note, then the agreement.
    strokes = HiddenField()
    stamped = MultipleFileField(_l("…or a photo of the stamped delivery note"))
    consent = BooleanField(validators=[DataRequired(message=_l("Tick the box to agree."))])


class ReturnStartForm(FlaskForm):
    """Start a return or exchange."""

    action = TextAreaField(_l("What will be done (return, exchange, resend)"),
                           validators=[DataRequired(), Length(max=2000)])


class ReturnCloseForm(FlaskForm):
    """Close a return case: how it ended and a note on what was done."""

    outcome = SelectField(_l("Outcome"), choices=options(*[(k, _l(v)) for k, v in RETURN_OUTCOMES.items()]),
                          validators=[DataRequired()])
    note = TextAreaField(_l("What was done"),
                         validators=[DataRequired(message=_l("Say what was done.")), Length(max=2000)])


def receipt_form(shipment) -> ReceiptForm:
    """The receipt form for shipment: one line per shipment line, pre-filled with what was shipped
    until something is posted."""
    from flask import request
    posted = request.method == "POST"
    form = ReceiptForm(line=[(sline.id, None if posted else {"qty": input_number(sline.quantity)})
                             for sline in shipment.lines])
    for sline, (_key, entry) in zip(shipment.lines, form.line.keyed()):
        # Checked on the phone before an offline receipt is kept (precheck.js reads it): the quantity
        # as an input shows it (no grouping), the same number its message names.
        entry.qty.render_kw = {"inputmode": "decimal", "autocomplete": "off",
                               "data-max": input_number(sline.quantity)}
    return form


def shipment_form(order) -> ShipmentForm:
    """The new-shipment form for order: a quantity and a batch field per order line."""
    rows = [(line.id, None) for line in order.lines]
    return ShipmentForm(qty=rows, batch=rows)


class EventForm(OfflineForm):
    """A transit event from the courier's link or the shipment page: what happened (the button
    pressed), why a delivery attempt failed, where, a note. nonce makes a form sent twice one event."""

    kind = HiddenField()
    reason = SelectField(_l("Why did it fail?"), choices=[], validate_choice=False)
    place = StringField(_l("Where (optional)"), filters=[lambda value: (value or "").strip()[:200]])
    note = TextAreaField(_l("Note (optional)"), validators=[Length(max=2000)])
    nonce = HiddenField(filters=[lambda value: (value or "").strip()[:40]])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reason.choices = [("", _l("Choose a reason"))] + list(REASON_LABELS.items())


class StaffEventForm(EventForm):
    """A transit event added by staff: they pick the kind and may give the time it happened."""

    kind = SelectField(_l("What happened"), choices=[], validate_choice=False)
    occurred_at = DateTimeLocalField(_l("When (empty: now)"), validators=[Optional()], format="%Y-%m-%dT%H:%M")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = list(KIND_LABELS.items())
# --- carriers, vehicles and pickups (issue 13) -----------------------------------------------------

def _strip(value):
    return (value or "").strip()


class CarrierForm(FlaskForm):
    """A carrier: name, code for a tracking adapter (SF, ZTO, JD …), phone, active."""

    name = StringField(_l("Name"), filters=[_strip], validators=[DataRequired(), Length(max=100)])
    code = StringField(_l("Code (for tracking: SF, ZTO, JD …)"), filters=[lambda v: _strip(v).upper()],
                       validators=[Optional(), Length(max=20)])
    phone = StringField(_l("Phone"), filters=[_strip], validators=[Optional(), Length(max=40)])
    active = BooleanField(_l("Active"), default=True)


class VehicleForm(FlaskForm):
    """An own vehicle: plate, driver (a courier user, or a name typed), phone, active."""

    plate = StringField(_l("Plate"), filters=[_strip], validators=[DataRequired(), Length(max=20)])
    driver = SelectField(_l("Driver (a courier user)"), choices=[], validate_choice=False)
    driver_name = StringField(_l("…or the driver's name"), filters=[_strip], validators=[Optional(), Length(max=100)])
    phone = StringField(_l("Phone"), filters=[_strip], validators=[Optional(), Length(max=40)])
    active = BooleanField(_l("Active"), default=True)


class CarrierPickForm(FlaskForm):
    """Who carries a shipment, its tracking number, and a pickup booked for a date and a window."""

    carrier_pick = SelectField(_l("Carrier or own vehicle"), choices=[], validate_choice=False)
    carrier = StringField(_l("Other carrier (typed)"), filters=[_strip], validators=[Optional(), Length(max=100)])
    tracking_no = StringField(_l("Tracking number"), filters=[_strip], validators=[Optional(), Length(max=100)])
    pickup_on = DateField(_l("Pickup date"), validators=[Optional()])
    pickup_from = TimeField(_l("Window starts"), validators=[Optional()])
    pickup_to = TimeField(_l("Window ends"), validators=[Optional()])


class CollectionForm(FlaskForm):
    """The collection of a return case's goods at the customer: carrier, tracking number, date and window."""

    carrier_pick = SelectField(_l("Carrier or own vehicle"), choices=[], validate_choice=False)
    tracking_no = StringField(_l("Tracking number"), filters=[_strip], validators=[Optional(), Length(max=100)])
    on_date = DateField(_l("Pickup date"), validators=[DataRequired(message=_l("Choose the pickup date."))])
    window_from = TimeField(_l("Window starts"), validators=[DataRequired(message=_l("Enter when the window starts."))])
    window_to = TimeField(_l("Window ends"), validators=[DataRequired(message=_l("Enter when the window ends."))])
    note = TextAreaField(_l("Note for the courier"), validators=[Length(max=1000)])


class CollectedForm(OfflineForm):
    """The goods were collected (the return's courier on their link, offline too; or staff)."""

    note = TextAreaField(_l("Note"), validators=[Length(max=1000)])


class InspectionForm(FlaskForm):
    """The returned goods inspected on arrival: quantity, condition, findings, photos."""

    received_qty = DecimalText(_l("Quantity received back"), places=3, minimum=0, validators=[filled])
    condition = SelectField(_l("Condition"), choices=options(*CONDITION_CHOICES), default="damaged")
    findings = TextAreaField(_l("Findings"), validators=[DataRequired(message=_l("Say what the inspection found.")),
                                                         Length(max=4000)])
    photos = MultipleFileField(_l("Photos"))


class ReplacementForm(FlaskForm):
    """A replacement shipment: a quantity per line of the shipment the case is about (qty-<order line id>),
    carrier, tracking number, ETA and freight."""

    qty = LineTable(StringField(_l("Quantity to send"), widget=InputInPageOrder(),
                                render_kw={"inputmode": "decimal", "autocomplete": "off"}))
    carrier_pick = SelectField(_l("Carrier or own vehicle"), choices=[], validate_choice=False)
    carrier = StringField(_l("Other carrier (typed)"), filters=[_strip], validators=[Optional(), Length(max=100)])
    tracking_no = StringField(_l("Tracking number"), filters=[_strip], validators=[Optional(), Length(max=100)])
    eta = DateField(_l("Expected arrival"), validators=[Optional()])
    cost = DecimalText(_l("Shipping cost"), minimum=0)


class LinkReplacementForm(FlaskForm):
    """An existing shipment of the order named as the replacement."""

    shipment = SelectField(_l("Shipment"), choices=[], validate_choice=False)


class RepairForm(FlaskForm):
    """The goods were repaired: what was done."""

    note = TextAreaField(_l("What was repaired"), validators=[DataRequired(message=_l("Say what was done.")),
                                                              Length(max=2000)])


class CreditForm(FlaskForm):
    """A credit to the customer on the order: amount and note."""

    amount = DecimalText(_l("Amount to credit"), minimum=0, validators=[filled, positive])
    note = TextAreaField(_l("Note"), validators=[DataRequired(message=_l("Say why the customer is credited.")),
                                                 Length(max=2000)])


class RefuseForm(FlaskForm):
    """Refuse the return, with the reason the customer reads."""

    reason = TextAreaField(_l("Reason (the customer reads it)"),
                           validators=[DataRequired(message=_l("Give the customer the reason.")), Length(max=2000)])


COST_KIND_CHOICES = [("freight", _l("Freight")), ("scrap", _l("Scrap")), ("rework", _l("Rework"))]


class CostForm(FlaskForm):
    """A cost of the case: kind, amount, note."""

    kind = SelectField(_l("Kind"), choices=options(*COST_KIND_CHOICES))
    amount = DecimalText(_l("Amount"), minimum=0, validators=[filled, positive])
    note = StringField(_l("Note"), filters=[_strip], validators=[Length(max=500)])


def replacement_form(case) -> ReplacementForm:
    """The replacement form for case: a quantity field per line of its shipment, pre-filled with what
    the customer found wrong."""
    from flask import request

    from .returns import problem_lines
    affected = {row["line"].order_line_id: row["quantity"] for row in problem_lines(case)}
    posted = request.method == "POST"
    rows = [(sline.order_line_id, None if posted or sline.order_line_id not in affected
             else input_number(affected[sline.order_line_id])) for sline in case.shipment.lines]
    return ReplacementForm(qty=rows)


def carrier_form(shipment, form: CarrierPickForm | None = None) -> CarrierPickForm:
    """The shipment's carrier-and-pickup form, filled with what it has."""
    from . import carriers
    if form is None:
        pick = (f"c{shipment.carrier_id}" if shipment.carrier_id
                else f"v{shipment.vehicle_id}" if shipment.vehicle_id else "")
        pickup = carriers.pending_pickup(shipment)
        typed = shipment.carrier if not pick else ""
        form = CarrierPickForm(prefix="cp", carrier_pick=pick, carrier=typed, tracking_no=shipment.tracking_no,
                               pickup_on=pickup.on_date if pickup else None,
                               pickup_from=pickup.window_from if pickup else None,
                               pickup_to=pickup.window_to if pickup else None)
    form.carrier_pick.choices = carriers.choices((shipment.carrier_id, shipment.vehicle_id))
    return form
