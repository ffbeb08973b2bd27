"""Mail queued during a request and sent only after its commit."""
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

from ..db_types import utcnow

log = logging.getLogger(__name__)
MAIL_FILE_LIFETIME = timedelta(days=7)


@dataclass
class Attachment:
    """A file to send with a message. content may be a function that makes the bytes: it is called
    only when the message leaves, after the commit (a rolled-back request never builds it)."""

    filename: str
    content_type: str
    content: bytes | Callable[[], bytes]


class OutgoingMessage(EmailMessage):
    """A message whose attachments are added when it leaves."""

    def __init__(self, attachments: list[Attachment] | None = None, **kwargs):
        super().__init__(**kwargs)  # kwargs: the policy, when the email package makes the parts
        self.pending_attachments = list(attachments or [])


def queue(to: str, subject: str, body: str, attachments: list[Attachment] | None = None) -> None:
    """Queue a plain-text message (with attachments); it leaves only if the request's transaction
    commits."""
    if not to:
        return
    msg = OutgoingMessage(attachments)
    msg["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(utcnow(), usegmt=True)  # the one clock (the demo loader moves it)
    msg["Message-ID"] = make_msgid(domain="order-tracker")
    msg.set_content(body)
    if has_request_context():
        g.setdefault("outgoing_mail", []).append(msg)
    else:
        send(msg)


def _attach(msg: EmailMessage) -> None:
    """Add the message's attachments, making those given as functions now. One that cannot be made
    is left out and logged: the message still carries its text (and its links)."""
    pending = getattr(msg, "pending_attachments", [])
    msg.pending_attachments = []
    for attachment in pending:
        try:
            content = attachment.content() if callable(attachment.content) else attachment.content
        except Exception:
            log.exception("could not make attachment %s for %s", attachment.filename, msg["To"])
            continue
        maintype, _slash, subtype = attachment.content_type.partition("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=attachment.filename)


def flush() -> None:
    """Send what the request queued (called after the commit)."""
    for msg in g.pop("outgoing_mail", []):
        try:
            send(msg)
        except Exception:  # the business write is committed; a mail failure must not undo it
            log.exception("could not send mail to %s", msg["To"])


def discard() -> None:
    """Forget queued mail (the transaction was rolled back)."""
    g.pop("outgoing_mail", None)


def send(msg: EmailMessage) -> None:
    """Deliver one message by the configured backend."""
    _attach(msg)
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
