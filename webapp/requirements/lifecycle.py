"""The requirement record's transition table: draft → sent → clarification ↔ sent → confirmed."""
from ..statemachine import N_, StateMachine, Transition

STATES = ("draft", "sent", "clarification", "confirmed", "cancelled")

STATE_LABELS = {
    "draft": N_("Draft"),
    "sent": N_("Awaiting customer"),
    "clarification": N_("Clarification asked"),
    "confirmed": N_("Confirmed"),
    "cancelled": N_("Cancelled"),
}

# Named groups of states.
EDITABLE = ("draft", "clarification")  # sales may edit the record
OPEN = ("draft", "clarification", "sent")  # not yet confirmed or cancelled

MACHINE = StateMachine("requirement", STATES, [
    Transition("send", ("draft",), "sent", frozenset({"sales"}), label=N_("Send to customer")),
    Transition("resend", ("clarification",), "sent", frozenset({"sales"}),
               label=N_("Send revised record")),
    Transition("confirm", ("sent",), "confirmed", frozenset({"customer"}), label=N_("Confirm")),
    Transition("ask_clarification", ("sent",), "clarification", frozenset({"customer"}),
               label=N_("Ask for clarification")),
    Transition("cancel", ("draft", "sent", "clarification"), "cancelled",
               frozenset({"sales", "manager"}), label=N_("Cancel")),
], messages={
    "role": N_("Your role may not do this to a requirement."),
    "state": N_("This requirement is not in a state that allows this."),
}, labels=STATE_LABELS, groups={"EDITABLE": EDITABLE, "OPEN": OPEN})
