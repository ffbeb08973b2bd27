"""What after-sales does when another domain tells it something happened (webapp/signals.py)."""
from .. import signals
from . import services


@signals.receipt_signed.connect
def plan_follow_up(order, signed_at, **_extra) -> None:
    """A delivery receipt was signed: plan the follow-up call and send the after-sales link."""
    services.on_receipt(order, signed_at)


@signals.order_delivered.connect
def send_survey(order, **_extra) -> None:
    """The whole order is delivered: the satisfaction survey (unless something is still open)."""
    services.on_delivered(order)


@signals.return_case_closed.connect
def send_survey_if_settled(order, **_extra) -> None:
    """A return case closed: if it was the last thing open, the survey goes."""
    services.send_survey_when_settled(order)
