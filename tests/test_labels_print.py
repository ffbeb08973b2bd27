"""Labels at the exact sizes label printers take, as PDFs whose page is the label (60×40 and
100×70 mm), an A4 sheet of an order's labels, a stock lot's label, and the process card with a QR
per operation: every code decodes with zbar from the PDF rasterised by poppler."""
import re
import secrets
import shutil
import subprocess
from decimal import Decimal

import pytest

from webapp.extensions import db
from webapp.production.models import WorkCentre, WorkOrder, WorkOrderOperation

from .helpers import text_of

PUBLIC = "https://tracker.example.com"
needs_tools = pytest.mark.skipif(not (shutil.which("zbarimg") and shutil.which("pdftoppm")),
                                 reason="zbarimg and pdftoppm are needed")


def media_box(pdf: bytes) -> list[tuple[float, float]]:
    """Each page's MediaBox width and height in points."""
    return [(float(w), float(h)) for w, h in
            re.findall(rb"/MediaBox\s*\[\s*0(?:\.0+)?\s+0(?:\.0+)?\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)]


def decode_pdf(pdf: bytes, tmp_path, dpi: int = 300) -> list[str]:
    """What zbar reads off every page of the PDF rasterised at dpi (sorted)."""
    source = tmp_path / "doc.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(source), str(tmp_path / "page")], check=True, timeout=60)
    found = []
    for page in sorted(tmp_path.glob("page*.png")):
        out = subprocess.run(["zbarimg", "-q", "--raw", "--nodbus", str(page)], capture_output=True, text=True,
                             timeout=60).stdout
        found += [line for line in out.splitlines() if line]
    return sorted(found)


def _operations(app, work_order_id: int) -> list[str]:
    """Give the work order three operations; their tokens."""
    with app.app_context():
        centre = WorkCentre(code="CNC", name="数控车床")
        db.session.add(centre)
        db.session.flush()
        tokens = []
        for position, name in enumerate(("下料", "车削", "电镀"), start=1):
            token = secrets.token_urlsafe(18)
            db.session.add(WorkOrderOperation(work_order_id=work_order_id, position=position, name=name, token=token,
                                              work_centre_id=centre.id, minutes_per_piece=Decimal("1.5")))
            tokens.append(token)
        db.session.commit()
        return tokens


@needs_tools
@pytest.mark.parametrize("size,points", [("60x40", (170.08, 113.39)), ("100x70", (283.46, 198.43))])
def test_work_order_label_pdf_is_exactly_the_label_and_decodes(app, work_order, as_user, tmp_path, size, points):
    """One page of exactly 60×40 mm (170.08×113.39 pt) or 100×70 mm, whose QR zbar reads as the
    work order's absolute /w/<token>."""
    response = as_user("production").get(f"/production/wo/{work_order.id}/label-{size}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = response.get_data()
    [(width, height)] = media_box(pdf)
    assert (round(width, 2), round(height, 2)) == points
    assert decode_pdf(pdf, tmp_path) == [f"{PUBLIC}/w/{work_order.token}"]


@needs_tools
def test_lot_label_pdf_decodes_to_the_lot_page(app, as_user, tmp_path):
    """A stock lot's 60×40 label reads as /stock/l/<token>, the lot's page."""
    from webapp.stock.models import Lot, Material
    with app.app_context():
        material = Material(code="Q235-20", name="圆钢 Ø20", stock_unit="kg")
        db.session.add(material)
        db.session.flush()
        lot = Lot(material_id=material.id, code="L2026-001", token=secrets.token_urlsafe(18))
        db.session.add(lot)
        db.session.commit()
        lot_id, token = lot.id, lot.token
    viewer = as_user("warehouse")
    pdf = viewer.get(f"/production/lots/{lot_id}/label-60x40.pdf").get_data()
    assert [(round(w, 2), round(h, 2)) for w, h in media_box(pdf)] == [(170.08, 113.39)]
    assert decode_pdf(pdf, tmp_path) == [f"{PUBLIC}/stock/l/{token}"]
    sheet = viewer.get(f"/production/lots/labels-100x70.pdf?lot={lot_id}&lot={lot_id}").get_data()
    assert decode_pdf(sheet, tmp_path / "sheet" if (tmp_path / "sheet").mkdir() is None else None) == [
        f"{PUBLIC}/stock/l/{token}"] * 2
    assert viewer.get("/production/lots/labels-60x40.pdf").status_code == 404
    page = viewer.get(f"/production/lots/{lot_id}/label/60x40")
    assert page.status_code == 200 and "L2026-001" in text_of(page)


@needs_tools
def test_process_card_pdf_has_a_qr_per_operation(app, work_order, as_user, tmp_path):
    """The A4 process card: the work order's own QR and one per operation (/o/<token>), all decoded."""
    tokens = _operations(app, work_order.id)
    viewer = as_user("production")
    pdf = viewer.get(f"/production/wo/{work_order.id}/card.pdf").get_data()
    assert [(round(w), round(h)) for w, h in media_box(pdf)] == [(595, 842)]
    expected = sorted([f"{PUBLIC}/w/{work_order.token}"] + [f"{PUBLIC}/o/{t}" for t in tokens])
    assert decode_pdf(pdf, tmp_path, dpi=200) == expected
    page = text_of(viewer.get(f"/production/wo/{work_order.id}/card"))
    for name in ("下料", "车削", "电镀", "数控车床"):
        assert name in page
    assert page.count('role="img"') >= 4 and "150" in page  # 100 pieces × 1.5 min


@needs_tools
def test_a4_sheet_of_an_orders_labels(app, make_order, as_user, tmp_path):
    """An order with two work orders: an A4 page with both labels, both decoded."""
    from webapp.production import services
    order_id = make_order("in_production", quantity="10")
    with app.app_context(), app.test_request_context():
        first = db.session.scalar(db.select(WorkOrder).where(WorkOrder.order_id == order_id))
        from webapp.auth import User
        services.split(first, Decimal("4"), db.session.scalar(db.select(User).where(User.username == "production-maker")))
        db.session.commit()
        tokens = sorted(f"{PUBLIC}/w/{w.token}" for w in db.session.scalars(
            db.select(WorkOrder).where(WorkOrder.order_id == order_id)))
    viewer = as_user("production")
    pdf = viewer.get(f"/production/orders/{order_id}/labels-60x40.pdf").get_data()
    assert [(round(w), round(h)) for w, h in media_box(pdf)] == [(595, 842)]
    assert decode_pdf(pdf, tmp_path) == tokens
    assert viewer.get(f"/production/orders/{order_id}/labels").status_code == 200
    assert viewer.get(f"/production/wo/1/label-70x40.pdf").status_code == 404


def test_sized_label_page_prints_at_exact_size(app, work_order, as_user):
    """The browser's print page names the @page size class and links the exact-size PDF."""
    page = as_user("production").get(f"/production/wo/{work_order.id}/label/100x70").get_data(as_text=True)
    assert 'class="label-print label-100x70"' in page and 'width="100mm" height="70mm"' in page
    assert f"/production/wo/{work_order.id}/label-100x70.pdf" in page
