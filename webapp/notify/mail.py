"""The e-mail channel's delivery: messages queued during a request leave only after its commit, by
a background task (webapp/background.py) that retries with backoff while the mail server is away.

Domains do not call this module: they call notify() (webapp/notify/__init__.py), whose e-mail
channel renders the message and queues it here."""
import logging
import os
import smtplib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import current_app, g, has_request_context

from .. import background
from ..wallclock import utcnow
from . import routing

log = logging.getLogger(__name__)
MAIL_FILE_LIFETIME = timedelta(days=7)
# A message that cannot leave is tried again after 1, 2, 4, 8, 16 and 32 minutes (about an hour in all).
SEND_RETRIES = 6
SEND_RETRY_DELAY_SECONDS = 60
SEND_RETRY_BACKOFF = 2


@dataclass
class Attachment:
    """A file to send with a message. content may be a function that makes the bytes: it is called
    only when the message leaves, in the worker after the commit (a rolled-back request never builds
    it). It travels to the worker pickled: a module-level function or a functools.partial of one,
    never a closure."""

    filename: str
    content_type: str
    content: bytes | Callable[[], bytes]


@dataclass
class OutgoingMessage:
    """A plain-text message as it travels to the worker (headers fixed when it was queued)."""

    sender: str
    to: str
    subject: str
    body: str
    date: str
    message_id: str
    attachments: list[Attachment]

    def build(self) -> EmailMessage:
        """The message without its attachments."""
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, self.to, self.subject
        msg["Date"], msg["Message-ID"] = self.date, self.message_id
        msg.set_content(self.body)
        return msg


def queue(to: str, subject: str, body: str, attachments: list[Attachment] | None = None) -> None:
    """Queue a plain-text message (with attachments); it leaves only if the request's transaction
    commits (outside a request, it is handed to the worker at once)."""
    if not to:
        return
    message = OutgoingMessage(
        sender=current_app.config["MAIL_DEFAULT_SENDER"], to=to, subject=subject, body=body,
        date=format_datetime(utcnow(), usegmt=True),  # the one clock (the demo loader moves it)
        message_id=make_msgid(domain="order-tracker"), attachments=list(attachments or []))
    if has_request_context():
        g.setdefault("outgoing_mail", []).append(message)
    else:
        deliver.enqueue(message)


def email_channel(event: str, recipients: list, context: dict, render) -> None:
    """The e-mail channel of notify(): each recipient with an address gets the event's message in
    their language, queued to leave after the commit (unless the admin turned the event's e-mail off)."""
    if not routing.email_on(event):
        return
    for recipient in recipients:
        if recipient.email:
            notice = render(recipient)
            queue(recipient.email, notice.subject, notice.body, notice.attachments)


def flush() -> None:
    """Hand what the request queued to the worker (called after the commit)."""
    for message in g.pop("outgoing_mail", []):
        try:
            deliver.enqueue(message)
        except Exception:  # the business write is committed; a queue failure must not undo it
            log.exception("could not queue mail to %s", message.to)


def discard() -> None:
    """Forget queued mail (the transaction was rolled back)."""
    g.pop("outgoing_mail", None)


@background.task(retries=SEND_RETRIES, retry_delay=SEND_RETRY_DELAY_SECONDS,
                 retry_backoff=SEND_RETRY_BACKOFF)
def deliver(message: OutgoingMessage) -> None:
    """The background task: build the attachments and send the message (a failure raises, and the
    worker tries again later)."""
    msg = message.build()
    _attach(msg, message)
    send(msg)


def _attach(msg: EmailMessage, message: OutgoingMessage) -> None:
    """Add the message's attachments, making those given as functions now. One that cannot be made
    is left out and logged: the message still carries its text (and its links)."""
    for attachment in message.attachments:
        try:
            content = attachment.content() if callable(attachment.content) else attachment.content
        except Exception:
            log.exception("could not make attachment %s for %s", attachment.filename, message.to)
            continue
        maintype, _slash, subtype = attachment.content_type.partition("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=attachment.filename)


def send(msg: EmailMessage) -> None:
    """Deliver one built message by the configured backend."""
    if current_app.config["MAIL_BACKEND"] == "smtp":
        config = current_app.config
        with smtplib.SMTP(config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=20) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(msg)
    else:
        write_file(msg, current_app.config["MAIL_FOLDER"])


def write_file(msg: EmailMessage, folder: str) -> str:
    """Development mail: the message as an .eml file only the server's user can read (it holds
    customers' links), in a folder only that user can open; files older than a week are deleted."""
    os.makedirs(folder, mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)  # also a folder made before this rule
    path = os.path.join(folder, f"{uuid.uuid4().hex}.eml")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(bytes(msg))
    purge_files(folder)
    return path


def purge_files(folder: str, max_age: timedelta = MAIL_FILE_LIFETIME) -> int:
    """Delete development mail files older than max_age; return how many went."""
    cutoff = time.time() - max_age.total_seconds()
    removed = 0
    for entry in os.scandir(folder):
        if entry.name.endswith(".eml") and entry.is_file() and entry.stat().st_mtime < cutoff:
            try:
                os.remove(entry.path)
                removed += 1
            except FileNotFoundError:  # another worker removed it first
                pass
    return removed
