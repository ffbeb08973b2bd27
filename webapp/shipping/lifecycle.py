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


RETURN_STATES = ("open", "started", "collecting", "collected", "inspected", "replacing", "closed")

RETURN_LABELS = {"open": N_("Not started"), "started": N_("Started"), "collecting": N_("Collection booked"),
                 "collected": N_("Goods collected"), "inspected": N_("Inspected"),
                 "replacing": N_("Replacement on its way"), "closed": N_("Closed")}

# What a case's next step is, in words (its page and My work).
RETURN_NEXT_STEP = {
    "open": N_("Start the return"),
    "started": N_("Return: book the collection, or decide"),
    "collecting": N_("Return: goods to be collected"),
    "collected": N_("Return: inspect the goods on arrival"),
    "inspected": N_("Return: replace, repair, credit or refuse"),
    "replacing": N_("Return: replacement to be delivered"),
}

# How a return case ended.
RETURN_OUTCOMES = {
    "replaced": N_("Replaced"),
    "credited": N_("Credited"),
    "repaired": N_("Repaired"),
    "refused": N_("Refused"),
    "rejected_no_fault": N_("Rejected: no fault found"),
    "other": N_("Other"),
}

RETURN_STAFF = frozenset({"aftersales", "sales", "warehouse", "operations", "manager"})
RETURN_DECIDERS = frozenset({"aftersales", "manager"})
RETURN_HANDS = frozenset({"warehouse", "operations", "aftersales", "manager"})
# Decided after the goods came back and were inspected, or at once for a shortfall (nothing to collect).
DECIDABLE = ("started", "inspected")

# A return or exchange case: started within 24 h of the signed receipt; the goods are collected (a pickup
# booked, confirmed by the courier or the warehouse) and inspected on arrival; then replaced (a
# replacement shipment, closed when the customer signs for it), repaired, credited or refused.
RETURN_CASE = StateMachine("return_case", RETURN_STATES, [
    Transition("start", ("open",), "started", RETURN_STAFF, label=N_("Start the return")),
    Transition("book_collection", ("started",), "collecting", RETURN_HANDS, label=N_("Book the collection")),
    Transition("collect", ("collecting",), "collected", RETURN_HANDS | {"courier"}, label=N_("Goods collected")),
    Transition("inspect", ("collected",), "inspected", RETURN_HANDS | {"qc"}, label=N_("Inspected on arrival")),
    Transition("replace", DECIDABLE, "replacing", RETURN_DECIDERS | {"warehouse", "operations"},
               label=N_("Send a replacement")),
    Transition("replaced", ("replacing",), "closed", frozenset({"system"}), label=N_("Replacement delivered")),
    Transition("repair", ("inspected",), "closed", RETURN_DECIDERS, label=N_("Repaired and returned")),
    Transition("credit", DECIDABLE, "closed", RETURN_DECIDERS, label=N_("Credit the customer")),
    Transition("refuse", ("open", "started", "collecting", "collected", "inspected"), "closed", RETURN_DECIDERS,
               label=N_("Refuse the return")),
    # A case can be closed without being started first (e.g. rejected: no fault found).
    Transition("close", ("open", "started"), "closed", RETURN_DECIDERS, label=N_("Close the return")),
], messages={
    "role": N_("Your role may not do this to a return case."),
    "state": N_("This return case is not at that step: do the steps in order."),
}, labels=RETURN_LABELS, groups={"OPEN": RETURN_STATES[:-1]})
