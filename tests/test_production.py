"""Stage 3: work orders from an order, labels whose QR opens the worker's page, progress with
photos, anomalies with a new ETA, QC, and the order moving on when all work is done."""
import email
import email.policy
import io
import shutil
import subprocess
from decimal import Decimal

import pytest

from webapp.audit import AuditEvent
from webapp.extensions import db
from webapp.orders.models import Order
from webapp.photos import Photo
from webapp.production.models import Anomaly, ProgressReport, WorkOrder

from .helpers import get, jpeg_file, text_of


def test_release_creates_one_work_order_per_line(app, work_order):
    """Releasing to production makes the work orders, numbered after the order, planned back
    from the delivery date."""
    wo_id, token, order_id = work_order
    with app.app_context():
        order = db.session.get(Order, order_id)
        row = db.session.get(WorkOrder, wo_id)
        assert row.number == f"{order.number}-W01" and row.quantity == Decimal("100")
        assert row.planned_start < row.planned_qc < order.delivery_date
        assert len(token) >= 24 and token != str(wo_id)


def test_worker_reports_with_two_taps_and_a_photo(app, work_order, as_user):
    """The label opens the worker's page; one tap on +10 saves; a detailed report carries a photo."""
    wo_id, token, order_id = work_order
    worker = as_user("worker", name="Wu Worker")
    page = text_of(worker.get(f"/w/{token}"))
    assert "+10" in page and "CN¥" not in page and "¥" not in page  # no prices on the floor
    assert worker.post(f"/w/{token}/report", data={"p-good": "10", "p-scrap": "0"}).status_code == 303
    response = worker.post(f"/w/{token}/report", data={"p-good": "5", "p-scrap": "2", "p-note": "burr",
                                                       "p-photos": [(jpeg_file(), "shot.jpg")]},
                           content_type="multipart/form-data")
    assert response.status_code == 303
    with app.app_context():
        row = db.session.get(WorkOrder, wo_id)
        assert row.status == "in_progress" and row.good == Decimal("15") and row.scrap == Decimal("2")
        reports = db.session.scalars(db.select(ProgressReport).order_by(ProgressReport.id)).all()
        assert {r.worker_id for r in reports} == {worker.user_id}
        photo = db.session.scalar(db.select(Photo).where(Photo.entity_type == "progress"))
        assert photo.entity_id == reports[1].id
    image = worker.get(f"/production/photos/{photo.id}")
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    image.close()
    assert app.test_client().get(f"/production/photos/{photo.id}").status_code == 302  # login needed


def test_progress_bad_input(app, work_order, as_user):
    """Nothing, negative, text, too many or a fake photo: 422 or 409 with a message; nothing saved."""
    wo_id, token, order_id = work_order
    worker = as_user("worker")
    response = worker.post(f"/w/{token}/report", data={"p-good": "0", "p-scrap": "0"})
    assert response.status_code == 422 and "Enter good or scrap" in text_of(response)
    response = worker.post(f"/w/{token}/report", data={"p-good": "ten", "p-scrap": "0", "p-note": "keep me"})
    assert response.status_code == 422 and 'value="ten"' in text_of(response) and "keep me" in text_of(response)
    response = worker.post(f"/w/{token}/report", data={"p-good": "500"})
    assert response.status_code == 409 and "more good pieces" in text_of(response)
    response = worker.post(f"/w/{token}/report", data={"p-good": "1", "p-photos": [(io.BytesIO(b"not a jpeg"), "x.jpg")]},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "not a readable image" in text_of(response)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ProgressReport)) == 0


def test_only_floor_roles_report_and_labels_need_login(app, work_order, as_user):
    """Sales cannot report; an unknown token is 404; the label URL needs a login."""
    wo_id, token, order_id = work_order
    assert as_user("sales").get(f"/w/{token}").status_code == 403
    assert as_user("worker").get("/w/not-a-token").status_code == 404
    response = app.test_client().get(f"/w/{token}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_finish_qc_and_order_moves_on(app, work_order, as_user):
    """Finishing needs the full quantity; QC passes it; with all work done the order is ready to ship."""
    wo_id, token, order_id = work_order
    worker, qc = as_user("worker"), as_user("qc")
    response = worker.post(f"/w/{token}/do/finish")
    assert response.status_code == 409  # planned: not started
    worker.post(f"/w/{token}/report", data={"p-good": "60"})
    assert worker.post(f"/w/{token}/do/finish").status_code == 409  # 40 still to make
    worker.post(f"/w/{token}/report", data={"p-good": "40"})
    assert worker.post(f"/w/{token}/do/finish").status_code == 303
    assert worker.post(f"/w/{token}/do/pass_qc").status_code == 403  # QC's call
    assert qc.post(f"/w/{token}/do/pass_qc").status_code == 303
    with app.app_context():
        row = db.session.get(WorkOrder, wo_id)
        assert row.status == "done" and row.actual_start and row.actual_qc and row.actual_done
    assert get(app, Order, order_id).status == "ready_to_ship"


def test_anomaly_blocks_and_new_eta_tells_the_customer(app, work_order, as_user):
    """A blocking anomaly stops the job; the supervisor's new date moves the order and mails the customer."""
    wo_id, token, order_id = work_order
    worker, supervisor = as_user("worker"), as_user("production")
    bad = worker.post(f"/w/{token}/anomaly", data={"a-kind": "equipment_failure", "a-severity": "blocking", "a-note": ""})
    assert bad.status_code == 422
    response = worker.post(f"/w/{token}/anomaly", data={"a-kind": "equipment_failure", "a-severity": "blocking",
                                                        "a-note": "CNC spindle broke", "a-new_eta": "2027-01-20",
                                                        "a-eta_reason": "x"})
    assert response.status_code == 422 and "Only the production supervisor" in text_of(response)
    worker.post(f"/w/{token}/anomaly", data={"a-kind": "equipment_failure", "a-severity": "blocking",
                                             "a-note": "CNC spindle broke", "a-photos": [(jpeg_file(), "spindle.jpg")]},
                content_type="multipart/form-data")
    assert get(app, WorkOrder, wo_id).status == "blocked"
    no_reason = supervisor.post(f"/w/{token}/anomaly", data={"a-kind": "equipment_failure", "a-severity": "minor",
                                                             "a-note": "Spare part ordered", "a-new_eta": "2027-01-20"})
    assert no_reason.status_code == 422 and "reason for the new date" in text_of(no_reason)
    supervisor.post(f"/w/{token}/anomaly", data={"a-kind": "equipment_failure", "a-severity": "minor",
                                                 "a-note": "Spare part ordered", "a-new_eta": "2027-01-20",
                                                 "a-eta_reason": "Spindle replacement takes a week"})
    order = get(app, Order, order_id)
    assert order.revised_date.isoformat() == "2027-01-20"
    mails = [email.message_from_bytes(m.read_bytes(), policy=email.policy.default)
             for m in (__import__("pathlib").Path(app.config["MAIL_FOLDER"])).glob("*.eml")]
    # in the customer's language (this one reads English), not ISO
    assert any("January 20, 2027" in m["Subject"] and "January 20, 2027" in m.get_content() for m in mails)
    assert supervisor.post(f"/w/{token}/do/unblock").status_code == 303
    assert get(app, WorkOrder, wo_id).status == "planned"
    with app.app_context():
        first = db.session.scalar(db.select(Anomaly).order_by(Anomaly.id))
    assert supervisor.post(f"/production/anomalies/{first.id}/resolve", data={"r-resolution": "Spindle replaced"}).status_code == 303
    with app.app_context():
        assert db.session.get(Anomaly, first.id).resolved_at is not None
        assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "order.eta_changed"))


def test_split_and_plan(app, work_order, as_user):
    """The supervisor splits a work order and sets its owner and dates."""
    wo_id, token, order_id = work_order
    supervisor = as_user("production")
    worker_id = as_user("worker", name="Wen").user_id
    assert supervisor.post(f"/production/wo/{wo_id}/edit", data={"split-quantity": "150"}).status_code == 409
    assert supervisor.post(f"/production/wo/{wo_id}/edit", data={"split-quantity": "abc"}).status_code == 422
    assert supervisor.post(f"/production/wo/{wo_id}/edit", data={"split-quantity": "30"}).status_code == 303
    with app.app_context():
        rows = db.session.scalars(db.select(WorkOrder).where(WorkOrder.order_id == order_id).order_by(WorkOrder.id)).all()
        assert [r.quantity for r in rows] == [Decimal("70"), Decimal("30")] and rows[1].number.endswith("-W02")
    response = supervisor.post(f"/production/wo/{wo_id}/edit", data={"owner_id": str(worker_id), "planned_start": "2026-12-01"})
    assert response.status_code == 303
    assert get(app, WorkOrder, wo_id).owner_id == worker_id
    assert as_user("worker").post(f"/production/wo/{wo_id}/edit", data={"split-quantity": "1"}).status_code == 403
    page = text_of(supervisor.get(f"/production/orders/{order_id}"))
    assert "-W02" in page and "Planned" in page


@pytest.mark.skipif(not shutil.which("zbarimg"), reason="zbarimg (zbar-tools) is not installed")
def test_label_qr_decodes_to_the_work_order_url(app, work_order, as_user, tmp_path):
    """The printed label's QR decodes (zbar) to the absolute URL under PUBLIC_URL, and the
    human-readable number is on it."""
    wo_id, token, order_id = work_order
    supervisor = as_user("production")
    response = supervisor.get(f"/production/wo/{wo_id}/label.svg")
    assert response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    number = get(app, WorkOrder, wo_id).number
    assert number in svg
    path = tmp_path / "label.svg"
    path.write_text(svg)
    decoded = subprocess.run(["zbarimg", "-q", "--raw", "--nodbus", str(path)], capture_output=True,
                             text=True).stdout.strip()
    assert decoded == f"https://tracker.example.com/w/{token}"
    page = text_of(supervisor.get(f"/production/wo/{wo_id}/label"))
    assert number in page and "<svg" in page


# --- a failed QC --------------------------------------------------------------------------------

def test_failed_qc_rejects_a_quantity_and_reopens_that_much_work(app, make_order, as_user):
    """Of 2,400 pieces QC rejects 1,250 to rework: the job is back in progress with 1,150 good, finish
    is refused until 1,250 more good pieces are reported; a second rejection to scrap counts as scrap.
    Bad input is 422 with the form kept; a worker may not fail QC (403); a job not in QC is 409."""
    order_id = make_order("in_production", quantity="2400")
    with app.app_context():
        row = db.session.scalar(db.select(WorkOrder).where(WorkOrder.order_id == order_id))
        wo_id, token = row.id, row.token
    worker, qc = as_user("worker"), as_user("qc")
    assert worker.post(f"/w/{token}/report", data={"p-good": "2400"}).status_code == 303
    assert worker.post(f"/w/{token}/do/finish").status_code == 303
    assert get(app, WorkOrder, wo_id).status == "qc"
    page = text_of(qc.get(f"/w/{token}"))
    assert 'name="q-quantity"' in page and 'name="q-disposition"' in page

    for bad, message in (("", "This field is required."), ("0", "Must be above zero."),
                         ("2401", "At most 2,400 (the good quantity)."), ("abc", "")):
        response = qc.post(f"/w/{token}/do/fail_qc", data={"q-quantity": bad, "q-disposition": "rework",
                                                          "q-note": "burrs on the edge"})
        assert response.status_code == 422, bad
        assert message in text_of(response) and "burrs on the edge" in text_of(response)
    assert get(app, WorkOrder, wo_id).status == "qc"
    assert worker.post(f"/w/{token}/do/fail_qc", data={"q-quantity": "5", "q-disposition": "rework"}).status_code == 403

    response = qc.post(f"/w/{token}/do/fail_qc", data={"q-quantity": "1250", "q-disposition": "rework",
                                                      "q-note": "burrs on the edge"})
    assert response.status_code == 303
    with app.app_context():
        row = db.session.get(WorkOrder, wo_id)
        assert row.status == "in_progress" and row.good == Decimal("1150") and row.remaining == Decimal("1250")
        assert row.scrap == 0 and [(r.quantity, r.disposition) for r in row.rejections] == [(Decimal("1250"), "rework")]
        event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "work_order.fail_qc"))
        assert event.after_data["rejected"] == "1250.000" or Decimal(event.after_data["rejected"]) == 1250
    assert qc.post(f"/w/{token}/do/fail_qc", data={"q-quantity": "1", "q-disposition": "rework"}).status_code == 409
    assert worker.post(f"/w/{token}/do/finish").status_code == 409  # 1,250 to make again
    assert "1,150 of 2,400 pcs good" in text_of(worker.get(f"/w/{token}"))
    assert worker.post(f"/w/{token}/report", data={"p-good": "1000"}).status_code == 303
    assert worker.post(f"/w/{token}/do/finish").status_code == 409  # still 250
    assert worker.post(f"/w/{token}/report", data={"p-good": "250"}).status_code == 303
    assert worker.post(f"/w/{token}/do/finish").status_code == 303

    assert qc.post(f"/w/{token}/do/fail_qc", data={"q-quantity": "12", "q-disposition": "scrap"}).status_code == 303
    with app.app_context():
        row = db.session.get(WorkOrder, wo_id)
        assert (row.good, row.scrap, row.remaining) == (Decimal("2388"), Decimal("12"), Decimal("12"))
    assert worker.post(f"/w/{token}/report", data={"p-good": "12"}).status_code == 303
    assert worker.post(f"/w/{token}/do/finish").status_code == 303
    assert qc.post(f"/w/{token}/do/pass_qc").status_code == 303
    assert get(app, WorkOrder, wo_id).status == "done"


# --- dates in the firm's time zone ---------------------------------------------------------------

def test_plan_deviation_counts_in_the_firms_time_zone(app, make_order, as_user):
    """Work started at 07:30 on 1 December in Shanghai (2026-11-30 23:30 UTC) against a planned start
    of 1 December is on time (0 days), not a day early as the UTC date would say; started at 08:30 on
    3 December it is 2 days late."""
    import re
    from datetime import date, datetime, timezone

    import time_machine

    from webapp.i18n import firm_today, local_date
    order_id = make_order("in_production", quantity="1500")
    with app.app_context():
        row = db.session.scalar(db.select(WorkOrder).where(WorkOrder.order_id == order_id))
        row.planned_start = date(2026, 12, 1)
        token = row.token
        db.session.commit()
    worker = as_user("worker")
    with time_machine.travel(datetime(2026, 11, 30, 23, 30, tzinfo=timezone.utc), tick=False):
        assert worker.post(f"/w/{token}/report", data={"p-good": "250"}).status_code == 303
        with app.app_context(), app.test_request_context():
            assert firm_today() == date(2026, 12, 1)
            assert local_date(datetime(2026, 11, 30, 23, 30, tzinfo=timezone.utc)) == date(2026, 12, 1)
    page = text_of(as_user("production").get(f"/production/orders/{order_id}"))
    start_row = re.search(r"<tr><td>Production start</td>.*?</tr>", page, re.S).group(0)
    assert ">0 days<" in start_row, start_row

    with app.app_context():
        row = db.session.get(WorkOrder, db.session.scalar(db.select(WorkOrder.id).where(WorkOrder.order_id == order_id)))
        row.actual_start = datetime(2026, 12, 3, 0, 30, tzinfo=timezone.utc)  # 08:30 in Shanghai
        db.session.commit()
    page = text_of(as_user("production").get(f"/production/orders/{order_id}"))
    start_row = re.search(r"<tr><td>Production start</td>.*?</tr>", page, re.S).group(0)
    assert ">2 days<" in start_row, start_row


def test_the_calendar_opens_on_the_firms_year(app, as_user):
    """At 20:00 UTC on 31 December it is already 1 January in Shanghai: the calendar shows the new year."""
    from datetime import datetime, timezone

    import time_machine
    with time_machine.travel(datetime(2026, 12, 31, 20, 0, tzinfo=timezone.utc), tick=False):
        page = text_of(as_user("admin").get("/admin/calendar"))
    assert "2027" in page
    import re
    heading = re.search(r"<h1>(.*?)</h1>", page, re.S).group(1)
    assert "2027" in heading, heading


def test_more_good_than_is_left_keeps_what_was_typed(app, work_order, as_user):
    """Reporting more good pieces than are still to make is refused (409) on the worker's form with
    the reason, and the typed counts and note are still there to correct; nothing is recorded."""
    wo_id, token, order_id = work_order
    worker = as_user("worker")
    response = worker.post(f"/w/{token}/report", data={"p-good": "1,500", "p-scrap": "2",
                                                       "p-note": "second shift, burr on edge"})
    page = text_of(response)
    assert response.status_code == 409
    assert "That is more good pieces than are still to make." in page
    assert 'value="1,500"' in page and "second shift, burr on edge" in page
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ProgressReport)) == 0
