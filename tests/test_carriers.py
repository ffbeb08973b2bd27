"""Issue 13: the firm's carriers and own vehicles, a shipment's carrier and its booked pickup (on the
warehouse's list and My work), and each carrier's record — on time and damaged — where the firm picks
one. On SQLite and PostgreSQL."""
from datetime import date, datetime, timezone

import pytest
import time_machine

from webapp.extensions import db
from webapp.orders.models import OrderLine
from webapp.shipping import carriers
from webapp.shipping.models import Carrier, Pickup, Shipment, ShipmentLine, Vehicle

from .helpers import SIGNATURE, get, text_of
from .test_shipping import link_path, new_shipment, packed

BOTH = pytest.mark.parametrize("app", [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
], indirect=True)


def add_carrier(client, name, code="", phone="", active="y"):
    data = {"nc-name": name, "nc-code": code, "nc-phone": phone}
    if active:
        data["nc-active"] = active
    return client.post("/shipping/carriers/new", data=data)


def carrier_id(app, name) -> int:
    with app.app_context():
        return db.session.scalar(db.select(Carrier.id).where(Carrier.name == name))


@BOTH
def test_the_list_of_carriers_and_vehicles_is_kept_by_the_warehouse(app, as_user, make_user):
    """The warehouse adds and changes carriers (a code in capitals for the tracking adapter) and own
    vehicles (the driver a courier user or a typed name); a taken name or plate, a driver who is no
    courier, hostile strings and ids give 422 with the message and keep the list as it was; sales
    read the page but cannot change it."""
    warehouse = as_user("warehouse")
    assert add_carrier(warehouse, "顺丰速运", "sf", "95338").status_code == 303
    assert add_carrier(warehouse, "中通快递", "ZTO").status_code == 303
    again = add_carrier(warehouse, "顺丰速运")
    assert again.status_code == 422 and "already on the list" in text_of(again)
    assert add_carrier(warehouse, "").status_code == 422
    assert add_carrier(warehouse, "x" * 1_000_000).status_code == 422
    assert add_carrier(warehouse, "NUL\x00name").status_code in (303, 422)
    with app.app_context():
        sf = db.session.scalar(db.select(Carrier).where(Carrier.name == "顺丰速运"))
        assert sf.code == "SF" and sf.phone == "95338" and sf.active
        assert all("\x00" not in c.name for c in db.session.scalars(db.select(Carrier)))
    edit = warehouse.post(f"/shipping/carriers/{sf.id}", data={f"c{sf.id}-name": "顺丰速运", f"c{sf.id}-code": "SF",
                                                               f"c{sf.id}-phone": "95338"})  # no "active": unticked
    assert edit.status_code == 303 and not get(app, Carrier, sf.id).active
    assert warehouse.post(f"/shipping/carriers/{'9' * 20}", data={}).status_code == 404

    driver = make_user("courier", username="ma.driver", name="马师傅")
    clerk = make_user("sales", username="clerk")
    vehicle = {"nv-plate": "粤B·12345", "nv-driver": str(driver), "nv-phone": "139 0000 1234", "nv-active": "y"}
    assert warehouse.post("/shipping/vehicles/new", data=vehicle).status_code == 303
    assert warehouse.post("/shipping/vehicles/new", data=vehicle).status_code == 422  # plate taken
    for bad in (str(clerk), "9" * 20, "abc", "-1"):
        response = warehouse.post("/shipping/vehicles/new", data={**vehicle, "nv-plate": "粤B·99999", "nv-driver": bad})
        assert response.status_code == 422 and "Choose a courier" in text_of(response), bad
    typed = {"nv-plate": "粤B·55555", "nv-driver": "", "nv-driver_name": "临时司机 老王", "nv-active": "y"}
    assert warehouse.post("/shipping/vehicles/new", data=typed).status_code == 303
    with app.app_context():
        rows = {v.plate: v for v in db.session.scalars(db.select(Vehicle))}
        assert set(rows) == {"粤B·12345", "粤B·55555"}
        assert rows["粤B·12345"].driver_label == "马师傅" and rows["粤B·55555"].driver_label == "临时司机 老王"

    sales = as_user("sales")
    page = text_of(sales.get("/shipping/carriers"))
    assert "中通快递" in page and "粤B·12345" in page and "马师傅" in page and "Add a carrier" not in page
    assert add_carrier(sales, "圆通速递").status_code == 403
    assert sales.post("/shipping/vehicles/new", data=vehicle).status_code == 403
    assert as_user("finance").get("/shipping/carriers").status_code == 200


def deliver(app, client, shipment_id, condition="ok", note="", signed_at=None):
    """Pack, dispatch and have the customer sign for the shipment (at signed_at)."""
    packed(app, client, shipment_id)
    assert client.post(f"/shipping/{shipment_id}/dispatch", data={"note": ""}).status_code == 303
    with app.app_context():
        sline = db.session.scalar(db.select(ShipmentLine).where(ShipmentLine.shipment_id == shipment_id))
    path = link_path(app, "delivery_receipt", shipment_id) + "/receipt"
    data = {f"line-{sline.id}-qty": str(sline.quantity), f"line-{sline.id}-condition": condition,
            f"line-{sline.id}-note": note, "name": "Ann", "consent": "y", "strokes": SIGNATURE}
    if signed_at is None:
        assert app.test_client().post(path, data=data).status_code == 200
        return
    with time_machine.travel(signed_at, tick=False):
        assert app.test_client().post(path, data=data).status_code == 200


@BOTH
def test_a_shipment_picks_a_carrier_and_the_carriers_record_shows_where_it_is_picked(app, make_order, as_user):
    """Four shipments with 顺丰: delivered on time, on time but signed "in good order" with damage
    written in the note, late, and damaged (on the order's date): on time 75%, damaged 50%, shown in
    the carrier select
    of a new shipment and on the carriers page. Another carrier without deliveries says so. An
    unknown or inactive carrier, a 20-digit id, a pick of the wrong kind: refused, nothing made."""
    warehouse = as_user("warehouse")
    add_carrier(warehouse, "顺丰速运", "SF")
    add_carrier(warehouse, "京东物流", "JD")
    add_carrier(warehouse, "停用快递", "", active="")
    sf, jd, gone = carrier_id(app, "顺丰速运"), carrier_id(app, "京东物流"), carrier_id(app, "停用快递")
    order_id = make_order("ready_to_ship", quantity="5000", delivery_date=date(2026, 12, 20))
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    for bad in (f"c{gone}", "c" + "9" * 20, "x1", f"v{sf}", "c-1", "c\x00"):
        response = new_shipment(warehouse, order_id, line_id, "10", carrier_pick=bad)
        assert response.status_code == 409, bad
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Shipment)) == 0
    ids = []
    for eta in ("2026-12-10", "2026-12-10", "2026-12-10", None):
        extra = {"carrier_pick": f"c{sf}", "carrier": "", "tracking_no": "SF1"}
        if eta:
            extra["eta"] = eta
        assert new_shipment(warehouse, order_id, line_id, "1,000", **extra).status_code == 303
        with app.app_context():
            ids.append(db.session.scalar(db.select(Shipment.id).order_by(Shipment.id.desc())))
    shipment = get(app, Shipment, ids[0])
    assert shipment.carrier_id == sf and shipment.carrier == "顺丰速运"  # the text kept for older pages
    shanghai_noon = lambda day: datetime(2026, 12, day, 4, 0, tzinfo=timezone.utc)  # noqa: E731
    deliver(app, warehouse, ids[0], signed_at=shanghai_noon(9))
    deliver(app, warehouse, ids[1], note="外箱压坏，货物完好", signed_at=shanghai_noon(10))
    deliver(app, warehouse, ids[2], signed_at=shanghai_noon(12))  # two days after its ETA
    deliver(app, warehouse, ids[3], condition="damaged", signed_at=shanghai_noon(19))  # no ETA: the order's date
    with app.app_context():
        record = carriers.records()[sf]
        assert (record.delivered, record.on_time, record.damaged) == (4, 3, 2)
    page = text_of(warehouse.get(f"/shipping/orders/{order_id}"))
    assert "顺丰速运 · on time 75% · damaged 50%" in page
    assert "京东物流 · no deliveries yet" in page and "停用快递" not in page
    listing = text_of(warehouse.get("/shipping/carriers"))
    assert "75%" in listing and "50%" in listing
    zh = as_user("warehouse", locale="zh")
    assert "顺丰速运 · 准时 75% · 破损 50%" in text_of(zh.get(f"/shipping/orders/{order_id}"))


@BOTH
def test_a_pickup_is_booked_for_a_date_and_window_and_shows_on_the_lists(app, make_order, as_user, make_user):
    """The warehouse sets the carrier (an own vehicle), the tracking number and books a pickup: it shows
    on the shipment, the shipments list and My work; a window that ends before it starts, half a
    window, hostile times are refused with the message; booking again replaces the booking; once
    the goods left, no pickup is booked."""
    warehouse = as_user("warehouse")
    driver = make_user("courier", username="ma.driver", name="马师傅")
    assert warehouse.post("/shipping/vehicles/new", data={"nv-plate": "粤B·12345", "nv-driver": str(driver),
                                                          "nv-active": "y"}).status_code == 303
    with app.app_context():
        vehicle_id = db.session.scalar(db.select(Vehicle.id))
    order_id = make_order("ready_to_ship", quantity="100")
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    assert new_shipment(warehouse, order_id, line_id, "100").status_code == 303
    with app.app_context():
        shipment_id = db.session.scalar(db.select(Shipment.id))
    url = f"/shipping/{shipment_id}/carrier"
    base = {"cp-carrier_pick": f"v{vehicle_id}", "cp-tracking_no": "OWN-1", "cp-pickup_on": "2026-12-02",
            "cp-pickup_from": "14:00", "cp-pickup_to": "16:00"}
    backwards = warehouse.post(url, data={**base, "cp-pickup_to": "13:00"})
    assert backwards.status_code == 422 and "must end after it starts" in text_of(backwards)
    half = warehouse.post(url, data={**base, "cp-pickup_to": ""})
    assert half.status_code == 422 and "both ends of its window" in text_of(half)
    for bad in ("25:00", "\x00", "9" * 20):
        assert warehouse.post(url, data={**base, "cp-pickup_from": bad}).status_code == 422, bad
    assert as_user("sales").post(url, data=base).status_code == 403
    assert warehouse.post(url, data={**base, "cp-pickup_from": "09:00", "cp-pickup_to": "11:00"}).status_code == 303
    assert warehouse.post(url, data=base).status_code == 303  # booked again: replaces the first
    with app.app_context():
        pickups = db.session.scalars(db.select(Pickup)).all()
        assert len(pickups) == 1 and pickups[0].window_from.strftime("%H:%M") == "14:00"
        assert pickups[0].vehicle_id == vehicle_id
    shipment = get(app, Shipment, shipment_id)
    assert shipment.vehicle_id == vehicle_id and shipment.tracking_no == "OWN-1" and "粤B·12345" in shipment.carrier
    assert "Pickup booked Dec 2, 2026 14:00–16:00" in text_of(warehouse.get(f"/shipping/{shipment_id}"))
    assert "pickup Dec 2, 2026 14:00–16:00" in text_of(warehouse.get("/shipping/"))
    assert "Pickup 14:00–16:00" in text_of(warehouse.get("/"))
    packed(app, warehouse, shipment_id)
    assert warehouse.post(f"/shipping/{shipment_id}/dispatch", data={"note": ""}).status_code == 303
    assert "Pickup 14:00–16:00" not in text_of(warehouse.get("/"))  # the goods left
    assert warehouse.post(url, data=base).status_code == 409


def test_free_text_carriers_get_their_code():
    """The migration and the list read the same table of known carriers' codes."""
    assert carriers.guess_code("顺丰速运 SF Express") == "SF"
    assert carriers.guess_code("DHL Express") == "DHL"
    assert carriers.guess_code("Schenker") == ""
    assert carriers.guess_code("京东物流") == "JD"


def test_the_migration_turns_typed_carriers_into_the_list(tmp_path):
    """Shipments made before the list had their carrier typed: upgrading makes one carrier per distinct
    name (trimmed; a known name with its code) and links each shipment to it; an empty one stays none."""
    from flask_migrate import downgrade, upgrade

    from webapp import create_app
    from webapp.auth.models import User
    from webapp.customers.models import Customer
    from webapp.orders.models import Order
    path = tmp_path / "migrated.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "x", "TESTING": True})
    with app.app_context():
        upgrade()
        user = User(username="wh", name="WH", employee_no="W1", password_hash="", email="wh@example.com")
        customer = Customer(name="C", abbreviation="CC", contact_name="c", contact_email="c@example.com")
        db.session.add_all([user, customer])
        db.session.flush()
        order = Order(customer_id=customer.id, sales_rep_id=user.id)
        db.session.add(order)
        db.session.flush()
        for number, typed in enumerate(("顺丰速运 SF Express", "DHL Express", " DHL Express ", "", "本地货运")):
            db.session.add(Shipment(number=f"S{number}", order_id=order.id, carrier=typed, created_by_id=user.id))
        db.session.commit()
        downgrade(revision="7726c9c835f8")
        upgrade()
        db.session.remove()
        listed = {c.name: c for c in db.session.scalars(db.select(Carrier))}
        assert {name: c.code for name, c in listed.items()} == {"顺丰速运 SF Express": "SF", "DHL Express": "DHL",
                                                                 "本地货运": ""}
        linked = {s.number: s.carrier_id for s in db.session.scalars(db.select(Shipment))}
        assert linked == {"S0": listed["顺丰速运 SF Express"].id, "S1": listed["DHL Express"].id,
                          "S2": listed["DHL Express"].id, "S3": None, "S4": listed["本地货运"].id}
        db.engine.dispose()
