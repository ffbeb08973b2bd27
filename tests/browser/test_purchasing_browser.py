"""What to buy and the receive page in Chromium, in Chinese, on a 390 px phone and an 820 px
warehouse tablet: nothing wider than the screen; on the tablet the warehouse types "2,000" kg of
steel bought by the tonne and the order shows 2 t received and the new lot."""
from datetime import date
from decimal import Decimal

from playwright.sync_api import expect

from webapp.extensions import db
from webapp.purchasing import services
from webapp.purchasing.models import PurchaseOrder, Supplier
from webapp.stock import Location, Material, ledger

from .test_closing_browser import log_in
from .test_field_browser import assert_fits

TABLET = {"width": 820, "height": 1180}


def _firm(app):
    """Two materials short, one late order of 3 t of steel; the steel line's id."""
    with app.app_context():
        steel = Material(code="STEEL-45", name="45# 圆钢 Ø40", stock_unit="kg", purchase_unit="t",
                         purchase_factor=Decimal("1000"), last_cost=Decimal("4.8"))
        bolt = Material(code="BOLT-M8", name="内六角螺栓 M8×30", stock_unit="pcs", purchase_unit="box",
                        purchase_factor=Decimal("250"))
        db.session.add_all([steel, bolt, Location(code="A1", name="原材料库"), Location(code="B2", name="外协库"),
                            Supplier(name="宝钢贸易有限公司", lead_days=10)])
        db.session.flush()
        services.request_shortage(steel, Decimal("1500"), needed_by=date(2026, 12, 20))
        services.request_shortage(bolt, Decimal("1200"), needed_by=date(2026, 12, 12), note="急")
        order = services.create_purchase_order(db.session.scalar(db.select(Supplier)), date(2026, 11, 20),
                                               [services.LineInput(steel, Decimal("3"), Decimal("4800"))])
        services.send(order, None)
        db.session.commit()
        return order.lines[0].id


def test_what_to_buy_and_receive_on_a_phone_and_a_tablet(app, live_server, browser, browser_context_args,
                                                        browser_problems, make_user, shoot):
    line_id = _firm(app)
    make_user("purchasing", "warehouse", username="cai.gou", locale="zh")
    context = browser_problems.watch(browser.new_context(**{**browser_context_args, "locale": "zh-CN"}))
    try:
        page = context.new_page()
        log_in(page, live_server, "cai.gou")
        page.goto(live_server + "/purchasing/")
        expect(page.locator("h1")).to_contain_text("待采购")
        expect(page.locator("section.need")).to_have_count(2)
        assert_fits(page)
        shoot(page, "purchasing-what-to-buy-390")
        page.locator("#buy button.wide").click()  # the bolts are ticked (short), the steel is not
        expect(page.locator("h1")).to_contain_text("新建采购单")
        expect(page.locator("label[for^=price-]")).to_have_count(1)
        page.locator("input[name^=price-]").fill("87.5")
        assert_fits(page)
        shoot(page, "purchasing-new-order-390")
        page.locator("form.card button[type=submit]").click()
        expect(page.locator("h1")).to_contain_text("PO-2026-0002")
        expect(page.locator("table")).to_contain_text("4.8 box")
        page.goto(live_server + f"/purchasing/lines/{line_id}/receive")
        assert_fits(page)
        shoot(page, "purchasing-receive-390")
        page.set_viewport_size(TABLET)
        page.goto(live_server + "/purchasing/")
        assert_fits(page)
        shoot(page, "purchasing-what-to-buy-820")
        page.goto(live_server + f"/purchasing/lines/{line_id}/receive")
        page.locator("#quantity").fill("2,000")
        page.locator("#unit").select_option("kg")
        page.locator("#supplier_lot").fill("炉号 H8812")
        page.locator("#location_id").select_option(label="B2 · 外协库")
        assert_fits(page)
        shoot(page, "purchasing-receive-820")
        page.locator("form.receive button[type=submit]").click()
        expect(page.locator("section.received-lot")).to_contain_text("炉号 H8812")
        assert_fits(page)
        shoot(page, "purchasing-received-820")
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(page.url)
        assert_fits(page)
        shoot(page, "purchasing-order-390")
        browser_problems.check(page)
    finally:
        context.close()
    with app.app_context():
        order = db.session.scalar(db.select(PurchaseOrder).where(PurchaseOrder.number == "PO-2026-0001"))
        assert order.status == "partial" and order.lines[0].received == Decimal("2")
        assert ledger.on_hand(order.lines[0].material_id) == Decimal("2000")
