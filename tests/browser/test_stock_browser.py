"""The warehouse's stock pages in Chromium at 390 px (a phone) and 820 px (a tablet), in Chinese:
the material page, a lot's page with its trace, and the count sheet; none scrolls sideways, and the
count is typed into the sheet's big inputs and saved."""
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from webapp.extensions import db
from webapp.stock.models import StocktakeLine

from ..conftest import PASSWORD, login
from ..test_lot_trace import traced  # noqa: F401  (the fixture)
from .conftest import PHONE

TABLET = {**PHONE, "viewport": {"width": 820, "height": 1180}}


def no_sideways_scroll(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")


@pytest.mark.parametrize("device, width", [(PHONE, 390), (TABLET, 820)], ids=["phone", "tablet"])
def test_stock_pages_on_phone_and_tablet(app, live_server, browser, browser_problems, traced, make_user,  # noqa: F811
                                         make_product, shoot, device, width):
    make_user("warehouse", username="cang.ku", name="仓库 王")
    client = app.test_client()
    login(client, "cang.ku")
    started = client.post("/stock/stocktakes", data={"location_id": str(traced["a"])})
    stocktake_path = started.headers["Location"]
    product_id = make_product("BOM-1")
    context = browser_problems.watch(browser.new_context(**{**device, "locale": "zh-CN"}))
    try:
        page = context.new_page()
        page.goto(live_server + "/login")
        page.locator("input[name=username]").fill("cang.ku")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("input[name=password]").press("Enter")
        expect(page.locator("nav.tabs")).to_be_visible()

        page.goto(live_server + f"/stock/materials/{traced['material']}")
        expect(page.locator("h1")).to_contain_text("ST-304")
        assert no_sideways_scroll(page)
        shoot(page, f"stock-material-{width}")

        page.goto(live_server + f"/stock/lots/{traced['finished']}")
        expect(page.get_by_text("所用物料")).to_be_visible()
        assert no_sideways_scroll(page)
        shoot(page, f"stock-lot-trace-{width}")

        page.goto(live_server + f"/stock/bom/{product_id}")
        expect(page.locator("h1")).to_contain_text("BOM-1")
        page.locator("select[name=line-0-material]").select_option(label="ST-304 · Steel sheet (kg)")
        page.locator("input[name=line-0-qty]").fill("0.0042")
        page.get_by_role("button", name="保存为新版本").click()
        expect(page.locator(".flash").first).to_contain_text("第 1 版")
        assert no_sideways_scroll(page)
        shoot(page, f"stock-bom-{width}")

        page.goto(live_server + stocktake_path)
        expect(page.locator("h1")).to_contain_text("ST-")
        inputs = page.locator("input.count-input")
        expect(inputs.first).to_be_visible()
        assert inputs.first.bounding_box()["height"] >= 44  # a big target on a tablet or phone
        inputs.nth(0).fill("30")  # BRK-FG, sorted by material code
        inputs.nth(1).fill("70.5")  # ST-304
        assert no_sideways_scroll(page)
        shoot(page, f"stock-count-sheet-{width}")
        page.get_by_role("button", name="保存盘点数").click()
        expect(page.locator(".flash").first).to_contain_text("盘点数已保存")
        browser_problems.check(page)
    finally:
        context.close()
    with app.app_context():
        counted = sorted(line.counted for line in db.session.scalars(db.select(StocktakeLine)))
        assert counted == [Decimal("30"), Decimal("70.5")]
