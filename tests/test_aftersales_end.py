"""After-sales to the end (issue 15): ticket types and solutions, a deadline to solve counted in working
time from the type's clock, a department's part on its own clock with hand-over and hand-back in the
ticket's history, the customer's confirmation (on their link or taken by phone) closing the ticket, the
background task escalating overdue clocks once per due time by mail through a real SMTP server, and survey
answers taken by phone — on SQLite and PostgreSQL."""
import email
import email.policy
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from webapp.admin.models import CalendarDay
from webapp.aftersales import services
from webapp.aftersales.models import FollowUp, Survey, Ticket
from webapp.audit import AuditEvent
from webapp.extensions import db
from webapp.notify import mail
from webapp.orders.models import Order
from webapp.wallclock import frozen

from .helpers import count, customer_path, error_of, get, text_of

BOTH = pytest.mark.parametrize("app", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                               indirect=True)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def sh(*args) -> datetime:
    """A wall-clock time in the firm's zone."""
    return datetime(*args, tzinfo=SHANGHAI)


def receive(app, order_id, signed_at, delivered=True):
    """Setup shortcut: what shipping does when the customer signs the last delivery receipt."""
    with frozen(signed_at), app.app_context(), app.test_request_context("/", method="POST"):
        order = db.session.get(Order, order_id)
        services.on_receipt(order, signed_at)
        if delivered:
            order.status = "delivered"  # SHORTCUT for the setup only: shipping moves it in the app
            services.on_delivered(order)
        db.session.commit()
        mail.flush()


def open_ticket(client, order_id, kind="fault", subject="Gearbox noise", description="Loud after 2,000 hours"):
    """Open a ticket through the staff form; return its id."""
    response = client.post(f"/aftersales/orders/{order_id}/tickets",
                           data={"t-kind": kind, "t-subject": subject, "t-description": description})
    assert response.status_code == 303, text_of(response)[:400]
    return int(re.search(r"/tickets/(\d+)", response.headers["Location"]).group(1))


def history(app, ticket_id) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(db.select(AuditEvent.action).where(
            AuditEvent.entity_type == "ticket", AuditEvent.entity_id == ticket_id).order_by(AuditEvent.id)))


@pytest.fixture
def order_id(make_order):
    return make_order("in_production")


@BOTH
def test_the_type_sets_the_deadline_to_solve_across_a_weekend_and_a_holiday(app, order_id, as_user):
    """A fault opened Friday 10:00 is to be solved in 5 working days: the weekend and Tuesday's holiday
    stand still, so Monday of the next week at 10:00; a usage question in 2 (Wednesday); changing the type
    moves the deadline (counted from the opening) and is kept in the ticket's history."""
    with app.app_context():
        db.session.add(CalendarDay(day=sh(2026, 12, 8).date(), name="Holiday", is_working=False))
        db.session.commit()
    staff = as_user("aftersales")
    with frozen(sh(2026, 12, 4, 10, 0)):
        fault = open_ticket(staff, order_id, "fault")
        usage = open_ticket(staff, order_id, "usage", subject="How to oil it")
    assert get(app, Ticket, fault).resolution_due_at == sh(2026, 12, 14, 10, 0)
    assert get(app, Ticket, usage).resolution_due_at == sh(2026, 12, 9, 10, 0)
    assert get(app, Ticket, fault).first_response_due_at == sh(2026, 12, 7, 10, 0)
    with frozen(sh(2026, 12, 10, 10, 0)):
        page = text_of(staff.get(f"/aftersales/tickets/{fault}"))
        assert "Fault" in page and "5 working days" in page and "left" in page
        late = text_of(staff.get(f"/aftersales/tickets/{usage}"))
        assert "overdue by" in late
        changed = staff.post(f"/aftersales/tickets/{usage}/classify", data={"k-kind": "complaint", "k-solution": "guidance"})
        assert changed.status_code == 303
    ticket = get(app, Ticket, usage)
    assert (ticket.kind, ticket.solution) == ("complaint", "guidance")
    assert ticket.resolution_due_at == sh(2026, 12, 10, 10, 0)  # 3 working days from Friday, the holiday skipped
    assert history(app, usage) == ["ticket.classified"]
    page = text_of(staff.get(f"/aftersales/tickets/{usage}"))
    assert "Ticket type and solution set" in page and "Guidance" in page


@BOTH
def test_unknown_types_solutions_and_departments_are_refused(app, order_id, as_user):
    """A type, solution or department not in the lists: 422 with the field's message, nothing recorded."""
    staff = as_user("aftersales")
    bad = staff.post(f"/aftersales/orders/{order_id}/tickets",
                     data={"t-kind": "hardware", "t-subject": "x", "t-description": "y"})
    assert bad.status_code == 422 and "Choose the ticket's type from the list." in error_of(text_of(bad), "t-kind")
    assert count(app, Ticket) == 0
    ticket_id = open_ticket(staff, order_id)
    bad = staff.post(f"/aftersales/tickets/{ticket_id}/classify", data={"k-kind": "fault", "k-solution": "prayer"})
    assert bad.status_code == 422 and "Choose the solution from the list." in error_of(text_of(bad), "k-solution")
    for role in ("technical", "admin", "manager", ""):
        bad = staff.post(f"/aftersales/tickets/{ticket_id}/assign", data={"a-department": role, "a-note": "look"})
        assert bad.status_code == 422 and "Choose a department from the list." in error_of(text_of(bad), "a-department")
    bad = staff.post(f"/aftersales/tickets/{ticket_id}/respond", data={"m-body": "x", "m-solution": "magic"})
    assert bad.status_code == 422
    ticket = get(app, Ticket, ticket_id)
    assert (ticket.kind, ticket.solution, ticket.department, ticket.status) == ("fault", "", "", "open")
    assert history(app, ticket_id) == []
    # a hand-back of a ticket no department holds: 409 with its reason
    refused = staff.post(f"/aftersales/tickets/{ticket_id}/hand-back", data={"h-note": "done"})
    assert refused.status_code == 409 and "This ticket is not with another department." in text_of(refused)
    assert as_user("finance").post(f"/aftersales/tickets/{ticket_id}/assign",
                                   data={"a-department": "qc", "a-note": "x"}).status_code == 403


@BOTH
def test_a_department_gets_its_part_on_its_own_clock_and_hands_it_back(app, order_id, as_user):
    """Handed to QC on Friday 17:00, QC's part is due Monday 09:00 (16 working hours: 7 on Friday, 9 on
    Monday); QC sees it on My work, production may not hand it back, QC does; reassigning restarts the
    clock; each step is in the ticket's history and on its page."""
    staff, qc, production = as_user("aftersales"), as_user("qc"), as_user("production")
    with frozen(sh(2026, 12, 4, 9, 0)):
        ticket_id = open_ticket(staff, order_id)
    with frozen(sh(2026, 12, 4, 17, 0)):
        response = staff.post(f"/aftersales/tickets/{ticket_id}/assign",
                              data={"a-department": "qc", "a-note": "Check the returned gear's hardness"})
        assert response.status_code == 303
    ticket = get(app, Ticket, ticket_id)
    assert ticket.department == "qc" and ticket.department_due_at == sh(2026, 12, 7, 9, 0)
    with frozen(sh(2026, 12, 7, 8, 0)):
        home = text_of(qc.get("/"))
        assert "Ticket handed to your department" in home and "Gearbox noise" in home
        assert "Ticket handed to your department" not in text_of(production.get("/"))
        page = text_of(qc.get(f"/aftersales/tickets/{ticket_id}"))
        assert "With department" in page and "Check the returned gear" in page and "16 working hours" in page
    assert production.post(f"/aftersales/tickets/{ticket_id}/hand-back", data={"h-note": "x"}).status_code == 403
    empty = qc.post(f"/aftersales/tickets/{ticket_id}/hand-back", data={"h-note": " "})
    assert empty.status_code == 422 and "Say what the department found or did." in error_of(text_of(empty), "h-note")
    with frozen(sh(2026, 12, 7, 8, 30)):
        assert qc.post(f"/aftersales/tickets/{ticket_id}/hand-back",
                       data={"h-note": "Hardness 58 HRC, within spec"}).status_code == 303
    ticket = get(app, Ticket, ticket_id)
    assert ticket.department == "" and ticket.department_due_at is None
    # handed again, to production this time: a new clock from now
    with frozen(sh(2026, 12, 7, 10, 0)):
        assert staff.post(f"/aftersales/tickets/{ticket_id}/assign",
                          data={"a-department": "production", "a-note": "Rework the gear"}).status_code == 303
    assert get(app, Ticket, ticket_id).department_due_at == sh(2026, 12, 8, 2, 0)
    assert history(app, ticket_id) == ["ticket.assigned", "ticket.handed_back", "ticket.assigned"]
    page = text_of(staff.get(f"/aftersales/tickets/{ticket_id}"))
    assert "Ticket handed back by the department" in page and "Hardness 58 HRC" in page
    with app.app_context():
        events = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "ticket.handed_back")).all()
        assert len(events) == 1 and '"qc"' in events[0].before and events[0].actor_user_id == qc.user_id


@BOTH
def test_the_customer_confirms_on_their_link_or_staff_record_it_by_phone(app, order_id, as_user):
    """Nothing proposed yet: confirming is refused (409, its reason); a proposed repair is confirmed on the
    link and the ticket closes; confirming again is refused as closed. Another ticket is confirmed by phone,
    marked as such with who recorded it; a second confirmation, a missing name or a wrong role are refused."""
    receive(app, order_id, sh(2026, 12, 1, 10), delivered=False)
    staff = as_user("aftersales")
    first = open_ticket(staff, order_id)
    path = customer_path(app, "order_service", order_id)
    customer = app.test_client()
    early = customer.post(f"{path}/tickets/{first}/confirm")
    assert early.status_code == 409 and "No solution has been proposed on this ticket yet" in text_of(early)
    assert staff.post(f"/aftersales/tickets/{first}/respond",
                      data={"m-body": "A technician repairs it on Monday.", "m-solution": "repair"}).status_code == 303
    assert get(app, Ticket, first).solution == "repair"
    assert customer.post(f"{path}/tickets/{first}/confirm").status_code == 303
    assert get(app, Ticket, first).status == "resolved" and not get(app, Ticket, first).confirmed_by_phone
    again = customer.post(f"{path}/tickets/{first}/confirm")
    assert again.status_code == 409 and "This ticket is already closed" in text_of(again)

    second = open_ticket(staff, order_id, kind="usage", subject="How to oil it")
    phone = f"/aftersales/tickets/{second}/confirm-by-phone"
    assert staff.post(phone, data={"p-note": "Mr Wu"}).status_code == 409  # not answered yet
    assert staff.post(f"/aftersales/tickets/{second}/respond",
                      data={"m-body": "Use ISO VG 220 every 500 hours.", "m-solution": "guidance"}).status_code == 303
    missing = staff.post(phone, data={"p-note": ""})
    assert missing.status_code == 422 and "Enter the name of the person who confirmed." in error_of(text_of(missing), "p-note")
    assert as_user("finance").post(phone, data={"p-note": "Mr Wu"}).status_code == 403
    assert staff.post(phone, data={"p-note": "Mr Wu, the plant manager"}).status_code == 303
    ticket = get(app, Ticket, second)
    assert ticket.status == "resolved" and ticket.confirmed_by_phone and ticket.resolved_by_id == staff.user_id
    closed = staff.post(phone, data={"p-note": "Mr Wu"})
    assert closed.status_code == 409 and "This ticket is already closed" in text_of(closed)
    page = text_of(staff.get(f"/aftersales/tickets/{second}"))
    assert "by phone" in page and "Customer confirmed the resolution by phone" in page and "Mr Wu, the plant manager" in page
    assert history(app, second)[-1] == "ticket.confirm_by_phone"


@BOTH
def test_overdue_clocks_escalate_once_by_mail_through_a_real_smtp_server(app, order_id, as_user, make_user, smtp):
    """The worker's task, run twice after the first answer's due time, mails the sales rep and the
    manager once; the ticket's history and My work say escalated. Handed to QC, the department's clock
    escalates on its own (QC told too); an overdue follow-up call escalates once; a new due time may
    escalate again."""
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    make_user("manager", username="boss", name="Zhao Boss")
    qc = as_user("qc", username="qcwang")
    staff = as_user("aftersales")
    with app.app_context():
        rep = db.session.get(Order, order_id).sales_rep.email
    receive(app, order_id, sh(2026, 12, 1, 10), delivered=False)  # follow-up due Friday 4 Dec 10:00
    with frozen(sh(2026, 12, 2, 10, 0)):
        ticket_id = open_ticket(staff, order_id, kind="complaint")  # first answer due Thursday 10:00
    task = app.extensions["huey_tasks"]["webapp.aftersales.tasks.escalate_overdue_aftersales"]
    smtp.messages.clear()
    with app.app_context():
        with frozen(sh(2026, 12, 3, 9, 0)):
            task()
        assert smtp.messages == []
        with frozen(sh(2026, 12, 3, 10, 15)):
            task()
            task()
    bosses = ["boss@example.com", "manager-maker@example.com"]  # make_order's manager is one too
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == sorted([rep, *bosses])
    message = email.message_from_bytes(smtp.messages[0].content, policy=email.policy.default)
    assert "Gearbox noise" in message["Subject"]
    assert f"/aftersales/tickets/{ticket_id}" in message.get_body().get_content()
    ticket = get(app, Ticket, ticket_id)
    assert ticket.response_escalated_at == sh(2026, 12, 3, 10, 15) and ticket.resolution_escalated_at is None
    assert history(app, ticket_id) == ["ticket.escalated"]
    with frozen(sh(2026, 12, 3, 11, 0)):
        home = text_of(staff.get("/"))
        assert "Escalated" in home
        assert "Escalated" in text_of(staff.get("/aftersales/"))

    # QC holds its part past due; the follow-up call is overdue on Friday: each escalates once
    with frozen(sh(2026, 12, 3, 12, 0)):
        assert staff.post(f"/aftersales/tickets/{ticket_id}/assign",
                          data={"a-department": "qc", "a-note": "Measure it"}).status_code == 303
    smtp.messages.clear()
    with app.app_context():
        with frozen(sh(2026, 12, 4, 10, 30)):  # QC due Friday 04:00; the call due Friday 10:00
            task()
            task()
    told = sorted(m.rcpt_tos[0] for m in smtp.messages)
    assert told == sorted([rep, *bosses, "qc-maker@example.com", "qcwang@example.com", rep, *bosses])
    assert get(app, Ticket, ticket_id).department_escalated_at == sh(2026, 12, 4, 10, 30)
    with app.app_context():
        follow_up = db.session.scalar(db.select(FollowUp).where(FollowUp.order_id == order_id))
        assert follow_up.escalated_at == sh(2026, 12, 4, 10, 30)
        assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "follow_up.escalated")) == 1
    with frozen(sh(2026, 12, 4, 11, 0)):
        assert "Escalated" in text_of(qc.get("/"))
    # handed to production: a new due time, which escalates again in its turn; the solve deadline too
    with frozen(sh(2026, 12, 4, 12, 0)):
        assert staff.post(f"/aftersales/tickets/{ticket_id}/assign",
                          data={"a-department": "production", "a-note": "Rework"}).status_code == 303
    assert get(app, Ticket, ticket_id).department_escalated_at is None
    smtp.messages.clear()
    with app.app_context(), frozen(sh(2026, 12, 10, 12, 0)):
        task()
    kinds = history(app, ticket_id).count("ticket.escalated")
    assert kinds == 4  # first answer, QC's part, production's part, the deadline to solve (Mon 7 Dec 10:00)
    assert get(app, Ticket, ticket_id).resolution_escalated_at == sh(2026, 12, 10, 12, 0)
    assert "production-maker@example.com" in {m.rcpt_tos[0] for m in smtp.messages}


@BOTH
def test_survey_answers_taken_by_phone_are_marked_and_counted(app, order_id, as_user):
    """Staff enter the answers on the same form from the order page; the survey is marked by phone with
    who entered it; the customer's link then only thanks; the satisfaction KPI counts it; a second entry,
    a missing rating or a wrong role are refused."""
    from webapp.kpi.measures import survey_facts
    receive(app, order_id, sh(2026, 12, 1, 10))
    staff = as_user("aftersales")
    with app.app_context():
        survey_id = db.session.scalar(db.select(Survey.id).where(Survey.order_id == order_id))
    order_page = text_of(staff.get(f"/aftersales/orders/{order_id}"))
    assert f"/aftersales/surveys/{survey_id}/phone" in order_page
    form = text_of(staff.get(f"/aftersales/surveys/{survey_id}/phone"))
    assert "Taken by phone" in form and "How good was our service?" in form
    url = f"/aftersales/surveys/{survey_id}/phone"
    assert as_user("finance").post(url, data={"requirement_response": "5"}).status_code == 403
    bad = staff.post(url, data={"requirement_response": "5", "delivery_timeliness": "9", "service_quality": "4"})
    assert bad.status_code == 422 and "Choose a rating from 1 (poor) to 5 (excellent)." in text_of(bad)
    with frozen(sh(2026, 12, 5, 15, 0)):
        saved = staff.post(url, data={"requirement_response": "5", "delivery_timeliness": "4",
                                      "service_quality": "3", "suggestions": "Call before delivery"})
    assert saved.status_code == 303
    survey = get(app, Survey, survey_id)
    assert survey.status == "answered" and survey.entered_by_id == staff.user_id
    assert survey.answered_at == sh(2026, 12, 5, 15, 0) and survey.average == 4
    assert staff.post(url, data={"requirement_response": "1", "delivery_timeliness": "1",
                                 "service_quality": "1"}).status_code == 409
    page = text_of(staff.get(f"/aftersales/orders/{order_id}"))
    assert "by phone" in page and "Call before delivery" in page
    customer = app.test_client()
    assert "Thank you for your answer" in text_of(customer.get(customer_path(app, "survey", order_id)))
    with app.app_context():
        facts = survey_facts(sh(2026, 12, 1), sh(2027, 1, 1))
        assert [(f.requirement_response, f.delivery_timeliness, f.service_quality) for f in facts] == [(5, 4, 3)]
        event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "survey.answer_by_phone"))
        assert event.actor_user_id == staff.user_id and '"by_phone": true' in event.after


def test_page_words_in_chinese(app, order_id, as_user):
    """The ticket page in Simplified Chinese: the type, the deadline to solve, the department forms."""
    staff = as_user("aftersales")
    staff.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    ticket_id = open_ticket(staff, order_id, kind="complaint")
    page = text_of(staff.get(f"/aftersales/tickets/{ticket_id}"))
    for words in ("投诉", "解决时限", "转交其他部门", "类型和解决方式", "3 个工作日"):
        assert words in page, words


def test_the_demo_firm_has_typed_tickets_one_escalated_one_with_quality(demo_app):
    """The demo: tickets of several types; Nordic's hinge fault unanswered past its first answer, escalated
    by the worker and marked so on Lucy's My work and the after-sales board; 华东精密's damaged gears with QC
    on their own clock, on Zhou Jie's My work."""
    from .conftest import demo_login
    with demo_app.app_context():
        tickets = db.session.scalars(db.select(Ticket)).all()
        assert {t.kind for t in tickets} >= {"fault", "usage", "complaint", "other"}
        escalated = [t for t in tickets if t.escalated]
        assert [t.subject for t in escalated] == ["Soft-close hinge broken on 2 cabinets"]
        assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "ticket.escalated")) == 1
        with_qc = [t for t in tickets if t.department]
        assert [(t.department, t.kind) for t in with_qc] == [("qc", "complaint")] and with_qc[0].department_due_at
        assert all(t.resolution_due_at for t in tickets)
    home = text_of(demo_login(demo_app, "lucy").get("/"))
    assert "Escalated" in home and "Soft-close hinge" in home
    board = text_of(demo_login(demo_app, "wu.ting", locale="zh").get("/aftersales/"))
    assert "已上报" in board and "处理部门" in board
    assert "第二批 12 件齿面磕伤" in text_of(demo_login(demo_app, "zhou.jie").get("/"))


@BOTH
def test_two_phones_recording_the_same_confirmation_or_survey_at_once(app, order_id, as_user, make_user):
    """Two staff record the customer's phone confirmation of one ticket at the same moment: one closes it,
    the other is told it is closed (409); the same for the survey's answers: one answer is kept."""
    from .helpers import at_once
    receive(app, order_id, sh(2026, 12, 1, 10), delivered=False)
    make_user("aftersales", username="ting")
    make_user("sales", username="fang")
    staff = as_user("aftersales")
    ticket_id = open_ticket(staff, order_id)
    assert staff.post(f"/aftersales/tickets/{ticket_id}/respond",
                      data={"m-body": "New gear ships today.", "m-solution": "replacement"}).status_code == 303
    phone = f"/aftersales/tickets/{ticket_id}/confirm-by-phone"
    statuses = at_once(app, ["ting", "fang"], [(phone, {"p-note": "Mr Wu"}), (phone, {"p-note": "Mrs Wu"})])
    assert sorted(statuses) == [303, 409]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "ticket.confirm_by_phone")) == 1
    with app.app_context(), app.test_request_context("/", method="POST"):
        db.session.get(Order, order_id).status = "delivered"  # SHORTCUT: shipping does it in the app
        services.on_delivered(db.session.get(Order, order_id))
        db.session.commit()
        survey_id = db.session.scalar(db.select(Survey.id).where(Survey.order_id == order_id))
    url = f"/aftersales/surveys/{survey_id}/phone"
    answers = [(url, {"requirement_response": "5", "delivery_timeliness": "5", "service_quality": "5"}),
               (url, {"requirement_response": "1", "delivery_timeliness": "1", "service_quality": "1"})]
    assert sorted(at_once(app, ["ting", "fang"], answers)) == [303, 409]
    survey = get(app, Survey, survey_id)
    assert survey.status == "answered" and survey.average in (1, 5)
