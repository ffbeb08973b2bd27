"""The JavaScript budget (DESIGN.md §6): a phone page ships at most 30 KB of compressed JavaScript on
first load. Measured as the server sends it: each script the page loads (its <script> tags, their
static imports, the modulepreloads, and what the page's own elements make it import()), fetched gzip-
encoded and counted in bytes. The scanner's decoder is outside (its own budget): it is fetched only
where the phone has no BarcodeDetector of its own. Run with -s to see the table."""
import re

import pytest

from webapp.extensions import db
from webapp.shipping.models import Shipment, ShipmentLine
from webapp.orders.models import OrderLine

from .helpers import customer_path, unhashed
from .test_js_modules import module_graph

BUDGET = 30_000  # bytes of gzip: 30 KB, counted in thousands to leave no doubt
SCRIPT = re.compile(r'<script (?:type="module" )?src="/static/([^"]+)"')
PRELOAD = re.compile(r'<link rel="modulepreload" href="/static/([^"]+)">')
# What a page's elements make the every-page modules import() at load (on-demand.js, outbox/forms.js, ui.js).
ON_DEMAND = (('class="error-summary"', "js/errors.js"), ("data-keypad-toggle", "js/keypad.js"),
             ("data-offline=", "js/outbox/record.js"), ('id="outbox-list"', "js/outbox/list.js"))


def scripts_of(page: str) -> set[str]:
    """The static names of every script the page loads at once."""
    tags = [unhashed(name) for name in SCRIPT.findall(page)]
    modules = [name for name in tags if name.startswith("js/") and name != "js/outbox-store.js"]
    on_demand = [module for marker, module in ON_DEMAND if marker in page]
    return set(tags) | {unhashed(n) for n in PRELOAD.findall(page)} | module_graph(modules + on_demand)


def gzip_bytes(client, name: str) -> int:
    """The size of a static file as the server sends it to a browser that accepts gzip."""
    response = client.get(f"/static/{name}", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200, name
    size = len(response.get_data())
    response.close()
    return size


def dispatched_shipment(app, make_order, as_user) -> int:
    """An order shipped in full and dispatched: its customer's receipt link is live."""
    order_id = make_order("ready_to_ship")
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    warehouse = as_user("warehouse")
    assert warehouse.post(f"/shipping/orders/{order_id}/new", data={
        f"qty-{line_id}": "100", f"batch-{line_id}": "B-1", "method": "delivery", "carrier": "SF",
        "tracking_no": "SF1", "cost": "10"}).status_code == 303
    with app.app_context():
        shipment_id = db.session.scalar(db.select(Shipment.id).where(Shipment.order_id == order_id))
        lines = list(db.session.scalars(db.select(ShipmentLine.id).where(ShipmentLine.shipment_id == shipment_id)))
    for sline_id in lines:
        warehouse.post(f"/shipping/{shipment_id}/lines/{sline_id}/check", data={"batch": "B-1"})
    assert warehouse.post(f"/shipping/{shipment_id}/pack").status_code == 303
    assert warehouse.post(f"/shipping/{shipment_id}/dispatch", data={"note": ""}).status_code == 303
    return shipment_id


@pytest.fixture
def pages(app, client, as_user, make_order, work_order):
    """One page of each kind a phone opens: name → its HTML."""
    worker = as_user("worker")
    shown = {
        "login": client.get("/login"),
        "my work (office)": as_user("sales").get("/"),
        "outbox": worker.get("/outbox"),
        "worker page": worker.get(f"/w/{work_order.token}"),
        "worker switch": worker.get("/switch"),
        "scanner": as_user("warehouse").get("/scan"),
        "countersign link": app.test_client().get(customer_path(app, "order_countersign",
                                                                make_order("awaiting_countersign"))),
        "receipt link": app.test_client().get(customer_path(app, "delivery_receipt",
                                                            dispatched_shipment(app, make_order, as_user))
                                              + "/receipt"),
    }
    for name, response in shown.items():
        assert response.status_code == 200, name
    return {name: response.get_data(as_text=True) for name, response in shown.items()}


def test_every_phone_page_ships_at_most_30_kb_of_compressed_javascript(client, pages):
    """Each page kind's scripts, gzip-encoded as served, add up to 30 KB at most."""
    sizes, table = {}, []
    for name, page in pages.items():
        scripts = scripts_of(page)
        assert scripts, name
        total = sum(sizes.setdefault(script, gzip_bytes(client, script)) for script in sorted(scripts))
        table.append((name, total, sorted(scripts)))
    for name, total, scripts in table:
        print(f"{total:>7,} B gz  {name}: {' '.join(scripts)}")
    assert all(total <= BUDGET for _name, total, _scripts in table), table


def test_htmx_is_loaded_where_a_page_uses_it_only(pages):
    """The phone pages leave htmx out (no_htmx): nothing on them uses it, no hx- attribute but the CSRF
    header every page's body carries; an office page with htmx actions loads it."""
    for name, page in pages.items():
        attributes = set(re.findall(r"\s(hx-[\w:-]+)=", page)) - {"hx-headers:inherited"}
        loaded = "/static/vendor/htmx-4.0.1.min." in page
        assert loaded == bool(attributes), (name, attributes)
    assert "/static/vendor/htmx-4.0.1.min." in pages["my work (office)"]
