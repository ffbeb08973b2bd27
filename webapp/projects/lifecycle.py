"""A deliverable's transition table: open → accepted, or open → rework (rejected) → open when the
rework is handed over again. Pure Python."""
from ..statemachine import N_, StateMachine, Transition

STATES = ("open", "rework", "accepted")

STATE_LABELS = {
    "open": N_("Awaiting acceptance"),
    "rework": N_("Rework"),
    "accepted": N_("Accepted"),
}

DELIVERABLE_LABELS = STATE_LABELS  # the name other domains read them by (the customer's order page)

# Who runs a project: reports progress, hands over rework, sends the acceptance link.
PROJECT_STAFF = frozenset({"sales", "operations", "manager"})


MACHINE = StateMachine("deliverable", STATES, [
    Transition("accept", ("open",), "accepted", frozenset({"customer"}), label=N_("Accept")),
    Transition("reject", ("open",), "rework", frozenset({"customer"}), label=N_("Reject")),
    Transition("hand_over", ("rework",), "open", PROJECT_STAFF, label=N_("Rework done: hand over again")),
], messages={
    "role": N_("Your role may not do this to a deliverable."),
    "state": N_("This deliverable is not awaiting acceptance."),
}, labels=STATE_LABELS, groups={"OPEN": ("open", "rework")})

DECISIONS = {"accept": N_("Accept"), "reject": N_("Reject")}
