"""A new domain plugs in without editing a central file: a toy domain registered from this test alone
(its state machine with labels and a named group, a permission action with a state rule, a customer
link purpose with its handler, a timeline event, a kind of My work) shows up in permissions, labels,
the timeline, the public link route and My work."""
from types import SimpleNamespace

import pytest
from flask import Response, render_template_string

from webapp import audit, links, registry
from webapp.auth.models import User
from webapp.extensions import db
from webapp.labels import state_label
from webapp.permissions import can
from webapp.registry import Domain, LinkPurpose, StoryPart
from webapp.statemachine import N_, StateMachine, Transition
from webapp.templating import event_label
from webapp.timeline import entries_for
from webapp.work_items import WorkItem, WorkItemKind

TOY_CASE = StateMachine("toy_case", ("new", "fixed"), [
    Transition("fix", ("new",), "fixed", frozenset({"qc"}), label=N_("Fix the toy")),
], labels={"new": N_("New toy case"), "fixed": N_("Toy fixed")}, groups={"OPEN": ("new",)})


def open_toy_link(link) -> Response:
    """The toy domain's page for a customer link."""
    return Response(f"toy case {link.object_id} opened", mimetype="text/plain")


def reported_toys(user):
    """Toy cases reported and waiting for QC: the toy keeps no table, so its audit rows stand in."""
    return (db.select(audit.AuditEvent).where(audit.AuditEvent.action == "toy_case.reported")
            .order_by(audit.AuditEvent.at, audit.AuditEvent.id))


def toy_item(event, user) -> WorkItem:
    """A reported toy case as an item of My work."""
    return WorkItem("Inspect the toy", f"Toy case {event.entity_id}", "/", event.at, "act")


@pytest.fixture
def toy_domain(app):
    """Register the toy domain for one test, and take it away after."""
    domain = registry.register(Domain(
        name="toys", machines=(TOY_CASE,),
        actions={"toy.inspect": frozenset({"qc"})},
        state_rules={"toy.inspect": lambda case: case.status in TOY_CASE.groups["OPEN"]},
        link_purposes=(LinkPurpose("toy_case", open_toy_link, managers=("toy.inspect",)),),
        events={"toy_case.reported": N_("Toy case reported")},
        work=(WorkItemKind("toy.reported", "toy.inspect", query=reported_toys, build=toy_item,
                           label="Toy cases to inspect"),),
    ))
    yield domain
    registry.unregister("toys")
    assert registry.machine("toy_case") is None and registry.link_purpose("toy_case") is None


def test_can_answers_for_the_toy_action_and_transition(app, make_user, toy_domain):
    """The toy's action and transition are answered by can() with their roles and state rule."""
    qc_id, sales_id = make_user("qc"), make_user("sales")
    new, fixed = SimpleNamespace(status="new"), SimpleNamespace(status="fixed")
    with app.app_context():
        qc, sales = db.session.get(User, qc_id), db.session.get(User, sales_id)
        assert can(qc, "toy.inspect", new) and not can(qc, "toy.inspect", fixed)
        assert not can(sales, "toy.inspect", new)
        assert can(qc, "toy_case:fix", new) and not can(qc, "toy_case:fix", fixed)
        assert not can(sales, "toy_case:fix", new)
    registry.unregister("toys")
    with app.app_context(), pytest.raises(KeyError):
        can(db.session.get(User, qc_id), "toy.inspect", new)  # gone with its domain


def test_labels_and_timeline_tell_the_toy_event(app, make_user, toy_domain):
    """state_label, the `state` and `event` filters and a record's timeline use the toy's words."""
    user_id = make_user("qc")
    with app.test_request_context("/"):
        assert state_label("new", "toy_case") == "New toy case"
        assert state_label("fixed", "toy_case.reported") == "Toy fixed"
        assert event_label("toy_case.reported") == "Toy case reported"
        assert event_label("toy_case.fix") == "Fix the toy"  # a transition's own label
        page = render_template_string("{{ 'fixed'|state('toy_case') }} / {{ 'toy_case.reported'|event }}")
        assert page == "Toy fixed / Toy case reported"
        actor = db.session.get(User, user_id)
        event = audit.record("toy_case.reported", SimpleNamespace(id=41), actor=actor, entity_type="toy_case",
                             after={"status": "new"})
        db.session.flush()
        [entry] = entries_for([event])
        assert (entry.what, entry.status, entry.who) == ("Toy case reported", "New toy case", actor.name)
        db.session.rollback()


def test_public_link_route_dispatches_to_the_toy_handler(app, client, as_user, toy_domain):
    """A link issued for the toy's purpose opens the toy's page at /c/<token>; its QR is for those
    the purpose names as managers."""
    with app.test_request_context("/"):
        link = links.issue("toy_case", 7)
        db.session.commit()
        token, link_id = link.token, link.id
    response = client.get(f"/c/{token}")
    assert response.status_code == 200 and response.get_data(as_text=True) == "toy case 7 opened"
    assert as_user("qc").get(f"/links/{link_id}/qr.svg").status_code == 200
    assert as_user("sales").get(f"/links/{link_id}/qr.svg").status_code == 404
    registry.unregister("toys")
    assert client.get(f"/c/{token}").status_code == 404  # no domain answers that purpose any more


def test_unknown_link_purpose_cannot_be_issued(app):
    """A purpose no domain registered is refused when a link is made."""
    with app.test_request_context("/"), pytest.raises(AssertionError):
        links.issue("toy_case", 7)


def test_my_work_lists_the_toy_work_for_those_who_may_do_it(app, make_user, as_user, toy_domain):
    """The toy's kind of work shows on My work for QC (its action's role), not for sales, and goes
    with its domain."""
    with app.test_request_context("/"):
        actor = db.session.get(User, make_user("qc"))
        audit.record("toy_case.reported", SimpleNamespace(id=41), actor=actor, entity_type="toy_case",
                     after={"status": "new"})
        db.session.commit()
    qc, sales = as_user("qc"), as_user("sales")
    page = qc.get("/").get_data(as_text=True)
    assert "Inspect the toy" in page and "Toy case 41" in page
    assert "Toy case 41" not in sales.get("/").get_data(as_text=True)
    registry.unregister("toys")
    assert "Toy case 41" not in qc.get("/").get_data(as_text=True)


def test_the_order_story_tells_the_toy_records_through_its_part(app, make_order, as_user, toy_domain):
    """A domain's part of the order's whole story (registry.StoryPart) is asked by the order page:
    its records' events are found, told in its words and linked where it says, with no import of it
    in the orders domain; an event it recorded on the order itself is its to tell too."""
    order_id = make_order("draft")

    def describe(entry, event, data, story):
        entry.subject = f"Toy case {event.entity_id}" if event.entity_type == "toy_case" else "On the order"
        entry.details.append(f"checked by the toy ({story.parts['toys']['seen']} events)")

    toy_domain.story = lambda: StoryPart(
        records=lambda order: {"toy_case": {41: SimpleNamespace(id=41)}},
        evidence=lambda story: {"seen": len(story.events)},
        describe=describe, order_events=frozenset({"toy_case.noted"}))
    toy_domain.events = {**toy_domain.events, "toy_case.noted": "Toy noted on the order"}
    with app.test_request_context("/"):
        audit.record("toy_case.reported", SimpleNamespace(id=41), entity_type="toy_case", after={"status": "new"})
        audit.record("toy_case.noted", SimpleNamespace(id=order_id), entity_type="order")
        audit.record("toy_case.reported", SimpleNamespace(id=42), entity_type="toy_case")  # not this order's
        db.session.commit()
    page = as_user("sales").get(f"/orders/{order_id}/timeline").get_data(as_text=True)
    assert "Toy case reported" in page and "Toy case 41" in page and "Toy case 42" not in page
    assert "Toy noted on the order" in page and "On the order" in page and "checked by the toy" in page
    registry.unregister("toys")
    page = as_user("sales").get(f"/orders/{order_id}/timeline").get_data(as_text=True)
    assert "Toy case 41" not in page and "On the order" not in page  # gone with its domain


def test_a_used_toy_link_opens_the_copy_its_purpose_registered(app, client, toy_domain):
    """A used link keeps opening what its purpose registered as its copy (public/copies.py asks the
    registry); a purpose without a copy opens nothing once used."""
    with app.test_request_context("/"):
        link = links.issue("toy_case", 7)
        link.used_at = link.created_at
        db.session.commit()
        token = link.token
    assert client.get(f"/c/{token}").status_code == 404  # used, and the purpose keeps no copy
    copied = Domain(**{**vars(toy_domain), "link_purposes": (LinkPurpose(
        "toy_case", open_toy_link, copy=lambda link: Response(f"copy of toy case {link.object_id}")),)})
    registry.register(copied)
    response = client.get(f"/c/{token}")
    assert response.status_code == 200 and response.get_data(as_text=True) == "copy of toy case 7"
