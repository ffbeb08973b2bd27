"""The shipment's transition table: packing → packed → dispatched → delivered |
delivered_with_exception. Pure Python."""
from ..statemachine import N_, StateMachine, Transition

STATES = ("packing", "packed", "dispatched", "delivered", "delivered_with_exception")
# Until the customer signs for it, the courier sees who receives the shipment (name, phone, address).
UNDELIVERED = ("packing", "packed", "dispatched")
DELIVERED = ("delivered", "delivered_with_exception")
LEFT = ("dispatched",) + DELIVERED  # the goods have left the warehouse

STATE_LABELS = {
    "packing": N_("Packing"),
    "packed": N_("Packed"),
    "dispatched": N_("On the way"),
    "delivered": N_("Delivered"),
    "delivered_with_exception": N_("Delivered with a problem"),
}

SHIPPERS = frozenset({"warehouse", "operations"})


def guard_packed(shipment) -> str | None:
    """Every packing-list line is checked before the shipment is packed."""
    if not shipment.all_checked:
        return N_("Check every packing-list line first.")
    return None


def delivered_target(shipment) -> str:
    """Damage or a shortfall makes it a delivery with a problem."""
    receipt = shipment.receipt
    return "delivered_with_exception" if receipt is not None and receipt.has_exception else "delivered"


MACHINE = StateMachine("shipment", STATES, [
    Transition("pack", ("packing",), "packed", SHIPPERS, guard_packed, label=N_("Packed")),
    Transition("dispatch", ("packed",), "dispatched", SHIPPERS | {"courier"}, label=N_("Confirm dispatch")),
    Transition("deliver", ("dispatched",), delivered_target, frozenset({"customer"}),
               label=N_("Sign for delivery")),
], messages={
    "role": N_("Your role may not do this to a shipment."),
    "state": N_("This shipment is not in a state that allows this."),
}, labels=STATE_LABELS, groups={"UNDELIVERED": UNDELIVERED, "DELIVERED": DELIVERED, "LEFT": LEFT})


RETURN_STATES = ("open", "started", "closed")

RETURN_LABELS = {"open": N_("Not started"), "started": N_("Started"), "closed": N_("Closed")}

# How a return case ended (the delivery issue later turns replacements and credits into records).
RETURN_OUTCOMES = {
    "replaced": N_("Replaced"),
    "credited": N_("Credited"),
    "repaired": N_("Repaired"),
    "rejected_no_fault": N_("Rejected: no fault found"),
    "other": N_("Other"),
}

# A return or exchange case: it must be started within 24 h of the signed receipt.
RETURN_CASE = StateMachine("return_case", RETURN_STATES, [
    Transition("start", ("open",), "started",
               frozenset({"aftersales", "sales", "warehouse", "operations", "manager"}),
               label=N_("Start the return")),
    # A case can be closed without being started first (e.g. rejected: no fault found).
    Transition("close", ("open", "started"), "closed", frozenset({"aftersales", "manager"}),
               label=N_("Close the return")),
], messages={
    "role": N_("Your role may not do this to a return case."),
    "state": N_("This return case has already started."),
}, labels=RETURN_LABELS, groups={"OPEN": ("open", "started")})
