"""The transition tables on their own (pure Python): every transition refuses the wrong role with
403 and the wrong state with 409, and applies for the right role in a right state."""
import pytest

from webapp.orders import lifecycle as order_lifecycle
from webapp.requirements import lifecycle as requirement_lifecycle
from webapp.statemachine import TransitionError

ALL_ROLES = {"admin", "sales", "operations", "production", "purchasing", "warehouse", "qc", "finance",
             "manager", "aftersales", "worker", "courier", "customer"}


class Thing:
    """Any object with a status whose guards pass."""

    def __init__(self, status):
        self.status = status


def cases():
    for machine in (order_lifecycle.MACHINE, requirement_lifecycle.MACHINE):
        for name, transition in machine.transitions.items():
            yield pytest.param(machine, name, transition, id=f"{machine.name}:{name}")


@pytest.mark.parametrize("machine,name,transition", list(cases()))
def test_wrong_role_is_403(machine, name, transition):
    """Every role outside the table is refused, whatever the state."""
    for role in ALL_ROLES - transition.roles:
        with pytest.raises(TransitionError) as error:
            machine.check(Thing(transition.sources[0]), name, {role})
        assert error.value.status == 403


@pytest.mark.parametrize("machine,name,transition", list(cases()))
def test_wrong_state_is_409(machine, name, transition):
    """Every state outside the table is refused for a role that may make the transition."""
    role = sorted(transition.roles)[0]
    for state in set(machine.states) - set(transition.sources):
        with pytest.raises(TransitionError) as error:
            machine.check(Thing(state), name, {role})
        assert error.value.status == 409


def test_requirement_round_trip():
    """draft → sent → clarification → sent → confirmed, and nothing after confirmation."""
    machine, req = requirement_lifecycle.MACHINE, Thing("draft")
    for name, role, expected in (("send", "sales", "sent"), ("ask_clarification", "customer", "clarification"),
                                 ("resend", "sales", "sent"), ("confirm", "customer", "confirmed")):
        req.status = machine.check(req, name, {role}).target_for(req)
        assert req.status == expected
    for name in machine.transitions:
        assert not machine.allowed(req, name, ALL_ROLES)


def test_every_state_is_reachable_or_terminal():
    """Each order state the table names is the target of some transition or the start."""
    targets = {"draft"}
    for transition in order_lifecycle.MACHINE.transitions.values():
        if not callable(transition.target):
            targets.add(transition.target)
    dynamic = {"in_review", "pending_approval", "awaiting_countersign", "effective", "in_production"}
    stage_two = set(order_lifecycle.STATES) - {"ready_to_ship", "shipped", "delivered", "closed"}
    assert stage_two <= targets | dynamic
