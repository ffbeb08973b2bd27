"""The packing documents as PDFs: carton labels at their exact size (one a page, or on A4 sheets to
cut apart) and the delivery note (送货单) on A4 with the firm's letterhead, the shipment's QR and the
firm's seal. Their routes are added to the shipping blueprint (the shipment's pages are there)."""
import io
from datetime import datetime, timezone

from flask import abort, send_file
from flask_babel import gettext as _
from flask_login import login_required

from .. import links
from ..aftersales import bp as aftersales_bp
from ..aftersales import service_order
from ..extensions import db
from ..loading import load
from ..shipping import Shipment, bp as shipping_bp, delivery_note_data, packing
from ..templating import datetime_local, quantity
from .copies import seal_path
from .labels import LabelPDF, _size, sheet_pdf
from .pdf import FONT, CopyPDF


def _labels(shipment: Shipment) -> list[tuple[str, list[str]]]:
    return [packing.carton_label(carton) for carton in packing.shipment_cartons(shipment)]


def carton_labels_pdf_bytes(shipment: Shipment, size: str) -> bytes:
    """Each carton's label on a page of exactly the label's size."""
    width, height = _size(size)
    pdf = LabelPDF(width, height, _("Carton labels") + " " + shipment.number)
    items = _labels(shipment)
    for url, lines in items:
        pdf.add_page()
        pdf.label(url, lines, 0, 0, width, height)
    if not items:
        pdf.add_page()
    return bytes(pdf.output())


@shipping_bp.get("/shipping/<int:shipment_id>/cartons/labels-<size>.pdf")
@login_required
def carton_labels_pdf(shipment_id: int, size: str):
    """The shipment's carton labels as a PDF whose pages are the labels (60×40 or 100×70 mm)."""
    _size(size)
    shipment = load(Shipment, shipment_id, "shipment.view")
    return send_file(io.BytesIO(carton_labels_pdf_bytes(shipment, size)), mimetype="application/pdf",
                     download_name=f"{shipment.number}-cartons-{size}.pdf")


@shipping_bp.get("/shipping/<int:shipment_id>/cartons/sheet-<size>.pdf")
@login_required
def carton_sheet_pdf(shipment_id: int, size: str):
    """The shipment's carton labels laid out on A4 sheets to cut apart."""
    _size(size)
    shipment = load(Shipment, shipment_id, "shipment.view")
    data = sheet_pdf(_labels(shipment), size, _("Carton labels") + " " + shipment.number)
    return send_file(io.BytesIO(data), mimetype="application/pdf", download_name=f"{shipment.number}-cartons.pdf")


def delivery_note_pdf_bytes(shipment: Shipment, for_customer: bool = False) -> bytes:
    """The delivery note on A4: the firm's letterhead, customer and address, lines with lots (no
    prices), cartons with weight and size, the QR codes, and a receiver's block beside the seal.
    for_customer: the copy the customer downloads, without the courier's code (a capability of theirs)."""
    data = delivery_note_data(shipment)
    if for_customer:
        courier = links.current("courier", shipment.id)
        data["codes"] = [code for code in data["codes"] if courier is None or code[1] != courier.url]
    firm, order, contact = data["firm"], data["order"], data["contact"]
    made = _("Made %(when)s", when=datetime_local(datetime.now(timezone.utc), "short"))
    pdf = CopyPDF(firm["name"], _("Delivery note (送货单)"), shipment.number, made)
    pdf.add_page()
    letterhead = " · ".join(part for part in (firm["address"], firm["phone"] and _("Tel. %(phone)s",
                                                                                       phone=firm["phone"])) if part)
    top = pdf.get_y()
    codes = data["codes"][:2]
    for index, (caption, url) in enumerate(codes):
        x = pdf.w - pdf.r_margin - 32 - index * 36
        LabelPDF.qr_code(pdf, url, x, top, 30)  # the labels' vector QR, drawn on this page
        pdf.set_font(FONT, size=6.5)
        pdf.set_xy(x, top + 30.5)
        pdf.multi_cell(30, 3, caption, align="C")
    pdf.set_y(top)
    pdf.set_right_margin(pdf.r_margin + 36 * len(codes))
    pdf.title_block(letterhead)
    pdf.set_right_margin(16)
    pdf.set_y(max(pdf.get_y(), top + 38))
    pdf.facts([
        (_("Customer"), data["customer"].name),
        (_("Order"), order.number or ""),
        (_("Customer PO number"), order.customer_po or ""),
        (_("Receiver"), " · ".join(part for part in (contact.name, contact.phone) if part) if contact else ""),
        (_("Delivery address"), contact.address if contact else ""),
        (_("Carrier"), " ".join(part for part in (shipment.carrier, shipment.tracking_no) if part)),
    ])
    rows = []
    for index, entry in enumerate(data["lines"], start=1):
        line = entry["line"]
        described = [line.order_line.model]
        if line.order_line.description:
            described.append(line.order_line.description)
        if line.order_line.customer_part_no:
            described.append(f"{_('Your part no.')} {line.order_line.customer_part_no}")
        lots = ", ".join(f"{code} × {quantity(n)}" for code, n in entry["lots"]) or line.batch or ""
        rows.append([str(index), "\n".join(described), f"{quantity(line.quantity)} {line.order_line.unit}", lots])
    pdf.lines_table(["#", _("Model"), _("Quantity"), _("Lot")], rows, widths=[8, 84, 30, 56], numeric={0, 2})
    if data["cartons"]:
        pdf.heading(_("Cartons"))
        carton_rows = []
        for carton in data["cartons"]:
            size = (f"{quantity(carton.length_cm)}×{quantity(carton.width_cm)}×{quantity(carton.height_cm)}"
                    if carton.length_cm and carton.width_cm and carton.height_cm else "")
            carton_rows.append([carton.number, carton.contents or "", carton.lot.code if carton.lot else "",
                                quantity(carton.weight_kg) if carton.weight_kg is not None else "", size])
        pdf.lines_table([_("Carton"), _("Contents"), _("Lot"), _("Weight (kg)"), _("Size (cm)")], carton_rows,
                        widths=[46, 40, 46, 20, 26], numeric={3})
        pdf.facts([(_("Cartons"), str(len(data["cartons"]))), (_("Total weight"), _("%(kg)s kg",
                                                                                      kg=quantity(data["total_kg"])))])
    pdf.signature_box(_("Received in good order by (signature and stamp)"), [_("Name"), _("Date")],
                      seal=seal_path(), height=28)
    return pdf.output_bytes()


@aftersales_bp.get("/c/<token>/shipments/<int:shipment_id>/delivery-note.pdf")
def customer_delivery_note_pdf(token: str, shipment_id: int):
    """The delivery note (送货单) of one of the order's shipments, for the customer through their order
    link (another order's shipment: 404)."""
    order = service_order(links.resolve(token))
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None or shipment.order_id != order.id:
        abort(404)
    return send_file(io.BytesIO(delivery_note_pdf_bytes(shipment, for_customer=True)), mimetype="application/pdf",
                     as_attachment=True, download_name=f"{shipment.number}-delivery-note.pdf")


@shipping_bp.get("/shipping/<int:shipment_id>/delivery-note.pdf")
@login_required
def delivery_note_pdf(shipment_id: int):
    """The delivery note (送货单) as an A4 PDF on the firm's letterhead."""
    shipment = load(Shipment, shipment_id, "shipment.view")
    return send_file(io.BytesIO(delivery_note_pdf_bytes(shipment)), mimetype="application/pdf",
                     download_name=f"{shipment.number}-delivery-note.pdf")
