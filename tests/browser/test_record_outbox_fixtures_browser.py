"""Records real outbox entries, as the phone's outbox stores them, into tests/fixtures/outbox/.

Not a check: it runs only with RECORD_OUTBOX_FIXTURES=1, against the code of the day, before a change
of URLs, field names or fingerprints (docs/decisions.md, "Nothing queued on a phone is stranded").
tests/test_outbox_fixtures.py then replays every recorded entry against the code as it is now.

    RECORD_OUTBOX_FIXTURES=1 .venv/bin/python -m pytest -q -m browser \
        tests/browser/test_record_outbox_fixtures_browser.py

Each fixture holds the entry (its files base64-encoded), what the server stored for it when it applied
(the action, the fingerprint, the answer's status) and the ids and tokens of the objects it named at
the time, which the replaying test replaces with its own.
"""
import json
import os
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from webapp.extensions import db
from webapp.sync.models import IdempotencyRecord

from .test_offline_browser import (CONTROLLED, log_in, offline_noise_only, poll, ready_for_offline, shared_phone,
                                   wait_db)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "outbox"

pytestmark = pytest.mark.skipif(os.environ.get("RECORD_OUTBOX_FIXTURES") != "1",
                                reason="records fixtures only with RECORD_OUTBOX_FIXTURES=1")

# The entries as stored in IndexedDB, each file's blob read out as base64.
READ_ENTRIES = """Outbox.entries().then(list => Promise.all(list.map(entry =>
    Promise.all((entry.files || []).map(f => new Promise(resolve => {
        const reader = new FileReader();
        reader.onload = () => resolve([f[0], reader.result.split(',')[1], f[2], f[1].type]);
        reader.readAsDataURL(f[1]);
    }))).then(files => Object.assign({}, entry, {files: files})))))"""


def _commit() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          cwd=Path(__file__).parent).stdout.strip()


def _save(app, name: str, entry: dict, names: dict, description: str) -> None:
    """Write one fixture with what the server stored when the entry applied."""
    with app.app_context():
        record = db.session.scalar(db.select(IdempotencyRecord).where(IdempotencyRecord.key == entry["id"]))
        server = {"action": record.endpoint, "fingerprint": record.fingerprint, "status": record.status_code}
    FIXTURES.mkdir(parents=True, exist_ok=True)
    (FIXTURES / f"{name}.json").write_text(json.dumps(
        {"description": description, "recorded_at_commit": _commit(), "entry": entry, "server": server,
         "names": names}, indent=2, ensure_ascii=False) + "\n")


def test_record_progress_report_entry(app, live_server, context, browser_problems, make_order, make_user, tmp_path):
    """A worker's progress report with a photo, recorded without signal (device credential)."""
    from webapp.production.models import ProgressReport
    huang, _lin, wo_id, token, _number = shared_phone(app, make_order, make_user)
    page = context.new_page()
    log_in(page, live_server, "huang")
    ready_for_offline(page, huang)
    context.set_offline(True)
    page.goto(f"{live_server}/w/{token}")
    page.get_by_text("Report with scrap, note or photo").click()
    details = page.locator("details").filter(has=page.get_by_text("Report with scrap, note or photo"))
    details.get_by_label("Good pieces").fill("4")
    details.get_by_label("Scrap pieces").fill("1")
    details.get_by_label("Note").fill("Burr on the edge")
    picture = tmp_path / "burr.png"
    image = Image.new("RGB", (64, 48), (235, 235, 230))
    ImageDraw.Draw(image).rectangle((10, 10, 50, 40), fill=(190, 40, 30))
    image.save(picture, "PNG")
    details.get_by_label("Photos").set_input_files(picture)
    details.get_by_role("button", name="Save report").click()
    expect(page.locator("#outbox-badge")).to_contain_text("1")
    entries = page.evaluate(READ_ENTRIES)
    assert len(entries) == 1
    context.set_offline(False)
    wait_db(app, lambda: db.session.scalar(db.select(db.func.count()).select_from(ProgressReport)), 1)
    _save(app, "progress_report_before_issue_10", entries[0],
          {"token": token, "work_order_id": wo_id, "actor_id": huang},
          "A progress report (4 good, 1 scrap, a note, a photo) recorded on a worker's phone without signal.")
    offline_noise_only(browser_problems)


def test_record_receipt_entry(app, live_server, context, browser_problems, make_order, as_user):
    """A receipt signed on the courier's phone without signal (link credential, per-line fields)."""
    from webapp.shipping.models import Shipment, ShipmentLine
    from ..test_sync import packed_shipment_with_courier_link
    from .test_order_desk_browser import draw_signature
    shipment_id, path = packed_shipment_with_courier_link(app, make_order, as_user)
    page = context.new_page()
    page.goto(live_server + path)
    page.get_by_role("button", name="Confirm pickup and dispatch").click()
    sign_here = page.get_by_role("link", name="Customer signs on this phone")
    expect(sign_here).to_be_visible()
    poll(page, CONTROLLED)
    poll(page, "document.documentElement.dataset.linkedKept === '1'")
    context.set_offline(True)
    sign_here.click()
    expect(page.locator("#offline-copy")).to_be_visible()
    page.get_by_label("Your name").fill("Ann Buyer")
    draw_signature(page)
    page.locator("#sign-form input[type=checkbox][name=consent]").check()
    page.get_by_role("button", name="Sign for the delivery").click()
    expect(page.locator("#outbox-badge")).to_contain_text("1")
    entries = page.evaluate(READ_ENTRIES)
    assert len(entries) == 1
    context.set_offline(False)
    wait_db(app, lambda: db.session.scalar(db.select(Shipment.status).where(Shipment.id == shipment_id)),
            "delivered")
    with app.app_context():
        line_ids = list(db.session.scalars(db.select(ShipmentLine.id).where(ShipmentLine.shipment_id == shipment_id)
                                           .order_by(ShipmentLine.id)))
    _save(app, "courier_receipt_before_issue_10", entries[0],
          {"token": path.rsplit("/", 1)[1], "shipment_id": shipment_id, "shipment_line_ids": line_ids},
          "A delivery receipt signed on the courier's phone where the signal dropped (per-line fields).")
    offline_noise_only(browser_problems)
