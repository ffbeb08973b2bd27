"""What the shipment page shows of packing (the shipment's views and the packing views both build it)."""
from flask_babel import gettext as _

from ..extensions import db
from ..stock import Lot, Material
from . import packing
from .models import Shipment
from .packing_forms import DOCUMENT_KIND_CHOICES, CartonsForm, DocumentForm, OverrideForm
from .packing_models import ShipmentDocument


def source_choices(shipment: Shipment) -> list[tuple[str, str]]:
    """The line-and-lot pairs a carton label may be made for: each line's lots this shipment took
    from stock (a line that took none from the ledger: the line without a lot)."""
    choices = []
    for line in shipment.lines:
        product = line.order_line.product
        if product is None:
            continue
        # Read only (a page): a product without a stock item has no lots yet, and none is made here.
        material_id = db.session.scalar(db.select(Material.id).where(Material.product_id == product.id))
        taken = packing.taken_lots(shipment, material_id) if material_id is not None else {}
        lots = db.session.scalars(db.select(Lot).where(Lot.id.in_(taken)).order_by(Lot.code)).all() if taken else []
        for lot in lots:
            choices.append((f"{line.id}:{lot.id}", _("%(model)s · lot %(lot)s", model=product.model, lot=lot.code)))
        if not lots:
            choices.append((f"{line.id}:", product.model))
    return choices


def detail_extras(shipment: Shipment, cartons_form=None, override_form=None, document_form=None) -> dict:
    """What the shipment page shows of packing: cartons, counts and lots, the override, the documents."""
    forms = {"cartons_form": cartons_form or CartonsForm(prefix="ctn"),
             "override_form": override_form or OverrideForm(prefix="ovr"),
             "document_form": document_form or DocumentForm(prefix="doc")}
    forms["cartons_form"].source.choices = source_choices(shipment) if shipment.status == "packing" else []
    record = packing.override_of(shipment)
    return {
        **forms,
        "cartons": packing.shipment_cartons(shipment),
        "counted": packing.packed(shipment),
        "lots_by_line": packing.lots_by_line(shipment),
        "mismatch": packing.mismatches(shipment) if shipment.status == "packing" else [],
        "packing_override": record,
        "override_rows": packing.mismatch_rows(record) if record else [],
        "documents": db.session.scalars(db.select(ShipmentDocument).where(
            ShipmentDocument.shipment_id == shipment.id).order_by(ShipmentDocument.id)).all(),
        "document_kinds": dict(DOCUMENT_KIND_CHOICES),
    }
