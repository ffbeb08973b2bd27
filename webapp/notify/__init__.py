"""Notifications: a domain announces an event to people; every channel delivers it its own way.

A domain declares the message of each event once, by name, in its own notices.py:

    @notify.message("requirement.sent")
    def requirement_sent(requirement, link) -> notify.Notice:
        return notify.Notice(subject=_("..."), body=_("..."))

and its service announces the event after the change it reports:

    notify.notify("requirement.sent", [notify.Recipient(email, locale)], requirement=requirement, link=link)

notify() hands the event, its recipients and its context to every registered channel. E-mail is
the first channel (mail.py: it renders the message in each recipient's language and queues it to
leave after the commit, by a background task); the WeCom and DingTalk group robots (robots.py: one
message per event into a group) and SMS to customers (sms.py, Alibaba Cloud, off by default) are the
others. Which event goes through which channel is the admin's choice (routing.py). Webhooks are no
channel: they report the audit trail's business events to other systems (webapp/webhooks/). No
domain sends mail itself.
"""
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import g, has_request_context
from flask_babel import force_locale

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipient:
    """Someone to tell, with the addresses channels may use and the language to tell them in."""

    email: str | None
    locale: str = "zh"
    name: str = ""
    # A customer's mobile number, for the SMS channel (staff are not texted).
    phone: str | None = None

    @classmethod
    def user(cls, user) -> "Recipient":
        """A staff member, in the language they chose."""
        return cls(email=user.email, locale=user.locale or "zh", name=user.name)

    @classmethod
    def customer_of(cls, order) -> "Recipient":
        """The customer's contact for an order's messages, in the customer's language: the contact
        named on the order's requirement first (e-mail and phone each), else the customer's own."""
        requirement, customer = order.requirement, order.customer
        return cls(email=(requirement.contact_email if requirement else "") or customer.contact_email,
                   locale=customer.locale or "zh",
                   phone=(requirement.contact_phone if requirement else "") or customer.contact_phone)


@dataclass
class Notice:
    """An event's message as one recipient reads it (mail.Attachment files for channels that carry
    files)."""

    subject: str
    body: str
    attachments: list = field(default_factory=list)


# An event's message renderer: called with the event's context, in the recipient's language.
Renderer = Callable[..., Notice]
# A channel: called with the event name, its recipients, its context and a function that renders the
# message for one recipient (in their language).
Channel = Callable[[str, list[Recipient], dict, Callable[[Recipient], Notice]], None]

MESSAGES: dict[str, Renderer] = {}
CHANNELS: dict[str, Channel] = {}
# What domains add to every event without the notifying domain knowing (the customer's choices and
# their order page's link, aftersales/tracking.py): a filter(event, recipient, context) answering
# False leaves that recipient out; a footer(event, recipient, context, body) gives text to add to
# the message's body (in the recipient's language), or None.
FILTERS: dict[str, Callable[[str, Recipient, dict], bool]] = {}
FOOTERS: dict[str, Callable[[str, Recipient, dict, str], str | None]] = {}


def message(event: str):
    """Declare the message of an event (one renderer per event name)."""
    def declare(render: Renderer) -> Renderer:
        if MESSAGES.get(event, render) is not render:
            raise ValueError(f"the event {event!r} already has a message")
        MESSAGES[event] = render
        return render
    return declare


def register_channel(name: str, channel: Channel) -> None:
    """Add a channel every event goes to (a second registration under a name replaces the first)."""
    CHANNELS[name] = channel


def register_filter(name: str, keep: Callable[[str, Recipient, dict], bool]) -> None:
    """Add a filter that may leave a recipient of an event out (by name: registering again replaces it)."""
    FILTERS[name] = keep


def register_footer(name: str, footer: Callable[[str, Recipient, dict, str], str | None]) -> None:
    """Add text to messages (by name: registering again replaces it)."""
    FOOTERS[name] = footer


def unregister_channel(name: str) -> None:
    """Remove a channel (tests, or a channel switched off)."""
    CHANNELS.pop(name, None)


def notify(event: str, recipients: list[Recipient], **context) -> None:
    """Announce an event to recipients through every channel. An event without a declared
    message is a programming error (KeyError), not a silent no-op."""
    render = MESSAGES[event]
    recipients = [r for r in recipients if all(keep(event, r, context) for keep in list(FILTERS.values()))]

    def render_for(recipient: Recipient) -> Notice:
        with force_locale(recipient.locale or "zh"):
            notice = render(**context)
            for footer in list(FOOTERS.values()):
                extra = footer(event, recipient, context, notice.body)
                if extra:
                    notice.body = notice.body.rstrip("\n") + "\n\n" + extra + "\n"
            return notice

    for channel in list(CHANNELS.values()):
        channel(event, recipients, context, render_for)


def after_commit(task, *args) -> None:
    """Queue a background task to run once the request's transaction commits (outside a request, at
    once): a channel's message must never leave for a change that was rolled back."""
    if has_request_context():
        g.setdefault("notify_after_commit", []).append((task, args))
    else:
        task.enqueue(*args)


def flush() -> None:
    """Hand what the request queued to the worker (called after the commit)."""
    for task, args in g.pop("notify_after_commit", []):
        try:
            task.enqueue(*args)
        except Exception:  # the business write is committed; a queue failure must not undo it
            log.exception("could not queue %s", task.name)


def discard() -> None:
    """Forget what the request queued (the transaction was rolled back)."""
    g.pop("notify_after_commit", None)
    g.pop("robot_posts", None)


from . import mail, robots, sms  # noqa: E402  (the channels need the names above)
from .mail import Attachment  # noqa: E402,F401  (a file a Notice carries)

register_channel("email", mail.email_channel)
register_channel("robots", robots.robot_channel)
register_channel("sms", sms.sms_channel)
