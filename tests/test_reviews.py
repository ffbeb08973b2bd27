"""Review and improvement (复盘): a review of an order or a period with attendees and findings, its
improvement actions tracked to done by their owners, the overdue list at the firm's day edge, the
daily reminder through a real SMTP server, and whether each addressed cause went down, on a
hand-checked set of finalised cost sheets — on SQLite and PostgreSQL."""
import email
import re
import email.policy
from datetime import date, datetime, timezone
from decimal import Decimal as D

import pytest
import time_machine

from webapp.costing.models import CostCause, CostLine, CostLineCause, CostSheet
from webapp.extensions import db
from webapp.orders.models import Order
from webapp.reviews import services
from webapp.reviews.models import ImprovementAction, Review
from webapp.wallclock import frozen

from .helpers import at_once, error_of, text_of

BOTH = pytest.mark.parametrize("app", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                               indirect=True)
UTC = timezone.utc


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def cause_id(app, key: str) -> int:
    with app.app_context():
        return db.session.scalar(db.select(CostCause.id).where(CostCause.key == key))


def finalised_sheet(app, make_order, finalised_at: datetime, causes: dict[str, str]) -> int:
    """An order whose cost sheet was finalised at finalised_at, its material line over budget by the
    sum of causes ({cause key: amount}), each cause a CostLineCause row (as finance's save makes them)."""
    order_id = make_order("draft")
    with app.app_context():
        over = sum((D(v) for v in causes.values()), D("0"))
        line = CostLine(position=1, category="material", budget=D("1000"), actual=D("1000") + over, source="manual")
        for key, amount in causes.items():
            line.causes.append(CostLineCause(cause_id=cause_id(app, key), amount=D(amount), note=""))
        db.session.add(CostSheet(order_id=order_id, finalised_at=finalised_at, lines=[line]))
        db.session.commit()
    return order_id


@pytest.fixture
def people(app, make_user):
    """Finance holds the review; Zhang (production) owns actions; Li (production) does not."""
    return {"finance": make_user("finance", username="fin", name="Chen Finance"),
            "manager": make_user("manager", username="boss", name="Zhao Boss"),
            "zhang": make_user("production", username="zhang", name="Zhang Wei"),
            "li": make_user("production", username="li", name="Li Qiang"),
            "sales": make_user("sales", username="lucy", name="Lucy Sales")}


def client_of(app, username: str, locale: str | None = None):
    from .conftest import login
    client = app.test_client()
    if locale:
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = locale
    assert login(client, username).status_code == 303
    return client


def period_review(client, people, month="2026-10-01", held="2026-11-03", **extra):
    return client.post("/reviews/new", data={
        "kind": "period", "period": f"month:{month}", "held_on": held, "findings": "Rework on gears cost most.",
        "attendees": [str(people["zhang"]), str(people["sales"])], "guests": "Mr Wu (supplier)\n\n", **extra})


def make_review(app, people, month=date(2026, 10, 1), held=date(2026, 11, 3)) -> int:
    with app.app_context():
        from webapp.auth.models import User
        review = services.create_review(db.session.get(User, people["finance"]), kind="period", order=None,
                                        period="month", period_day=month, held_on=held, findings="x",
                                        attendee_ids=[], guests=[])
        db.session.commit()
        return review.id


def make_action(app, review_id, owner_id, due: date, causes=(), title="Check the gear blanks") -> int:
    with app.app_context():
        from webapp.auth.models import User
        review = db.session.get(Review, review_id)
        chosen = [db.session.get(CostCause, cause_id(app, key)) for key in causes]
        action = services.add_action(review, db.session.get(User, review.created_by_id), title=title,
                                     description="", owner=db.session.get(User, owner_id), due_date=due,
                                     causes=chosen)
        db.session.commit()
        return action.id


@BOTH
def test_a_period_review_records_attendees_findings_and_the_costliest_causes(app, make_order, people):
    """Finance records October's review: the month's first and last day, staff attendees with their
    roles and a guest by name, the findings, and October's causes costliest first."""
    finalised_sheet(app, make_order, utc(2026, 10, 10, 2), {"rework": "300", "scrap": "50"})
    finalised_sheet(app, make_order, utc(2026, 10, 20, 2), {"rework": "200.50"})
    finalised_sheet(app, make_order, utc(2026, 11, 5, 2), {"scrap": "999"})  # November: not October's
    fin = client_of(app, "fin", "zh-CN")
    with frozen(utc(2026, 11, 3, 2)):
        response = period_review(fin, people)
    assert response.status_code == 303, text_of(response)[:2000]
    page = text_of(fin.get(response.headers["Location"]))
    with app.app_context():
        review = db.session.scalar(db.select(Review))
        assert (review.kind, review.first, review.last, review.held_on) == (
            "period", date(2026, 10, 1), date(2026, 10, 31), date(2026, 11, 3))
        assert [a.user_id or a.name for a in review.attendees] == [people["zhang"], people["sales"], "Mr Wu (supplier)"]
    assert "复盘" in page and "2026年10月" in page
    assert "Zhang Wei" in page and "生产" in page and "Mr Wu (supplier)" in page
    assert "参会人员" in page and "发现的问题" in page
    costliest = page.index("成本最高的原因") if "成本最高的原因" in page else page.index("本期")
    section = page[costliest:page.index("</section>", costliest)]  # not the page's scripts (a time may hold 999)
    assert section.index("返工") < section.index("报废")  # rework 500.50 before scrap 50
    assert "500.50" in section and "999.00" not in section


@BOTH
def test_an_order_review_from_the_cost_sheet_shows_its_lines_and_causes(app, make_order, people):
    """The cost sheet offers finance "Hold a review"; the review of that order shows the sheet's lines
    with their variances and causes; production, who may not see costs, reads the review without them."""
    order_id = make_order("effective")
    with app.app_context():
        order = db.session.get(Order, order_id)
        number = order.number
        line = CostLine(position=1, category="material", budget=D("1000"), actual=D("1200"), source="manual")
        line.causes.append(CostLineCause(cause_id=cause_id(app, "rework"), amount=D("200"), note="steel"))
        db.session.add(CostSheet(order_id=order_id, lines=[line]))
        db.session.commit()
    fin = client_of(app, "fin", "zh-CN")
    sheet = text_of(fin.get(f"/costing/orders/{order_id}"))
    assert f"/reviews/new?order_id={order_id}" in sheet and "召开复盘" in sheet
    form = text_of(fin.get(f"/reviews/new?order_id={order_id}"))
    assert f'value="{number}"' in form
    response = fin.post("/reviews/new", data={"kind": "order", "order_number": number, "held_on": "2026-11-20",
                                              "findings": "Steel went up before we bought."})
    assert response.status_code == 303, text_of(response)[:2000]
    page = text_of(fin.get(response.headers["Location"]))
    assert number in page and "成本核算表" in page and "返工" in page and "200.00" in page
    production = text_of(client_of(app, "zhang", "zh-CN").get(response.headers["Location"]))
    assert "Steel went up" in production and "成本核算表" not in production
    # An unknown order number is said, not a 500.
    wrong = fin.post("/reviews/new", data={"kind": "order", "order_number": "NOPE-1", "held_on": "2026-11-20",
                                           "findings": "x"})
    assert wrong.status_code == 422 and "没有此编号的订单" in error_of(text_of(wrong), "order_number")


def test_missing_fields_are_refused_with_translated_messages(app, people):
    """A review without date, findings or period; an action without title, owner or due date: 422,
    each field's message in Chinese, and what was typed kept."""
    fin = client_of(app, "fin", "zh-CN")
    response = fin.post("/reviews/new", data={"kind": "period", "period": "", "held_on": "", "findings": "",
                                              "guests": "Kept guest"})
    page = text_of(response)
    assert response.status_code == 422
    assert error_of(page, "held_on") and error_of(page, "findings")
    assert "请" in error_of(page, "findings") or "写" in error_of(page, "findings")
    assert "Kept guest" in page
    response = fin.post("/reviews/new", data={"kind": "period", "period": "", "held_on": "2026-11-03", "findings": "y"})
    assert response.status_code == 422 and "月份或季度" in error_of(text_of(response), "period")
    review_id = make_review(app, people)
    response = fin.post(f"/reviews/{review_id}/actions", data={"title": "", "owner_id": "0", "due_date": "",
                                                               "description": "kept text"})
    page = text_of(response)
    assert response.status_code == 422
    assert all(error_of(page, f) for f in ("title", "owner_id", "due_date"))
    assert "kept text" in page and "负责人" in page


@BOTH
def test_an_action_is_tracked_to_done_by_its_owner(app, people):
    """Due dates: a past one is refused (today is the earliest), today is fine. The owner starts it and
    marks it done with a note (a note is required); another production worker gets 403; the owner may
    not cancel (editors only); finance may reopen; each step audited."""
    review_id = make_review(app, people)
    with time_machine.travel(utc(2026, 11, 10, 2), tick=False):
        fin = client_of(app, "fin", "zh-CN")  # logged in at the time travelled to (a session ages)
        past = fin.post(f"/reviews/{review_id}/actions", data={
            "title": "Second source for gear blanks", "owner_id": str(people["zhang"]), "due_date": "2026-11-09",
            "causes": [str(cause_id(app, "rework"))]})
        assert past.status_code == 422 and "不能早于今天" in error_of(text_of(past), "due_date")
        ok = fin.post(f"/reviews/{review_id}/actions", data={
            "title": "Second source for gear blanks", "owner_id": str(people["zhang"]), "due_date": "2026-11-10",
            "causes": [str(cause_id(app, "rework")), str(cause_id(app, "scrap"))]})
        assert ok.status_code == 303
        with app.app_context():
            action = db.session.scalar(db.select(ImprovementAction))
            action_id = action.id
            assert sorted(c.key for c in action.causes) == ["rework", "scrap"]
        zhang, li = client_of(app, "zhang", "zh-CN"), client_of(app, "li", "zh-CN")
        assert li.post(f"/reviews/actions/{action_id}/move/start", data={"note": ""}).status_code == 403
        page = text_of(zhang.get(f"/reviews/actions/{action_id}"))
        assert "开始" in page and "标记完成" in page and "取消措施" not in page
        assert zhang.post(f"/reviews/actions/{action_id}/move/start", data={"note": ""}).status_code == 303
        no_note = zhang.post(f"/reviews/actions/{action_id}/move/complete", data={"note": "  "})
        assert no_note.status_code == 422 and "请填写处理措施" in error_of(text_of(no_note), "note")
        assert zhang.post(f"/reviews/actions/{action_id}/move/cancel", data={"note": "no"}).status_code == 403
        done = zhang.post(f"/reviews/actions/{action_id}/move/complete", data={"note": "Ordered from Wuxi Forging."})
        assert done.status_code == 303
        page = text_of(zhang.get(f"/reviews/actions/{action_id}"))
        assert "已完成" in page and "Ordered from Wuxi Forging." in page and "Zhang Wei" in page
        # Done twice: a clear conflict, not a second completion.
        again = zhang.post(f"/reviews/actions/{action_id}/move/complete", data={"note": "again"})
        assert again.status_code == 409 and "已被 Zhang Wei 标记完成" in text_of(again)
        assert fin.post(f"/reviews/actions/{action_id}/move/reopen", data={"note": "not yet in use"}).status_code == 303
    with app.app_context():
        from webapp.audit import AuditEvent
        action = db.session.get(ImprovementAction, action_id)
        assert (action.status, action.done_note, action.done_by_id) == ("open", "", None)
        events = list(db.session.scalars(db.select(AuditEvent.action).where(AuditEvent.entity_id == action_id,
                                                                            AuditEvent.action.like("improvement.%"))
                                         .order_by(AuditEvent.id)))
        assert events == ["improvement.created", "improvement.start", "improvement.complete", "improvement.reopen"]


@BOTH
def test_editing_an_overdue_action_keeps_its_past_due_date(app, people):
    """The rule: a new or changed due date is today or later; an overdue action keeps its date when its
    title is edited (it stays overdue), but moving it to another past day is refused."""
    review_id = make_review(app, people)
    with frozen(utc(2026, 11, 3, 2)):
        action_id = make_action(app, review_id, people["zhang"], date(2026, 11, 5))
    data = {"title": "Renamed", "owner_id": str(people["zhang"]), "due_date": "2026-11-05"}
    with time_machine.travel(utc(2026, 11, 10, 2), tick=False):
        fin = client_of(app, "fin", "zh-CN")
        assert fin.post(f"/reviews/actions/{action_id}/edit", data=data).status_code == 303
        moved = fin.post(f"/reviews/actions/{action_id}/edit", data={**data, "due_date": "2026-11-06"})
        assert moved.status_code == 422 and "不能早于今天" in error_of(text_of(moved), "due_date")
        # Somebody else's action: production's Li may not edit it.
        assert client_of(app, "li").post(f"/reviews/actions/{action_id}/edit", data=data).status_code == 403
    with app.app_context():
        assert db.session.get(ImprovementAction, action_id).title == "Renamed"


@BOTH
def test_the_overdue_list_turns_at_the_firms_midnight(app, people):
    """An action due 1 December is not overdue at 23:59 in Shanghai on 1 December (15:59 UTC) and is at
    00:00 on 2 December (16:00 UTC); a done one never is. The owner sees it in My work with its date."""
    review_id = make_review(app, people)
    with frozen(utc(2026, 11, 20, 2)):
        due = make_action(app, review_id, people["zhang"], date(2026, 12, 1), title="Fixture for drilling")
        finished = make_action(app, review_id, people["zhang"], date(2026, 11, 25), title="Already finished one")
    with app.app_context():
        db.session.get(ImprovementAction, finished).status = "done"
        db.session.commit()
    with time_machine.travel(utc(2026, 12, 1, 15, 59), tick=False):
        fin = client_of(app, "fin", "zh-CN")
        page = text_of(fin.get("/reviews/actions?status=overdue"))
        assert "Fixture for drilling" not in page and "没有逾期" in page
        home = text_of(client_of(app, "zhang", "zh-CN").get("/"))
        assert "Fixture for drilling" in home and "改进措施" in home and "Already finished one" not in home
    with time_machine.travel(utc(2026, 12, 1, 16, 0), tick=False):
        fin = client_of(app, "fin", "zh-CN")
        page = text_of(fin.get("/reviews/actions?status=overdue"))
        assert "Fixture for drilling" in page and "已逾期" in page and "Already finished one" not in page
        assert f"/reviews/actions/{due}" in page
        assert "1 项改进措施已逾期" in text_of(fin.get("/reviews"))


def test_who_reaches_reviews(app, make_user, people):
    """Warehouse and floor workers are not in reviews (403); the nav shows 复盘 to production."""
    make_user("warehouse", username="wh")
    assert client_of(app, "wh").get("/reviews").status_code == 403
    assert client_of(app, "wh").get("/reviews/new").status_code == 403
    assert client_of(app, "zhang").get("/reviews/new").status_code == 403
    assert 'href="/reviews"' in text_of(client_of(app, "zhang", "zh-CN").get("/"))


@BOTH
def test_the_reminder_mails_each_owner_once_a_day(app, people, smtp):
    """Through the real periodic task and a real SMTP server, on Tuesday 1 December: Zhang gets one mail
    naming his action due Thursday (within 2 working days) and his overdue one; Li's action due Friday
    is not yet reminded; run again the same day, nothing; the next day, a reminder again."""
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    review_id = make_review(app, people)
    with frozen(utc(2026, 11, 20, 2)):
        thursday = make_action(app, review_id, people["zhang"], date(2026, 12, 3), title="Due Thursday")
        make_action(app, review_id, people["zhang"], date(2026, 11, 30), title="Overdue since Monday")
        make_action(app, review_id, people["li"], date(2026, 12, 4), title="Due Friday")
    with app.app_context():
        daily = app.extensions["huey_tasks"]["webapp.reviews.tasks.remind_owners_daily"]
        with frozen(utc(2026, 12, 1, 1)):
            daily()
            daily()
        assert [m.rcpt_tos for m in smtp.messages] == [["zhang@example.com"]]
        mail = email.message_from_bytes(smtp.messages[0].content, policy=email.policy.default)
        body = mail.get_body().get_content()
        assert "逾期" in mail["Subject"]
        assert "Due Thursday" in body and "Overdue since Monday" in body and "Due Friday" not in body
        assert f"https://tracker.example.com/reviews/actions/{thursday}" in body
        db.session.rollback()  # the task committed in its own session
        assert set(db.session.scalars(db.select(ImprovementAction.reminded_on))) == {date(2026, 12, 1), None}
        with frozen(utc(2026, 12, 2, 1)):
            daily()
        assert sorted(m.rcpt_tos[0] for m in smtp.messages[1:]) == ["li@example.com", "zhang@example.com"]


@BOTH
def test_whether_a_cause_went_down_on_a_hand_checked_set(app, make_order, people):
    """October's review looks at October and November. October: rework 300 + 200, scrap 100, price
    increase 400. November: rework 120, scrap 250 (one sheet finalised at 00:30 on 1 November in
    Shanghai, 16:30 UTC on 31 October: November's). So: rework 500 → 120 down, scrap 100 → 250 up,
    price increase 400 → 0 down, delay overtime 0 → 0 no change. November's review has no December
    data yet (no data); December's review's next period has not started."""
    finalised_sheet(app, make_order, utc(2026, 10, 5, 3), {"rework": "300", "price_increase": "400"})
    finalised_sheet(app, make_order, utc(2026, 10, 28, 3), {"rework": "200", "scrap": "100"})
    finalised_sheet(app, make_order, utc(2026, 10, 31, 16, 30), {"scrap": "250"})
    finalised_sheet(app, make_order, utc(2026, 11, 18, 3), {"rework": "120"})
    october = make_review(app, people, month=date(2026, 10, 1), held=date(2026, 11, 3))
    with frozen(utc(2026, 11, 3, 2)):
        action_id = make_action(app, october, people["zhang"], date(2026, 11, 30),
                                causes=("rework", "scrap", "price_increase", "delay_overtime"))
    with app.app_context(), frozen(utc(2026, 12, 10, 2)):
        action = db.session.get(ImprovementAction, action_id)
        trend = {t.cause.key: (t.before, t.after, t.word, t.partial)
                 for t in services.cause_trend(action.review, action.causes)}
        assert trend == {"rework": (D("500"), D("120"), "down", False),
                         "scrap": (D("100"), D("250"), "up", False),
                         "price_increase": (D("400"), D("0"), "down", False),
                         "delay_overtime": (D("0"), D("0"), "same", False)}
        november = services.create_review(action.review.created_by, kind="period", order=None, period="month",
                                          period_day=date(2026, 11, 1), held_on=date(2026, 12, 2), findings="n",
                                          attendee_ids=[], guests=[])
        assert [t.word for t in services.cause_trend(november, action.causes)] == ["no_data"] * 4
        december = services.create_review(action.review.created_by, kind="period", order=None, period="month",
                                          period_day=date(2026, 12, 1), held_on=date(2026, 12, 10), findings="d",
                                          attendee_ids=[], guests=[])
        assert {t.word for t in services.cause_trend(december, action.causes)} == {"not_yet"}
        db.session.rollback()
    with time_machine.travel(utc(2026, 12, 10, 2), tick=False):
        page = text_of(client_of(app, "fin", "zh-CN").get(f"/reviews/actions/{action_id}"))
    assert "下降" in page and "上升" in page and "无变化" in page
    assert "500.00" in page and "120.00" in page
    # Mid-November the after period is still running: a total so far, marked so.
    with app.app_context(), frozen(utc(2026, 11, 20, 2)):
        action = db.session.get(ImprovementAction, action_id)
        rework = next(t for t in services.cause_trend(action.review, action.causes) if t.cause.key == "rework")
        assert (rework.before, rework.after, rework.partial) == (D("500"), D("120"), True)


@BOTH
def test_two_people_completing_one_action_at_once(app, people):
    """The owner and finance mark the same action done at the same moment: one is recorded, the other
    is told it was done already (409), and the action holds one note."""
    review_id = make_review(app, people)
    with frozen(utc(2026, 11, 3, 2)):
        action_id = make_action(app, review_id, people["zhang"], date(2026, 11, 30))
    path = f"/reviews/actions/{action_id}/move/complete"
    statuses = at_once(app, ["zhang", "fin"], [(path, {"note": "Zhang's note"}), (path, {"note": "Finance's note"})])
    assert sorted(statuses) == [303, 409], statuses
    with app.app_context():
        action = db.session.get(ImprovementAction, action_id)
        assert action.status == "done" and action.done_note in ("Zhang's note", "Finance's note")
        from webapp.audit import AuditEvent
        assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "improvement.complete", AuditEvent.entity_id == action_id)) == 1


@BOTH
def test_hostile_input_on_the_review_forms(app, people):
    """Year 9999, a forged period, a megabyte of findings, NUL bytes, a huge order id, RTL text: each a
    clear answer (422 with the message), NUL dropped before the view, never a 500; RTL text kept."""
    fin = client_of(app, "fin", "zh-CN")
    base = {"kind": "period", "period": "month:2026-10-01", "held_on": "2026-11-03", "findings": "ok"}
    far = fin.post("/reviews/new", data={**base, "held_on": "9999-12-31"})
    assert far.status_code == 422 and "2000 年至 2100 年" in error_of(text_of(far), "held_on")
    forged = fin.post("/reviews/new", data={**base, "period": "month:9999-12-01"})
    assert forged.status_code == 422 and error_of(text_of(forged), "period")
    assert fin.post("/reviews/new", data={**base, "findings": "x" * 1_000_000}).status_code in (413, 422)
    nul = fin.post("/reviews/new", data={**base, "findings": "a\x00b"})  # inputs.py drops control characters
    assert nul.status_code == 303 and ">ab</p>" in text_of(fin.get(nul.headers["Location"]))
    assert fin.get("/reviews/new?order_id=99999999999999999999").status_code in (200, 400)
    assert fin.get("/reviews/actions?status=%00").status_code in (200, 400)
    assert fin.get("/reviews/actions/99999999/move/nope").status_code in (404, 405)
    rtl = fin.post("/reviews/new", data={**base, "findings": "مراجعة الشهر", "guests": "\u202eevil"})
    assert rtl.status_code == 303
    assert "مراجعة الشهر" in text_of(fin.get(rtl.headers["Location"]))
    review_id = int(rtl.headers["Location"].rsplit("/", 1)[1])
    with time_machine.travel(utc(2026, 11, 10, 2), tick=False):
        fin = client_of(app, "fin", "zh-CN")
        late = fin.post(f"/reviews/{review_id}/actions", data={"title": "t", "owner_id": str(people["zhang"]),
                                                               "due_date": "9999-01-01"})
        assert late.status_code == 422 and error_of(text_of(late), "due_date")
        stranger = fin.post(f"/reviews/{review_id}/actions", data={"title": "t", "owner_id": "99999",
                                                                   "due_date": "2026-11-20"})
        assert stranger.status_code == 422 and error_of(text_of(stranger), "owner_id")
        huge = fin.post(f"/reviews/{review_id}/actions", data={"title": "t", "owner_id": "9" * 30,
                                                               "due_date": "2026-11-20", "causes": ["9" * 30]})
        assert huge.status_code == 422


def test_editing_a_review_keeps_attendees_and_changes_its_period(app, people):
    """The edit page shows the review as saved (its period chosen, attendees ticked, guests listed);
    saving it as a quarter review stores the quarter's first and last day; production may not edit."""
    fin = client_of(app, "fin", "zh-CN")
    with frozen(utc(2026, 11, 3, 2)):
        created = period_review(fin, people)
    review_id = int(created.headers["Location"].rsplit("/", 1)[1])
    page = text_of(fin.get(f"/reviews/{review_id}/edit"))
    assert 'selected value="month:2026-10-01"' in page and "Mr Wu (supplier)" in page
    assert re.search(rf'<input checked[^>]*value="{people["zhang"]}"|value="{people["zhang"]}"[^>]*checked', page)
    response = fin.post(f"/reviews/{review_id}/edit", data={
        "kind": "period", "period": "quarter:2026-07-01", "held_on": "2026-11-04", "findings": "Q3 again",
        "attendees": [str(people["zhang"])], "guests": ""})
    assert response.status_code == 303
    with app.app_context():
        review = db.session.get(Review, review_id)
        assert (review.period, review.first, review.last) == ("quarter", date(2026, 7, 1), date(2026, 9, 30))
        assert [a.user_id for a in review.attendees] == [people["zhang"]]
    assert "2026年第3季度" in text_of(fin.get(f"/reviews/{review_id}"))
    assert client_of(app, "zhang").get(f"/reviews/{review_id}/edit").status_code == 403
