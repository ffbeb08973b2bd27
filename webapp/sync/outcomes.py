"""What an offline-capable view answers: an outcome, not a response.

A view decorated with `replay.offline_capable` returns one of these; the decorator renders it as a
page (a redirect, the form again) for the browser, or as JSON for a replay from the phone's outbox,
and undoes the request's writes itself when nothing may be kept. The view never asks which of the two
it is serving (DESIGN.md §5.7, docs/decisions.md).

    Applied(message, redirect=url)          the action happened: flash + 303 / 201 JSON
    Invalid(form, page)                     the fields do not pass: the form again (422) / 422 problem
    Refused(status, message, page)          not allowed or not possible now, nothing kept
    Conflict(message, page)                 the business moved on: the office keeps it (409 conflict)

`page` is a function called with no arguments, after the rollback, that renders the browser's answer;
it reloads what it shows (objects loaded before a rollback are expired).
"""
from dataclasses import dataclass, field
from typing import Any, Callable

Page = Callable[[], Any]


@dataclass
class Applied:
    """The action was applied: message flashed and a redirect to `redirect` (or `page`'s answer, e.g.
    the signed copy) for the browser; 201 {"status": "applied", "message", **data} for a replay."""

    message: str
    redirect: str | None = None
    data: dict = field(default_factory=dict)
    page: Page | None = None


@dataclass
class Invalid:
    """The form does not pass (its errors are on its fields): `page` shows it again with them for the
    browser; a replay gets 422 with the messages keyed by each field's posted name. With
    rollback=True whatever the view wrote (a photo refused after the rows were made) is undone."""

    form: Any
    page: Page
    rollback: bool = False
    errors: dict[str, list[str]] = field(default_factory=dict)  # more messages by posted field name


@dataclass
class Refused:
    """Not allowed, or not possible here (status 4xx): nothing is kept. The browser gets `page` (or
    the error page for the status); a replay gets problem+json with the message and the reason."""

    status: int
    message: str
    page: Page | None = None
    reason: str = ""
    json: Page | None = None  # the replay's answer when the view speaks JSON itself (the scanner's)


@dataclass
class Conflict:
    """The state moved on, so the action can no longer be applied (status 409, or another status a
    transition refused with). A replay's entry is kept as a conflict for the office, with its data;
    the browser gets `page` (or the error page). `message` is an untranslated msgid (N_)."""

    message: str
    page: Page | None = None
    status: int = 409


OUTCOMES = (Applied, Invalid, Refused, Conflict)


class Stop(Exception):
    """Raised by a helper deep in a view (a link check) to end the view with outcome; the decorator
    renders it like a returned one."""

    def __init__(self, outcome):
        super().__init__(outcome)
        self.outcome = outcome


def run_view(view, args, kwargs):
    """The view's outcome (or response), whether it returned it or a helper raised it in a Stop."""
    try:
        return view(*args, **kwargs)
    except Stop as stop:
        return stop.outcome
