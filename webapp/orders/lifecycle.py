"""The order's transition table (stage 2 and the hand-over to production). Pure Python.

draft → in_review → pending_approval → awaiting_countersign → effective → in_production,
with on_hold and cancelled; an amendment sends an approved order back through review,
approval or signature as the order's settings require.
"""
from ..statemachine import N_, StateMachine, Transition

STATES = (
    "draft", "in_review", "pending_approval", "awaiting_countersign", "effective",
    "in_production", "ready_to_ship", "shipped", "delivered", "closed", "on_hold", "cancelled",
)

STATE_LABELS = {
    "draft": N_("Draft"),
    "in_review": N_("Feasibility review"),
    "pending_approval": N_("Awaiting approval"),
    "awaiting_countersign": N_("Awaiting countersignature"),
    "effective": N_("Effective"),
    "in_production": N_("In production"),
    "ready_to_ship": N_("Ready to ship"),
    "shipped": N_("Shipped"),
    "delivered": N_("Delivered"),
    "closed": N_("Closed"),
    "on_hold": N_("On hold"),
    "cancelled": N_("Cancelled"),
}

AMENDABLE = ("awaiting_countersign", "effective", "in_production")
CANCELLABLE = ("draft", "in_review", "pending_approval", "awaiting_countersign", "effective",
               "on_hold")

# Named groups of states: every other module asks these, never a copied list of its own.
EDITABLE = ("draft",)  # the order's terms can be edited
BUDGETABLE = ("in_review", "pending_approval")  # finance sets the cost budget
PAYABLE = tuple(s for s in STATES if s not in ("draft", "cancelled"))  # payments are recorded
SIGNED = ("effective", "in_production")  # countersigned and running (work orders may be made)
APPROVED = ("awaiting_countersign",) + SIGNED  # past approval
ACTIVE = ("in_review", "pending_approval") + APPROVED  # the weekly load counts these
SHIPPABLE = ("effective", "in_production", "ready_to_ship")  # shipments may be made
AWAITING_GOODS = SHIPPABLE + ("shipped", "on_hold")  # a passed delivery date makes them late
COSTABLE = AWAITING_GOODS + ("delivered",)  # the cost sheet may be edited
SETTLED = ("delivered", "closed")  # delivered (the survey goes, the order may close)
TICKET_OPEN = COSTABLE + ("closed",)  # the customer may open a ticket
ENDED = ("closed", "cancelled")


def reviews_cleared(order) -> bool:
    """Every required department has agreed, or its concern was overridden."""
    current = order.current_reviews()
    return all(d in current and current[d].clears for d in order.settings.get("reviews", []))


def approvals_complete(order) -> bool:
    """Every required approver has approved this round."""
    given = order.current_approvals()
    return all(role in given for role in order.required_approvals())


def after_review(order) -> str:
    """Stay in review until every sign-off clears, then wait for approval (or go straight on)."""
    if not reviews_cleared(order):
        return "in_review"
    return after_approval(order) if not order.required_approvals() else "pending_approval"


def needs_signature(order) -> bool:
    """A first version is always signed; an amended one when the settings say so. A retail sale under
    the firm's quick-retail setting needs no countersignature (its settings say "countersign": false)."""
    if order.settings.get("countersign") is False:
        return False
    return order.signed_version is None or bool(order.settings.get("amend_resign"))


def after_approval(order) -> str:
    """Wait for the remaining approvers; when all have approved, the customer signs."""
    if not approvals_complete(order):
        return "pending_approval"
    return "awaiting_countersign" if needs_signature(order) else after_signature(order)


def after_amend(order) -> str:
    """An amendment goes back through review, approval or signature as the settings require."""
    s = order.settings
    if s.get("amend_rereview") and s.get("reviews"):
        return "in_review"
    if s.get("amend_reapprove") and order.required_approvals():
        return "pending_approval"
    return "awaiting_countersign" if needs_signature(order) else after_signature(order)


def after_signature(order) -> str:
    """A signed order is effective, or goes back to where an amendment took it from."""
    return order.resume_status or "effective"


def after_submit(order) -> str:
    """Into review, or past it when the settings need no sign-off."""
    return "in_review" if order.settings.get("reviews") else after_review(order)


def guard_submit(order) -> str | None:
    """An order needs lines, a delivery date and prices before anyone reviews it."""
    if not order.lines:
        return N_("Add at least one order line before submitting.")
    if order.delivery_date is None:
        return N_("Set the delivery date before submitting.")
    if any(line.quantity <= 0 for line in order.lines):
        return N_("Every line needs a quantity above zero.")
    return None


def guard_start_production(order) -> str | None:
    """Production waits for the prepayment the terms ask for, unless finance overrode it; a service
    project or a retail sale of stock items has no production stage."""
    if getattr(order, "kind", "manufacturing") != "manufacturing":
        return N_("This order has no production stage.")
    if not order.prepayment_satisfied:
        return N_("The prepayment has not been received; finance must record it or override.")
    return None


def guard_budget_set(order) -> str | None:
    """Finance sets the cost budget before it approves."""
    if "finance" in order.required_approvals() and order.budget_total is None:
        return N_("Finance must set the cost budget before approval.")
    return None


def guard_pending_concern(order) -> str | None:
    """Only an unresolved concern can be overridden."""
    if not any(r.verdict == "concern" and r.override_reason is None
               for r in order.current_reviews().values()):
        return N_("There is no open concern to override.")
    return None


def guard_prepayment_open(order) -> str | None:
    """Overriding makes sense only while the prepayment is missing."""
    if order.prepayment_satisfied:
        return N_("The prepayment is already satisfied.")
    return None


def guard_never_numbered(order) -> str | None:
    """A draft that once had a number (a reworked amendment) is cancelled by the manager, not discarded."""
    if order.number is not None:
        return N_("This order has a number; only the manager can cancel it.")
    return None


def resume_target(order) -> str:
    """Back to where the order was put on hold."""
    return order.hold_from or "effective"


def guard_work_done(order) -> str | None:
    """Ready to ship when every work order has passed QC."""
    if not order.all_work_done:
        return N_("Some work orders are not done yet.")
    return None


def guard_all_dispatched(order) -> str | None:
    """Shipped when every ordered quantity has left in some shipment."""
    if not getattr(order, "all_dispatched", False):
        return N_("Not everything has been dispatched yet.")
    return None


def guard_all_delivered(order) -> str | None:
    """Delivered when every ordered quantity has been signed for."""
    if not getattr(order, "all_delivered", False):
        return N_("Not everything has been delivered yet.")
    return None


def guard_all_accepted(order, open_deliverables: int | None = None) -> str | None:
    """A service project is delivered when the customer has accepted every deliverable: the caller
    passes how many are not accepted yet (projects.services), as context."""
    if getattr(order, "kind", "") != "project":
        return N_("Only a service project is delivered by acceptance.")
    if open_deliverables is None or open_deliverables > 0:
        return N_("Not every deliverable has been accepted yet.")
    return None


def guard_closable(order, blockers: list[str] | None = None) -> str | None:
    """Closed when delivered, followed up and costed: the caller passes what still blocks it
    (costing.services.close_blockers) as context; without it the order does not close."""
    if blockers is None:
        return N_("Check the follow-up and the cost sheet before closing.")
    if blockers:
        return blockers[0]
    return None


REVIEWERS = frozenset({"production", "finance", "warehouse"})

MACHINE = StateMachine("order", STATES, [
    Transition("submit", ("draft",), after_submit, frozenset({"sales"}), guard_submit,
               label=N_("Submit for review")),
    Transition("review", ("in_review",), after_review, REVIEWERS, label=N_("Record sign-off")),
    Transition("override_concern", ("in_review",), after_review, frozenset({"manager"}),
               guard_pending_concern, label=N_("Override concern")),
    Transition("revise", ("in_review", "pending_approval"), "draft", frozenset({"sales"}),
               label=N_("Revise order")),
    Transition("approve", ("pending_approval",), after_approval,
               frozenset({"manager", "finance"}), guard_budget_set, label=N_("Approve")),
    Transition("reject", ("pending_approval",), "draft", frozenset({"manager", "finance"}),
               label=N_("Reject")),
    Transition("countersign", ("awaiting_countersign",), after_signature,
               frozenset({"customer"}), label=N_("Countersign")),
    Transition("amend", AMENDABLE, after_amend, frozenset({"sales"}), label=N_("Amend order")),
    Transition("start_production", ("effective",), "in_production",
               frozenset({"operations", "production"}), guard_start_production,
               label=N_("Release to production")),
    Transition("override_prepayment", ("effective",), "effective", frozenset({"finance"}),
               guard_prepayment_open, label=N_("Override prepayment hold")),
    Transition("complete_production", ("in_production",), "ready_to_ship",
               frozenset({"system", "production", "operations"}), guard_work_done,
               label=N_("Production complete")),
    Transition("ship", ("effective", "in_production", "ready_to_ship"), "shipped", frozenset({"system"}),
               guard_all_dispatched, label=N_("Everything dispatched")),
    Transition("deliver", ("shipped",), "delivered", frozenset({"system"}), guard_all_delivered,
               label=N_("Everything delivered")),
    Transition("accept_all", ("effective",), "delivered", frozenset({"system"}), guard_all_accepted,
               label=N_("Everything accepted")),
    Transition("close", ("delivered",), "closed", frozenset({"finance", "manager"}), guard_closable,
               label=N_("Close order")),
    Transition("hold", ("effective", "in_production"), "on_hold", frozenset({"manager"}),
               label=N_("Put on hold")),
    Transition("resume", ("on_hold",), resume_target, frozenset({"manager"}),
               label=N_("Resume")),
    Transition("cancel", CANCELLABLE, "cancelled", frozenset({"manager"}), label=N_("Cancel order")),
    Transition("discard", ("draft",), "cancelled", frozenset({"sales"}), guard_never_numbered,
               label=N_("Discard draft")),
], messages={
    "role": N_("Your role may not do this to an order."),
    "state": N_("This order is not in a state that allows this."),
}, labels=STATE_LABELS, groups={
    "AMENDABLE": AMENDABLE, "CANCELLABLE": CANCELLABLE, "EDITABLE": EDITABLE, "BUDGETABLE": BUDGETABLE,
    "PAYABLE": PAYABLE, "SIGNED": SIGNED, "APPROVED": APPROVED, "ACTIVE": ACTIVE, "SHIPPABLE": SHIPPABLE,
    "AWAITING_GOODS": AWAITING_GOODS, "COSTABLE": COSTABLE, "SETTLED": SETTLED, "TICKET_OPEN": TICKET_OPEN,
    "ENDED": ENDED,
})
