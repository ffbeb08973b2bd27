"""Nothing queued on a phone is stranded by an upgrade (docs/decisions.md): every outbox entry recorded
in tests/fixtures/outbox/ by an older version of the code (tests/browser/test_record_outbox_fixtures_browser.py)
is replayed against the code as it is now, exactly as the phone's outbox sends it (outbox-store.js:
`send`). It applies, or it becomes a conflict the office sees; never a 404, a 422 or a 500 the phone
would keep forever."""
import base64
import io
import json
from pathlib import Path

import pytest

from webapp.extensions import db
from webapp.sync import replay
from webapp.sync.models import IdempotencyRecord, SyncConflict

from .helpers import text_of
from .test_sync import link_replay, packed_shipment_with_courier_link, phone  # noqa: F401 (fixtures)

FIXTURES = Path(__file__).parent / "fixtures" / "outbox"


def load(name: str) -> dict:
    """A recorded fixture."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def rename(text: str, replacements: dict[str, str]) -> str:
    """text with the recording's ids and tokens replaced by this database's."""
    for old, new in replacements.items():
        text = text.replace(old, new)
    return text


def entry_request(entry: dict, replacements: dict[str, str]) -> tuple[str, dict]:
    """The path and the multipart data the outbox would post for entry (outbox-store.js: body())."""
    path = rename("/" + entry["url"].split("/", 3)[3], replacements)
    data: dict[str, list] = {}
    for name, value in entry["fields"]:
        data.setdefault(rename(name, replacements), []).append(value)
    for name, encoded, filename, _type in entry["files"]:
        data.setdefault(name, []).append((io.BytesIO(base64.b64decode(encoded)), filename))
    return path, data


def send_entry(app, entry: dict, path: str, data: dict, device=None, actor_id=None):
    """Replay entry with the headers the outbox sends: no cookie, no CSRF token."""
    headers = {"Idempotency-Key": entry["id"], "X-Recorded-At": entry["recordedAt"], "Accept": "application/json",
               "X-Attempt": str(entry.get("attempts", 0) + 1)}
    if entry["auth"] == "link":
        headers["Authorization"] = "Link"
    else:
        headers["Authorization"] = f"Device {device.id}.{device.secret}"
        headers["X-Actor"] = str(actor_id)
    return app.test_client().post(path, data=data, csrf=False, headers=headers)


@pytest.mark.parametrize("name", sorted(p.stem for p in FIXTURES.glob("*.json")))
def test_recorded_fingerprint_is_computed_the_same_today(app, name):
    """The fingerprint of a recorded entry is what the older code stored for it, so that an entry sent
    once before the upgrade and again after it is answered from its record, not refused as a reused key."""
    fixture = load(name)
    entry = fixture["entry"]
    path, data = entry_request(entry, {})
    with app.test_request_context(path, method="POST", data=data):
        current, _legacy = replay.fingerprints(fixture["server"]["action"])
    assert current == fixture["server"]["fingerprint"]


def test_progress_report_recorded_before_issue_10_applies(app, phone, work_order):  # noqa: F811
    """A worker's progress report with a photo, recorded before issue 10, lands once today."""
    from webapp.photos import Photo
    from webapp.production.models import ProgressReport
    fixture = load("progress_report_before_issue_10")
    entry, names = fixture["entry"], fixture["names"]
    path, data = entry_request(entry, {names["token"]: work_order.token})
    answer = send_entry(app, entry, path, data, device=phone, actor_id=phone.worker_id)
    assert answer.status_code == 201, text_of(answer)[:500]
    assert answer.get_json()["status"] == "applied"
    with app.app_context():
        report = db.session.scalars(db.select(ProgressReport)).one()
        assert (report.worker_id, str(report.good_qty.normalize()), str(report.scrap_qty.normalize()),
                report.note) == (phone.worker_id, "4", "1", "Burr on the edge")
        assert db.session.scalar(db.select(db.func.count()).select_from(Photo)
                                 .where(Photo.entity_type == "progress")) == 1
        record = db.session.scalar(db.select(IdempotencyRecord).where(IdempotencyRecord.key == entry["id"]))
        assert record.endpoint == f"production.report work_order={work_order.id}"
    # The phone never heard the answer and sends it again: the stored answer, no second report.
    path, data = entry_request(entry, {names["token"]: work_order.token})
    again = send_entry(app, entry, path, data, device=phone, actor_id=phone.worker_id)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"


def _dispatched(app, make_order, as_user):
    """A shipment the courier has picked up: (shipment id, courier path, its line ids)."""
    from webapp.shipping.models import ShipmentLine
    shipment_id, path = packed_shipment_with_courier_link(app, make_order, as_user)
    picked_up = link_replay(app, path + "/dispatch", "fixture-dispatch", {"d-note": ""})
    assert picked_up.status_code == 201, text_of(picked_up)[:300]
    with app.app_context():
        line_ids = list(db.session.scalars(db.select(ShipmentLine.id).where(ShipmentLine.shipment_id == shipment_id)
                                           .order_by(ShipmentLine.id)))
    return shipment_id, path, line_ids


def _receipt_replacements(fixture: dict, path: str, line_ids: list[int]) -> dict[str, str]:
    names = fixture["names"]
    replacements = {names["token"]: path.rsplit("/", 1)[1]}
    replacements.update({f"line-{old}-": f"line-{new}-" for old, new in zip(names["shipment_line_ids"], line_ids)})
    return replacements


def test_courier_receipt_recorded_before_issue_10_applies(app, make_order, as_user):
    """A receipt signed on the courier's phone without signal, recorded before issue 10 (per-line field
    names line-<id>-qty/-condition/-note), lands today through the same URL."""
    from webapp.shipping.models import DeliveryReceipt, Shipment
    fixture = load("courier_receipt_before_issue_10")
    shipment_id, courier_path, line_ids = _dispatched(app, make_order, as_user)
    path, data = entry_request(fixture["entry"], _receipt_replacements(fixture, courier_path, line_ids))
    answer = send_entry(app, fixture["entry"], path, data)
    assert answer.status_code == 201, text_of(answer)[:500]
    with app.app_context():
        assert db.session.get(Shipment, shipment_id).status == "delivered"
        receipt = db.session.scalars(db.select(DeliveryReceipt)).one()
        assert (receipt.signer_name, receipt.taken_on) == ("Ann Buyer", "courier") and receipt.signature_svg
        assert [line.received_qty for line in receipt.lines] == [10]


def test_courier_receipt_recorded_before_issue_10_is_a_visible_conflict_once_signed(app, make_order, as_user):
    """The same entry, arriving after the delivery was signed some other way: a conflict kept with its
    data for the office (409), not an error the phone would retry forever."""
    fixture = load("courier_receipt_before_issue_10")
    shipment_id, courier_path, line_ids = _dispatched(app, make_order, as_user)
    path, data = entry_request(fixture["entry"], _receipt_replacements(fixture, courier_path, line_ids))
    first = dict(fixture["entry"], id="signed-elsewhere")
    assert send_entry(app, first, path, data).status_code == 201
    path, data = entry_request(fixture["entry"], _receipt_replacements(fixture, courier_path, line_ids))
    answer = send_entry(app, fixture["entry"], path, data)
    assert answer.status_code == 409, text_of(answer)[:500]
    with app.app_context():
        conflict = db.session.get(SyncConflict, answer.get_json()["conflict"])
        assert json.loads(conflict.fields)["name"] == ["Ann Buyer"]
