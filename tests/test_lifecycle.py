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
    from webapp import domains
    from webapp.permissions import MACHINES
    domains()  # importing the domains registers their machines
    for machine in MACHINES.values():
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


@pytest.mark.parametrize("machine", [order_lifecycle.MACHINE, requirement_lifecycle.MACHINE],
                         ids=["order", "requirement"])
def test_no_declared_state_is_dead(machine):
    """Every state is the start, a fixed target, or a state some transition leaves from (the
    computed targets only ever land in such states); a typo in the table shows up here."""
    sources = {state for t in machine.transitions.values() for state in t.sources}
    fixed_targets = {t.target for t in machine.transitions.values() if not callable(t.target)}
    assert set(machine.states) <= sources | fixed_targets | {"draft"}
    # terminal states are fixed targets nothing leaves
    assert {"cancelled"} <= fixed_targets - sources
