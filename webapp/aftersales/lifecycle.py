"""After-sales transition tables. Pure Python.

follow_up: open → done (the sales rep's call within 3 days of receipt, with its outcome).
ticket:    open → answered → resolved; staff answer (propose a solution), the customer confirms the
           resolution on their order link (or staff record the confirmation they gave on the phone),
           or says it is not solved yet (answered → open).
survey:    sent → answered (one answer per link).
"""
from ..statemachine import N_, NP_, StateMachine, Transition

STAFF = frozenset({"sales", "aftersales", "manager"})
CUSTOMER = frozenset({"customer"})

FOLLOW_UP_STATES = ("open", "done")
FOLLOW_UP_LABELS = {"open": N_("To call"), "done": NP_("follow-up call state", "Done")}

FOLLOW_UP = StateMachine("follow_up", FOLLOW_UP_STATES, [
    Transition("record", ("open",), "done", STAFF, label=N_("Follow-up call recorded")),
], messages={
    "role": N_("Your role may not record this follow-up."),
    "state": N_("This follow-up has already been recorded."),
}, labels=FOLLOW_UP_LABELS)

TICKET_STATES = ("open", "answered", "resolved")
TICKET_LABELS = {"open": N_("Open"), "answered": N_("Answered"), "resolved": N_("Resolved")}

TICKET = StateMachine("ticket", TICKET_STATES, [
    Transition("respond", ("open", "answered"), "answered", STAFF, label=N_("Answered")),
    Transition("reopen", ("answered",), "open", CUSTOMER, label=N_("Customer says it is not solved")),
    Transition("confirm", ("answered",), "resolved", CUSTOMER,
               label=N_("Customer confirmed the resolution")),
    Transition("confirm_by_phone", ("answered",), "resolved", STAFF,
               label=N_("Customer confirmed the resolution by phone")),
], messages={
    "role": N_("Your role may not do this to a ticket."),
    "state": N_("This ticket is not in a state that allows this."),
}, labels=TICKET_LABELS)

SURVEY_STATES = ("sent", "answered")
SURVEY_LABELS = {"sent": NP_("survey state", "Sent"), "answered": NP_("survey state", "Answered")}

SURVEY = StateMachine("survey", SURVEY_STATES, [
    Transition("answer", ("sent",), "answered", CUSTOMER, label=N_("Survey answered")),
    Transition("answer_by_phone", ("sent",), "answered", STAFF, label=N_("Survey answered by phone")),
], messages={
    "role": N_("Only the customer answers the survey."),
    "state": N_("This survey has already been answered. Thank you!"),
}, labels=SURVEY_LABELS)

# A ticket's type and the solution proposed (models.TICKET_KINDS, models.SOLUTION_KINDS).
TICKET_KIND_LABELS = {"fault": N_("Fault"), "usage": N_("Usage question"), "complaint": N_("Complaint"),
                      "other": N_("Other")}
SOLUTION_LABELS = {"repair": N_("Repair"), "replacement": N_("Exchange"), "guidance": N_("Guidance"),
                   "refund": N_("Refund")}
