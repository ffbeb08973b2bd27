"""A monthly statement's transition table (对账单): draft → sent → confirmed | disputed. A disputed
statement stays as it was; finance corrects it with a new version (statements.draft)."""
from ..statemachine import N_, StateMachine, Transition

STATES = ("draft", "sent", "confirmed", "disputed")

# The finance roles that record invoices send statements too (receivables/__init__.py RECORDERS).
SENDERS = frozenset({"finance", "admin"})

STATE_LABELS = {"draft": N_("Draft"), "sent": N_("Sent, waiting for the customer"),
                "confirmed": N_("Confirmed by the customer"), "disputed": N_("Disputed by the customer")}

MACHINE = StateMachine("statement", STATES, [
    Transition("send", ("draft",), "sent", SENDERS, label=N_("Send to the customer")),
    # The customer answers once, on the statement's link.
    Transition("confirm", ("sent",), "confirmed", frozenset({"customer"}), label=N_("Confirm")),
    Transition("dispute", ("sent",), "disputed", frozenset({"customer"}), label=N_("Dispute")),
], messages={
    "role": N_("Your role may not do this to a statement."),
    "state": N_("This statement is not waiting for an answer."),
}, labels=STATE_LABELS)
