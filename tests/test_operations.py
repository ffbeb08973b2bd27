"""Reports per operation (工序): an operation passes no more than the one before it (a replay that
breaks this is a conflict, nothing lost), a phone's old post without an operation counts against the
first open one, the work order's good count is its last operation's, minutes and scrap reasons are
kept, bad input is refused; the work order's page lists its operations; good pieces per firm-local day.

The hand-checked work order (100 pieces) has three operations:
  1 下料 at CNC, ¥0.125 a piece;  2 机加工 at CNC (¥60.00 an hour), no piece rate;  3 焊接 at WELD, no rate."""
from datetime import date, datetime, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest

from webapp.extensions import db
from webapp.production.models import (OutsourceTransfer, ProgressReport, WorkCentre, WorkOrder,
                                      WorkOrderOperation)
from webapp.sync.models import SyncConflict

from .helpers import text_of
from .test_sync import phone, send  # noqa: F401 (fixture)


def add_operations(app, work_order_id: int, outsourced_last: bool = False) -> SimpleNamespace:
    """Give the work order the hand-checked operations; their ids and tokens by position."""
    with app.app_context():
        cnc = WorkCentre(code="CNC", name="CNC cell", hourly_rate=Decimal("60.00"))
        weld = WorkCentre(code="WELD", name="Weld bay", hourly_rate=Decimal("0"))
        db.session.add_all([cnc, weld])
        db.session.flush()
        steps = [WorkOrderOperation(work_order_id=work_order_id, position=10, name="下料", token="op-cut-token-000001",
                                    work_centre_id=cnc.id, piece_rate=Decimal("0.125")),
                 WorkOrderOperation(work_order_id=work_order_id, position=20, name="机加工", token="op-mill-token-00002",
                                    work_centre_id=cnc.id),
                 WorkOrderOperation(work_order_id=work_order_id, position=30, name="焊接", token="op-weld-token-00003",
                                    work_centre_id=weld.id, outsourced=outsourced_last)]
        db.session.add_all(steps)
        db.session.commit()
        return SimpleNamespace(ids=[s.id for s in steps], tokens=[s.token for s in steps])


def goods(app, work_order_id: int) -> tuple:
    """(each operation's good, the work order's good) as plain text."""
    with app.app_context():
        row = db.session.get(WorkOrder, work_order_id)
        return [f"{o.good.normalize():f}" for o in row.operations], f"{row.good.normalize():f}"


def post(client, token: str, **fields):
    """An operation report as the page's detailed form sends it."""
    data = {"p-good": "0", "p-scrap": "0"}
    data.update({f"p-{k}": v for k, v in fields.items()})
    return client.post(f"/o/{token}/report", data=data)


@pytest.fixture
def ops(app, work_order):
    """The work order with its three operations."""
    return add_operations(app, work_order.id)


def test_a_process_card_opens_its_operation_and_reports_count_there(app, work_order, ops, as_user):
    """/o/<token> names the work order and "1/3 · 下料"; +10 counts at that operation; the work order's
    good is its last operation's, so it stays 0 until welding passes pieces."""
    worker = as_user("worker", name="Wu Worker")
    page = text_of(worker.get(f"/o/{ops.tokens[0]}"))
    assert "1/3 · 下料" in page and "+10" in page and "¥" not in page
    assert worker.post(f"/o/{ops.tokens[0]}/report", data={"p-good": "10", "p-scrap": "0"}).status_code == 303
    assert post(worker, ops.tokens[0], good="30", scrap="2", scrap_reason="material", minutes="45",
                note="burr").status_code == 303
    assert goods(app, work_order.id) == (["40", "0", "0"], "0")
    assert post(worker, ops.tokens[1], good="25", minutes="50").status_code == 303
    assert post(worker, ops.tokens[2], good="12", minutes="20").status_code == 303
    assert goods(app, work_order.id) == (["40", "25", "12"], "12")
    with app.app_context():
        row = db.session.get(WorkOrder, work_order.id)
        assert row.remaining == Decimal("88") and row.scrap == Decimal("2") and row.status == "in_progress"
        second = db.session.scalars(db.select(ProgressReport).order_by(ProgressReport.id)).all()[1]
        assert (second.operation_id, second.minutes, second.scrap_reason, second.operation) == (
            ops.ids[0], Decimal("45"), "material", "下料")
    page = text_of(worker.get(f"/o/{ops.tokens[1]}"))
    assert "2/3 · 机加工" in page and "40" in page and "25" in page  # what 下料 passed, what this did


def test_an_operation_passes_no_more_than_the_previous_one(app, work_order, ops, as_user):
    """More than the previous operation passed is refused (409) with how many it passed; the form
    comes back as typed; the first operation may not pass the work order's quantity."""
    worker = as_user("worker")
    assert post(worker, ops.tokens[0], good="30").status_code == 303
    assert post(worker, ops.tokens[1], good="20").status_code == 303
    response = post(worker, ops.tokens[1], good="11", note="keep me")
    page = text_of(response)
    assert response.status_code == 409
    assert "The previous operation (下料) passed 30 pieces and this one has 20 good: at most 10 more." in page
    assert "keep me" in page and 'value="11"' in page
    assert post(worker, ops.tokens[1], good="10").status_code == 303  # exactly what is left passes
    response = post(worker, ops.tokens[0], good="71")
    assert response.status_code == 409 and "more good pieces than are still to make" in text_of(response)
    assert goods(app, work_order.id) == (["30", "30", "0"], "0")
    zh = as_user("worker", locale="zh")
    response = post(zh, ops.tokens[2], good="31")
    assert response.status_code == 409 and "上道工序（机加工）已转出 30 件" in text_of(response)


def test_a_replay_passing_more_than_the_previous_operation_is_a_conflict_kept_whole(app, work_order, ops, phone,
                                                                                    as_user):
    """Recorded offline while the previous operation had passed enough, but sent after a colleague's
    reports used it up: kept as a conflict with its fields, nothing lost, nothing counted."""
    assert post(phone.client, ops.tokens[0], good="20").status_code == 303
    colleague = as_user("worker")
    assert post(colleague, ops.tokens[1], good="15").status_code == 303
    answer = send(app, f"/o/{ops.tokens[1]}/report", phone, phone.worker_id, "op-key-1",
                  {"p-good": "8", "p-scrap": "0", "p-minutes": "30", "p-note": "night shift"})
    assert answer.status_code == 409, text_of(answer)[:300]
    body = answer.get_json()
    assert "passed 20 pieces" in body["detail"] and isinstance(body["conflict"], int)
    with app.app_context():
        conflict = db.session.get(SyncConflict, body["conflict"])
        assert '"p-good": ["8"]' in conflict.fields and "night shift" in conflict.fields
    assert goods(app, work_order.id) == (["20", "15", "0"], "0")
    again = send(app, f"/o/{ops.tokens[1]}/report", phone, phone.worker_id, "op-key-2",
                 {"p-good": "5", "p-scrap": "0"})
    assert again.status_code == 201  # within what 下料 passed: applied
    assert goods(app, work_order.id) == (["20", "20", "0"], "0")


def test_an_old_post_without_an_operation_counts_against_the_first_open_one(app, work_order, ops, as_user):
    """A post of the old /w/<token>/report form (queued on a phone before operations) counts against
    the first operation with fewer good pieces than the work order's quantity."""
    worker = as_user("worker")
    assert worker.post(f"/w/{work_order.token}/report", data={"p-good": "60", "p-scrap": "0"}).status_code == 303
    assert goods(app, work_order.id) == (["60", "0", "0"], "0")
    assert worker.post(f"/w/{work_order.token}/report", data={"p-good": "40", "p-scrap": "0"}).status_code == 303
    assert goods(app, work_order.id) == (["100", "0", "0"], "0")
    # 下料 is complete: the next old post counts at 机加工, within what 下料 passed.
    assert worker.post(f"/w/{work_order.token}/report", data={"p-good": "7", "p-scrap": "0"}).status_code == 303
    assert goods(app, work_order.id) == (["100", "7", "0"], "0")
    page = text_of(worker.get(f"/w/{work_order.token}"))
    assert "1/3 · 下料" in page and "2/3 · 机加工" in page and "7 of 100 good" in page
    assert f"/o/{ops.tokens[2]}" in page and "+10 good" not in page  # reports are made per operation


def test_qc_rejections_come_off_the_last_operation_and_reopen_it(app, work_order, ops, as_user):
    """The work order's good is the last operation's less QC's rejections; rework may be reported
    at the operations again for the rejected pieces."""
    from webapp.auth import User
    from webapp.production import services
    worker = as_user("worker")
    for token in ops.tokens:
        assert post(worker, token, good="100").status_code == 303
    with app.app_context(), app.test_request_context("/"):
        row = db.session.get(WorkOrder, work_order.id)
        qc = db.session.scalar(db.select(User).where(User.username == "qc-maker"))
        services.move(row, "finish", db.session.get(User, worker.user_id))
        services.fail_qc(row, qc, Decimal("5"), "rework", "scratches")
        db.session.commit()
        assert row.good == Decimal("95") and row.status == "in_progress"
    assert post(worker, ops.tokens[2], good="5").status_code == 303
    assert goods(app, work_order.id) == (["100", "100", "105"], "100")


def test_an_outsourced_operation_counts_what_came_back(app, work_order, as_user):
    """An outsourced operation is not reported by the floor: its good pieces are those received back,
    and they are what the work order has when it is the last operation."""
    ops = add_operations(app, work_order.id, outsourced_last=True)
    worker = as_user("worker")
    assert post(worker, ops.tokens[0], good="50").status_code == 303
    assert post(worker, ops.tokens[1], good="50").status_code == 303
    response = post(worker, ops.tokens[2], good="5")
    assert response.status_code == 409 and "outsourced" in text_of(response)
    with app.app_context():
        db.session.add(OutsourceTransfer(number="WX-1", operation_id=ops.ids[2], sent_qty=Decimal("50"),
                                         received_good=Decimal("48"), received_scrap=Decimal("2"),
                                         received_at=datetime(2026, 11, 3, 2, 0, tzinfo=timezone.utc)))
        db.session.commit()
        row = db.session.get(WorkOrder, work_order.id)
        assert row.good == Decimal("48") and row.scrap == Decimal("2")
        from webapp.production.operations import actual_by_day
        assert actual_by_day(row, date(2026, 11, 2), date(2026, 11, 4)) == {
            date(2026, 11, 2): 0, date(2026, 11, 3): Decimal("48"), date(2026, 11, 4): 0}


def test_bad_operation_reports_are_refused_with_a_message_and_nothing_saved(app, work_order, ops, as_user):
    """Negative, text, absurd minutes, scrap without its reason, "other" without a note: 422 with the
    field's message and what was typed kept; an unknown card is 404; nothing recorded."""
    worker = as_user("worker")
    cases = [({"good": "-1"}, "Must be at least 0"), ({"good": "ten", "note": "keep me"}, "keep me"),
             ({"good": "1", "minutes": "2000"}, "Must be at most 1440"),
             ({"good": "1", "minutes": "-5"}, "Must be at least 0"),
             ({"good": "1", "minutes": "lots"}, 'value="lots"'),
             ({"scrap": "2"}, "Choose why the pieces were scrapped."),
             ({"scrap": "2", "scrap_reason": "other"}, "Say in the note why"),
             ({"good": "0", "scrap": "0"}, "Enter good or scrap pieces."),
             ({"good": "1", "scrap_reason": "bogus"}, "Not a valid choice")]
    for fields, message in cases:
        response = post(worker, ops.tokens[0], **fields)
        assert response.status_code == 422 and message in text_of(response), (fields, text_of(response)[:2000])
    assert worker.get("/o/no-such-card").status_code == 404
    assert post(worker, "no-such-card", good="1").status_code == 404
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ProgressReport)) == 0


def test_only_floor_roles_report_at_an_operation(app, work_order, ops, as_user):
    """Sales may neither see nor report; warehouse sees the page but cannot report; a card needs a login."""
    assert post(as_user("sales"), ops.tokens[0], good="1").status_code == 403
    assert as_user("sales").get(f"/o/{ops.tokens[0]}").status_code == 403
    warehouse = as_user("warehouse")
    assert "+10" not in text_of(warehouse.get(f"/o/{ops.tokens[0]}"))
    assert post(warehouse, ops.tokens[0], good="1").status_code == 403
    assert app.test_client().get(f"/o/{ops.tokens[0]}").status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ProgressReport)) == 0


def test_actual_by_day_counts_the_last_operation_per_firm_local_day(app, work_order, ops, as_user):
    """Good pieces of the last operation per Shanghai day: 00:30 local on 3 November is still
    2 November in UTC, and counts on the 3rd; earlier operations count nothing."""
    from webapp.production.operations import actual_by_day
    worker = as_user("worker")
    for token, good in ((ops.tokens[0], "50"), (ops.tokens[1], "40"), (ops.tokens[2], "10"), (ops.tokens[2], "15")):
        assert post(worker, token, good=good).status_code == 303
    with app.app_context():
        rows = db.session.scalars(db.select(ProgressReport).order_by(ProgressReport.id)).all()
        rows[2].occurred_at = datetime(2026, 11, 2, 15, 0, tzinfo=timezone.utc)   # 23:00 on the 2nd locally
        rows[3].occurred_at = datetime(2026, 11, 2, 16, 30, tzinfo=timezone.utc)  # 00:30 on the 3rd locally
        db.session.commit()
        row = db.session.get(WorkOrder, work_order.id)
        assert actual_by_day(row, date(2026, 11, 1), date(2026, 11, 3)) == {
            date(2026, 11, 1): 0, date(2026, 11, 2): Decimal("10"), date(2026, 11, 3): Decimal("15")}
        assert actual_by_day(row, date(2026, 11, 3), date(2026, 11, 3)) == {date(2026, 11, 3): Decimal("15")}


def test_actual_by_day_of_a_work_order_without_operations(app, work_order, as_user):
    """Without operations every report of the work order counts."""
    from webapp.production.operations import actual_by_day
    worker = as_user("worker")
    assert worker.post(f"/w/{work_order.token}/report", data={"p-good": "12", "p-scrap": "1"}).status_code == 303
    with app.app_context():
        report = db.session.scalar(db.select(ProgressReport))
        report.occurred_at = datetime(2026, 11, 5, 1, 0, tzinfo=timezone.utc)
        db.session.commit()
        row = db.session.get(WorkOrder, work_order.id)
        assert actual_by_day(row, date(2026, 11, 5), date(2026, 11, 6)) == {
            date(2026, 11, 5): Decimal("12"), date(2026, 11, 6): 0}
        assert row.good == Decimal("12")


@pytest.mark.parametrize("app", [pytest.param("sqlite", id="sqlite"),
                                 pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)],
                         indirect=True)
def test_two_workers_pass_the_last_pieces_of_an_operation_at_once(app, work_order, make_user):
    """下料 passed 10; two workers each report 8 at 机加工 at the same moment: one is saved, the other
    is told how many 下料 passed (409); 机加工 never passes more than 下料."""
    from .helpers import at_once
    ops = add_operations(app, work_order.id)
    for n in range(2):
        make_user("worker", username=f"w{n}")
    at_once(app, "w0", [(f"/o/{ops.tokens[0]}/report", {"p-good": "10", "p-scrap": "0"})])
    eight = (f"/o/{ops.tokens[1]}/report", {"p-good": "8", "p-scrap": "0"})
    assert sorted(at_once(app, ["w0", "w1"], [eight, eight])) == [303, 409]
    assert goods(app, work_order.id) == (["10", "8", "0"], "0")


def test_an_old_post_replayed_from_a_phones_outbox_counts_at_the_first_open_operation(app, work_order, ops,
                                                                                     phone):
    """An entry queued on the old /w/ form before the work order had operations, replayed: applied at
    下料; one that 下料 can no longer take becomes a conflict, not a loss."""
    answer = send(app, f"/w/{work_order.token}/report", phone, phone.worker_id, "old-1",
                  {"p-good": "30", "p-scrap": "0"})
    assert answer.status_code == 201, text_of(answer)[:300]
    assert goods(app, work_order.id) == (["30", "0", "0"], "0")
    answer = send(app, f"/w/{work_order.token}/report", phone, phone.worker_id, "old-2",
                  {"p-good": "71", "p-scrap": "0"})
    assert answer.status_code == 409 and "30 of 100 are done" in answer.get_json()["detail"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(SyncConflict)) == 1
    assert goods(app, work_order.id) == (["30", "0", "0"], "0")
