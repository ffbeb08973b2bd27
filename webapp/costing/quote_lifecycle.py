"""The quotation's transition table (报价): draft → sent → accepted | rejected | expired, or
cancelled; a sent quotation may go back to draft to be revised."""
from ..statemachine import N_, NP_, StateMachine, Transition

STATES = ("draft", "sent", "accepted", "rejected", "expired", "cancelled")

STATE_LABELS = {
    "draft": N_("Draft"),
    "sent": N_("Sent to the customer"),
    "accepted": NP_("quotation state", "Accepted"),
    "rejected": NP_("quotation state", "Rejected"),
    "expired": N_("Expired"),
    "cancelled": N_("Cancelled"),
}

# Named groups of states.
EDITABLE = ("draft",)  # the lines, prices and estimate may change
OPEN = ("draft", "sent")  # not yet decided

SALES = frozenset({"sales", "manager"})


def _still_valid(quote, today=None) -> str | None:
    """An acceptance after the validity date is refused: the prices may no longer hold (today, the
    firm's date, comes from the service; a page asking whether to show the button gives none)."""
    if today is not None and quote.valid_until is not None and quote.valid_until < today:
        return N_("The quotation's validity has passed; revise it and send it again.")
    return None


MACHINE = StateMachine("quote", STATES, [
    Transition("send", ("draft",), "sent", SALES, label=N_("Mark as sent to the customer")),
    Transition("revise", ("sent", "expired", "rejected"), "draft", SALES, label=N_("Revise")),
    Transition("accept", ("sent",), "accepted", SALES, guard=_still_valid,
               label=N_("Record the customer's acceptance")),
    Transition("reject", ("sent",), "rejected", SALES, label=N_("Record the customer's rejection")),
    Transition("expire", ("sent",), "expired", SALES, label=N_("Mark as expired")),
    Transition("cancel", ("draft", "sent"), "cancelled", SALES, label=N_("Cancel")),
], messages={
    "role": N_("Your role may not do this to a quotation."),
    "state": N_("This quotation is not in a state that allows this."),
}, labels=STATE_LABELS, groups={"EDITABLE": EDITABLE, "OPEN": OPEN})
