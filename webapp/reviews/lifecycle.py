"""An improvement action's transition table: open → in_progress → done, or cancelled; a done or
cancelled action may be reopened by the review's editors. Who may touch one action at all (its owner,
or the review's editors) is the `action.update` check (reviews/__init__.py); the roles here only keep
cancel and reopen to the editors. Pure Python."""
from ..permissions import OFFICE
from ..statemachine import NP_, N_, StateMachine, Transition

STATES = ("open", "in_progress", "done", "cancelled")

STATE_LABELS = {
    "open": NP_("improvement action state", "Open"),
    "in_progress": NP_("improvement action state", "In progress"),
    "done": NP_("improvement action state", "Done"),
    "cancelled": NP_("improvement action state", "Cancelled"),
}

# Who holds reviews and edits their actions (finance, the manager, operations).
EDITORS = frozenset({"finance", "manager", "operations"})
# Who reads reviews: the departments that sit in the meeting.
READERS = frozenset({"finance", "manager", "operations", "sales", "production", "qc", "purchasing", "aftersales"})
# An owner is any staff member; the action.update check narrows it to this action's owner.
STAFF = OFFICE

OPEN = ("open", "in_progress")

MACHINE = StateMachine("improvement", STATES, [
    Transition("start", ("open",), "in_progress", STAFF, label=N_("Start on it")),
    Transition("complete", OPEN, "done", STAFF, label=N_("Mark done")),
    Transition("cancel", OPEN, "cancelled", EDITORS, label=N_("Cancel the action")),
    Transition("reopen", ("done", "cancelled"), "open", EDITORS, label=N_("Reopen")),
], messages={
    "role": N_("Only the review's editors may do this to an improvement action."),
    "state": N_("This improvement action is not in a state that allows this."),
}, labels=STATE_LABELS, groups={"OPEN": OPEN, "CLOSED": ("done", "cancelled")})
