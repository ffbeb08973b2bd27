"""Labels and process cards as PDFs at their exact size: a thermal label printer's 60×40 or
100×70 mm page, an A4 sheet of labels to cut apart, the A4 process card (流程卡). iOS prints a web
page on its own paper size whatever the print CSS says; a PDF's page is the label.

It lives here, above production and stock, because the CJK font and the PDF helpers are the
documents' (pdf.py); its routes are added to the production blueprint (docs/decisions.md)."""
import io

from flask import abort, send_file
from flask_babel import gettext as _
from fpdf import FPDF
from flask_login import login_required
from sqlalchemy.orm import selectinload

from .. import qr
from ..loading import load
from ..orders import Order
from ..permissions import requires
from ..production import WorkOrder, labels
from ..production import bp as production_bp
from ..stock import Lot
from ..extensions import db
from ..inputs import optional_row_id
from .pdf import FONT, FONT_DIR, FONT_FILE, printable

MIN_TYPE = 5.5  # pt: about 2 mm, the smallest type read on a label


class LabelPDF(FPDF):
    """Pages of one size (mm) with the CJK font; no headers, footers or page breaks of its own."""

    def __init__(self, width: float, height: float, title: str, orientation: str = "portrait"):
        super().__init__(orientation=orientation, unit="mm", format=(width, height))
        import os
        self.add_font(FONT, "", os.path.join(FONT_DIR, FONT_FILE))
        self.set_auto_page_break(False)
        self.set_margins(0, 0, 0)
        self.set_title(title)
        self.set_creator("order-tracker")
        self.set_font(FONT, size=8)

    def normalize_text(self, text: str) -> str:
        """Characters the font lacks print as □ (pdf.printable), never an error."""
        return super().normalize_text(printable(text)[0])

    def qr_code(self, url: str, x: float, y: float, size: float) -> None:
        """url's QR as vector squares, size × size mm at (x, y), quiet zone included (white)."""
        matrix = qr.modules(url)
        module = size / len(matrix)
        self.set_fill_color(255, 255, 255)
        self.rect(x, y, size, size, style="F")
        self.set_fill_color(0, 0, 0)
        for row_index, row in enumerate(matrix):
            column = 0
            while column < len(row):
                if row[column]:
                    start = column
                    while column < len(row) and row[column]:
                        column += 1
                    # a hair wider than the module: no white seams between runs in a rasteriser
                    self.rect(x + start * module, y + row_index * module, (column - start) * module + 0.01,
                              module + 0.01, style="F")
                else:
                    column += 1

    def fitted_text(self, x: float, y: float, text: str, room: float, size: float, cut: bool) -> None:
        """text at (x, baseline y) in at most room mm: smaller type first, then (unless it must stay
        whole, like a number) cut with an ellipsis."""
        self.set_font(FONT, size=size)
        while self.get_string_width(text) > room and size > MIN_TYPE:
            size -= 0.25
            self.set_font(FONT, size=size)
        if cut:
            while self.get_string_width(text) > room and len(text) > 1:
                text = text[:-2] + "…"
        elif self.get_string_width(text) > room:  # whole: shrink below the minimum rather than cut
            size = size * room / self.get_string_width(text)
            self.set_font(FONT, size=size)
        self.text(x, y, text)

    def label(self, url: str, lines: list[str], x: float, y: float, width: float, height: float) -> None:
        """One label drawn as the SVG draws it (production/labels.py): the QR top left, the lines
        beside it, the number across the bottom, never cut."""
        k = height / 40  # as the SVG: a taller label prints everything larger in proportion
        qr_size = height - 11 * k
        self.qr_code(url, x + 2, y + 2, qr_size)
        text_x = x + qr_size + 4
        points = 3.2 * k * 72 / 25.4  # the SVG's 3.2 mm type
        for index, text in enumerate(lines[1:5]):
            self.fitted_text(text_x, y + (8 + index * 6.5) * k, text, width - qr_size - 6, points, cut=True)
        if lines:
            self.fitted_text(x + 2, y + height - 2.5 * k, lines[0], width - 4, 4.6 * k * 72 / 25.4, cut=False)


def _pdf_response(pdf: LabelPDF, name: str):
    return send_file(io.BytesIO(bytes(pdf.output())), mimetype="application/pdf", as_attachment=False,
                     download_name=name)


def _size(key: str) -> tuple[int, int]:
    dims = labels.size_of(key)
    if dims is None:
        abort(404)
    return dims


def single_label_pdf(url: str, lines: list[str], size: str) -> bytes:
    """One label on a page of exactly its size."""
    width, height = _size(size)
    pdf = LabelPDF(width, height, lines[0] if lines else "")
    pdf.add_page()
    pdf.label(url, lines, 0, 0, width, height)
    return bytes(pdf.output())


def sheet_pdf(items: list[tuple[str, list[str]]], size: str, title: str) -> bytes:
    """Labels laid out on A4 pages in a grid with 10 mm margins, a thin cut line round each."""
    width, height = _size(size)
    pdf = LabelPDF(210, 297, title)
    across, down = int((210 - 20) // width), int((297 - 20) // height)
    per_page = max(across * down, 1)
    for index, (url, lines) in enumerate(items):
        if index % per_page == 0:
            pdf.add_page()
        slot = index % per_page
        x, y = 10 + (slot % across) * width, 10 + (slot // across) * height
        pdf.set_draw_color(200, 200, 200)
        pdf.set_line_width(0.1)
        pdf.rect(x, y, width, height)
        pdf.label(url, lines, x, y, width, height)
    if not items:
        pdf.add_page()
    return bytes(pdf.output())


def card_pdf(work_order) -> bytes:
    """The process card on A4: the work order's own QR and facts, then one row per operation with
    its QR (the worker scans the operation they report)."""
    pdf = LabelPDF(210, 297, _("Process card") + " " + work_order.number)
    pdf.add_page()
    url, lines = labels.work_order_label(work_order)
    pdf.qr_code(url, 160, 12, 36)
    pdf.set_font(FONT, size=18)
    pdf.text(14, 22, _("Process card"))
    pdf.fitted_text(14, 32, work_order.number, 140, 14, cut=False)
    for index, text in enumerate(lines[1:]):
        pdf.fitted_text(14, 40 + index * 6, text, 140, 10, cut=True)
    y = 60
    row_height = 34
    pdf.set_font(FONT, size=9)
    pdf.text(14, y, _("Step"))
    pdf.text(28, y, _("Operation"))
    pdf.text(88, y, _("Work centre"))
    pdf.text(128, y, _("Planned minutes"))
    y += 3
    for operation in work_order.operations:
        if y + row_height > 287:
            pdf.add_page()
            y = 14
        pdf.set_draw_color(200, 200, 200)
        pdf.line(14, y, 196, y)
        pdf.set_font(FONT, size=11)
        pdf.text(14, y + 8, str(operation.position))
        pdf.fitted_text(28, y + 8, operation.name, 58, 11, cut=True)
        centre = operation.work_centre.name if operation.work_centre else (_("Outsourced") if operation.outsourced else "")
        pdf.fitted_text(88, y + 8, centre, 38, 10, cut=True)
        minutes = operation.minutes_per_piece * work_order.quantity
        pdf.text(128, y + 8, f"{minutes.normalize():f}")
        pdf.qr_code(labels.operation_url(operation), 166, y + 2, 30)
        y += row_height
    return bytes(pdf.output())


@production_bp.get("/production/wo/<int:work_order_id>/label-<size>.pdf")
@login_required
@requires("workorder.view")
def label_pdf(work_order_id: int, size: str):
    """A work order's label as a PDF whose page is the label (60×40 or 100×70 mm)."""
    _size(size)
    work_order = load(WorkOrder, work_order_id, "workorder.view")
    url, lines = labels.work_order_label(work_order)
    return send_file(io.BytesIO(single_label_pdf(url, lines, size)), mimetype="application/pdf",
                     download_name=f"{work_order.number}-{size}.pdf")


@production_bp.get("/production/lots/<int:lot_id>/label-<size>.pdf")
@login_required
@requires("stock.view")
def lot_label_pdf(lot_id: int, size: str):
    """A stock lot's label as a PDF whose page is the label."""
    _size(size)
    lot = load(Lot, lot_id, "stock.view")
    url, lines = labels.lot_label(lot)
    return send_file(io.BytesIO(single_label_pdf(url, lines, size)), mimetype="application/pdf",
                     download_name=f"{lot.code}-{size}.pdf")


@production_bp.get("/production/orders/<int:order_id>/labels-<size>.pdf")
@login_required
@requires("workorder.view")
def label_sheet_pdf(order_id: int, size: str):
    """All labels of an order's work orders on A4 pages."""
    _size(size)
    order = load(Order, order_id, "workorder.view")
    work_orders = db.session.scalars(db.select(WorkOrder).where(WorkOrder.order_id == order.id)
                                     .order_by(WorkOrder.id)).all()
    data = sheet_pdf([labels.work_order_label(w) for w in work_orders], size, order.number or "")
    return send_file(io.BytesIO(data), mimetype="application/pdf", download_name=f"{order.number}-labels.pdf")


@production_bp.get("/production/wo/<int:work_order_id>/card.pdf")
@login_required
@requires("workorder.view")
def process_card_pdf(work_order_id: int):
    """The process card as an A4 PDF."""
    work_order = load(WorkOrder, work_order_id, "workorder.view",
                      options=(selectinload(WorkOrder.operations),))
    return send_file(io.BytesIO(card_pdf(work_order)), mimetype="application/pdf",
                     download_name=f"{work_order.number}-card.pdf")


@production_bp.get("/production/lots/labels-<size>.pdf")
@login_required
@requires("stock.view")
def lots_sheet_pdf(size: str):
    """Several stock lots' labels on A4 pages (a receipt's lots): ?lot=<id>&lot=<id>… (at most 200)."""
    from flask import request
    _size(size)
    ids = [i for i in (optional_row_id(raw) for raw in request.args.getlist("lot")[:200]) if i]
    if not ids:
        abort(404)
    lots = [load(Lot, lot_id, "stock.view") for lot_id in ids]
    data = sheet_pdf([labels.lot_label(lot) for lot in lots], size, _("Labels"))
    return send_file(io.BytesIO(data), mimetype="application/pdf", download_name="lot-labels.pdf")
