"""Packing pages: cartons and their labels, a supervisor's override of a mismatch, the delivery note
(送货单) and the documents that go with a shipment."""
from decimal import Decimal

from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import audit, links, uploads
from ..extensions import db
from ..htmx import render, see_other
from ..loading import load
from ..permissions import require
from ..stock import Lot
from ..uploads import UploadError
from . import bp, lifecycle, packing, services
from .models import Shipment
from .packing_forms import DOCUMENT_KIND_CHOICES, CartonsForm, CartonSizeForm, DocumentForm, OverrideForm
from .packing_page import source_choices, detail_extras
from .packing_models import Carton, ShipmentDocument

DOCUMENT_EXTENSIONS = ("pdf", "jpg", "jpeg", "png", "webp")


def _shipment(shipment_id: int, action: str = "shipment.view") -> Shipment:
    return load(Shipment, shipment_id, action)


def _detail_page(shipment: Shipment, status: int, **forms):
    from .views import _detail_context  # noqa: PLC0415  (the shipment page's context)
    context = _detail_context(shipment)
    context.update(detail_extras(shipment, **forms))
    return render("shipping/detail.html", status_code=status, **context)


# --- cartons ----------------------------------------------------------------------------------------

@bp.post("/shipping/<int:shipment_id>/cartons")
@login_required
def make_cartons(shipment_id: int):
    """Make carton labels for goods of one line and lot: so many cartons of so many each."""
    shipment = _shipment(shipment_id, "shipment.manage")
    form = CartonsForm(prefix="ctn")
    form.source.choices = source_choices(shipment)
    valid = form.validate_on_submit()
    if valid and form.source.data not in dict(form.source.choices):
        form.source.errors = [_("Choose the goods from the list.")]
        valid = False
    if not valid or shipment.status != "packing":
        if shipment.status != "packing":
            form.source.errors = [_("This shipment is not in a state that allows this.")]
        return _detail_page(shipment, 422, cartons_form=form)
    line_id, _sep, lot_id = form.source.data.partition(":")
    line = next(line for line in shipment.lines if str(line.id) == line_id)
    lot = db.session.get(Lot, int(lot_id)) if lot_id else None
    made = packing.make_cartons(shipment.order, line.order_line.product, lot, form.per_carton.data, form.count.data,
                                current_user, weight_kg=form.weight_kg.data,
                                dims=(form.length_cm.data, form.width_cm.data, form.height_cm.data),
                                prefix=shipment.number)
    flash(_("%(n)s carton labels made: print them and scan each carton as it is packed.", n=len(made)))
    return see_other(url_for("shipping.detail", shipment_id=shipment.id) + "#cartons")


@bp.post("/shipping/cartons/<int:carton_id>/size")
@login_required
def carton_size(carton_id: int):
    """Record a carton's weight, dimensions and contents."""
    carton = load(Carton, carton_id, None)
    if carton.shipment_id:
        _shipment(carton.shipment_id, "shipment.manage")  # its shipment's gate (scope, lock)
    else:
        require("shipment.manage")
    form = CartonSizeForm(prefix=f"size-{carton.id}")
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
    else:
        packing.set_carton_size(carton, form.weight_kg.data, form.length_cm.data, form.width_cm.data,
                                form.height_cm.data, (form.contents.data or "").strip(), current_user)
        flash(_("Carton %(number)s saved.", number=carton.number))
    target = carton.shipment_id or _first_shipment(carton)
    if target is None:
        return see_other(url_for("shipping.index"))
    return see_other(url_for("shipping.detail", shipment_id=target) + "#cartons")


def _first_shipment(carton: Carton) -> int | None:
    return db.session.scalar(db.select(Shipment.id).where(Shipment.order_id == carton.order_id,
                                                          Shipment.status == "packing").order_by(Shipment.id))


@bp.get("/k/<token>")
@login_required
def carton_by_token(token: str):
    """A carton's label scanned outside packing: what it holds and where it is packed."""
    require("shipment.view")
    carton = db.session.scalar(db.select(Carton).where(Carton.token == token[:40]))
    if carton is None:
        abort(404)
    return render("shipping/carton.html", carton=carton)


# --- closing with a mismatch ------------------------------------------------------------------------

@bp.post("/shipping/<int:shipment_id>/override")
@login_required
def override(shipment_id: int):
    """A supervisor closes a packing list that does not match what was counted, with a reason."""
    shipment = _shipment(shipment_id)
    require("packing.override")
    form = OverrideForm(prefix="ovr")
    if not form.validate_on_submit():
        return _detail_page(shipment, 422, override_form=form)
    packing.override(shipment, current_user, form.reason.data)
    services.pack(shipment, current_user)
    flash(_("Packed by a supervisor's decision. The reason is kept with the shipment."))
    return see_other(url_for("shipping.detail", shipment_id=shipment.id))


# --- the delivery note (送货单) ----------------------------------------------------------------------

def note_codes(shipment: Shipment) -> list[tuple[str, str]]:
    """The QR codes the delivery note prints: (caption, URL). The shipment's own code (its courier
    link, as on the packing list); a customer's tracking page adds its own through NOTE_CODES."""
    codes = []
    for hook in NOTE_CODES:
        found = hook(shipment)
        if found:
            codes.append(found)
    link = links.current("courier", shipment.id)
    if link is not None and shipment.status in lifecycle.UNDELIVERED:
        codes.append((_("Shipment %(number)s", number=shipment.number), link.url))
    return codes


# Functions (shipment) -> (caption, URL) or None that add a QR to the delivery note (the customer's
# tracking page registers one).
NOTE_CODES: list = []


def delivery_note_data(shipment: Shipment) -> dict:
    """Everything the delivery note shows: the firm's letterhead, the customer and address, the lines
    with lots, the cartons and their weight, the codes (no prices)."""
    from ..contacts import order_contact
    from ..firm import get_settings
    settings = get_settings()
    cartons = [c for c in packing.shipment_cartons(shipment) if c.shipment_id == shipment.id]
    lots = packing.lots_by_line(shipment)
    return {
        "firm": {"name": settings.firm_name, "address": settings.firm_address, "phone": settings.firm_phone},
        "seal_photo_id": settings.seal_photo_id,
        "shipment": shipment, "order": shipment.order, "customer": shipment.order.customer,
        "contact": order_contact(shipment.order),
        "lines": [{"line": line, "lots": lots.get(line.id) or []} for line in shipment.lines],
        "cartons": cartons,
        "total_kg": sum((c.weight_kg or Decimal("0") for c in cartons), Decimal("0")),
        "codes": note_codes(shipment),
    }


@bp.get("/shipping/<int:shipment_id>/delivery-note")
@login_required
def delivery_note(shipment_id: int):
    """The delivery note (送货单) on A4, to print or save as PDF."""
    from markupsafe import Markup

    from .. import qr
    shipment = _shipment(shipment_id)
    data = delivery_note_data(shipment)
    data["codes"] = [(caption, url, Markup(qr.svg(url))) for caption, url in data["codes"]]
    return render("shipping/delivery_note.html", **data)


@bp.get("/shipping/seal.png")
@login_required
def seal_image():
    """The firm's seal, for the delivery note page (staff who may see shipments)."""
    from ..firm import get_settings
    from ..photos import Photo, send_photo
    require("shipment.view")
    settings = get_settings()
    photo = db.session.get(Photo, settings.seal_photo_id) if settings.seal_photo_id else None
    if photo is None:
        abort(404)
    return send_photo(photo)


# --- documents --------------------------------------------------------------------------------------

@bp.post("/shipping/<int:shipment_id>/documents")
@login_required
def add_document(shipment_id: int):
    """Attach a PDF or an image (a material certificate, an inspection report) to the shipment."""
    shipment = _shipment(shipment_id, "shipment.view")
    require("shipment.documents")
    form = DocumentForm(prefix="doc")
    upload = form.file.data
    valid = form.validate_on_submit()
    if not upload or not getattr(upload, "filename", ""):
        form.file.errors = [_("Choose a file.")]
        valid = False
    elif upload.filename.rsplit(".", 1)[-1].lower() not in DOCUMENT_EXTENSIONS:
        form.file.errors = [_("Attach a PDF or an image (JPEG, PNG or WebP).")]
        valid = False
    if valid:
        try:
            stored = uploads.store(upload)
        except UploadError as error:
            form.file.errors = [str(error)]
            valid = False
    if not valid:
        return _detail_page(shipment, 422, document_form=form)
    document = ShipmentDocument(shipment_id=shipment.id, kind=form.kind.data,
                                title=(form.title.data or "").replace("\x00", "").strip(),
                                filename=stored.filename.replace("\x00", ""), stored_name=stored.stored_name,
                                content_type=stored.content_type, size=stored.size, sha256=stored.sha256,
                                customer_visible=bool(form.customer_visible.data), uploaded_by_id=current_user.id)
    db.session.add(document)
    audit.record("shipment.document_added", shipment, actor=current_user,
                 after={"kind": document.kind, "file": document.filename, "sha256": document.sha256})
    flash(_("Document attached."))
    return see_other(url_for("shipping.detail", shipment_id=shipment.id) + "#documents")


def _document(document_id: int) -> ShipmentDocument:
    document = db.session.get(ShipmentDocument, document_id)
    if document is None:
        abort(404)
    return document


@bp.get("/shipping/documents/<int:document_id>")
@login_required
def document(document_id: int):
    """Download a shipment's document, for staff who may see the shipment."""
    item = _document(document_id)
    _shipment(item.shipment_id)
    return send_document(item)


@bp.post("/shipping/documents/<int:document_id>/remove")
@login_required
def remove_document(document_id: int):
    """Take a document off the shipment (the file stays with the audit trail)."""
    item = _document(document_id)
    shipment = _shipment(item.shipment_id, "shipment.view")
    require("shipment.documents")
    audit.record("shipment.document_removed", shipment, actor=current_user,
                 before={"kind": item.kind, "file": item.filename, "sha256": item.sha256})
    db.session.delete(item)
    flash(_("Document removed."))
    return see_other(url_for("shipping.detail", shipment_id=shipment.id) + "#documents")


def send_document(item: ShipmentDocument):
    """The document's file as a download (whoever calls it has checked who may see it)."""
    return uploads.send_stored(item.stored_name, mimetype=item.content_type, as_attachment=True,
                     download_name=item.filename)


def customer_documents(shipment: Shipment) -> list[dict]:
    """What the customer may see of a shipment's documents, for their pages: each attached document
    they may see ({kind, label, title, document}), and the order's final inspection report where QC
    decided one ({kind: "inspection_report", source: "quality", inspections}). send_document(document)
    serves a file once the caller has checked the customer's link."""
    from ..quality import Inspection
    from ..production import WorkOrder
    kinds = dict(DOCUMENT_KIND_CHOICES)
    out = [{"kind": d.kind, "label": str(kinds.get(d.kind, d.kind)), "title": d.title or d.filename, "document": d}
           for d in db.session.scalars(db.select(ShipmentDocument).where(
               ShipmentDocument.shipment_id == shipment.id, ShipmentDocument.customer_visible.is_(True))
               .order_by(ShipmentDocument.id))]
    inspections = db.session.scalars(
        db.select(Inspection).join(WorkOrder, WorkOrder.id == Inspection.work_order_id)
        .where(WorkOrder.order_id == shipment.order_id, Inspection.stage == "final", Inspection.result == "pass")
        .order_by(Inspection.id)).all()
    if inspections:
        out.append({"kind": "inspection_report", "source": "quality", "label": _("Final inspection report"),
                    "title": shipment.order.number, "inspections": inspections, "document": None})
    return out
