"""The work order's transition table: planned → materials_ready → in_progress → qc → done,
with blocked (an anomaly stops the work) and back. Pure Python."""
from ..statemachine import N_, NP_, StateMachine, Transition

STATES = ("planned", "materials_ready", "in_progress", "qc", "done", "blocked")

STATE_LABELS = {
    "planned": NP_("work order state", "Planned"),
    "materials_ready": N_("Materials ready"),
    "in_progress": N_("In progress"),
    "qc": N_("Waiting for QC"),
    "done": NP_("work order state", "Done"),
    "blocked": N_("Blocked"),
}

FLOOR = frozenset({"worker", "production"})


def guard_finish(work_order) -> str | None:
    """A job goes to QC only when its quantity is made."""
    if work_order.remaining > 0:
        return N_("Report the full good quantity before finishing.")
    return guard_finish_first_article(work_order)


def guard_materials(work_order, system: bool = False) -> str | None:
    """A work order with a bill of materials reaches "materials purchased" when its materials are in
    stock (production/materials.py, on each receipt), never by a person's word."""
    if work_order.bom_version_id is not None and not system:
        return N_("This work order's materials are counted from stock: the milestone is reached when they are received.")
    return None


def guard_finish_first_article(work_order) -> str | None:
    """Mass production waits for a first article the customer must approve (quality answers)."""
    from .. import signals
    for _receiver, message in signals.work_order_finishing.send(work_order):
        if message:
            return message
    return None


def unblock_target(work_order) -> str:
    """Back to where the anomaly stopped it."""
    return work_order.blocked_from or "in_progress"


MACHINE = StateMachine("work_order", STATES, [
    Transition("materials_ready", ("planned",), "materials_ready",
               frozenset({"purchasing", "warehouse", "production", "system"}), guard_materials,
               label=N_("Materials purchased")),
    Transition("start", ("planned", "materials_ready"), "in_progress", FLOOR, label=N_("Start")),
    Transition("finish", ("in_progress",), "qc", FLOOR, guard_finish, label=N_("Finish")),
    Transition("pass_qc", ("qc",), "done", frozenset({"qc"}), label=N_("QC passed")),
    # services.fail_qc records the rejected quantity first, so the job reopens for that much work.
    Transition("fail_qc", ("qc",), "in_progress", frozenset({"qc"}), label=N_("QC failed: rework")),
    Transition("block", ("planned", "materials_ready", "in_progress", "qc"), "blocked",
               FLOOR | {"qc"}, label=N_("Blocked")),
    Transition("unblock", ("blocked",), unblock_target, frozenset({"production", "operations"}),
               label=N_("Resume work")),
], messages={
    "role": N_("Your role may not do this to a work order."),
    "state": N_("This work order is not in a state that allows this."),
}, labels=STATE_LABELS)
