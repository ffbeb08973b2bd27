"""Mail queued during a request and sent only after its commit."""
import logging
import os
import smtplib
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app, g, has_request_context

log = logging.getLogger(__name__)


def queue(to: str, subject: str, body: str) -> None:
    """Queue a plain-text message; it leaves only if the request's transaction commits."""
    if not to:
        return
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="order-tracker")
    msg.set_content(body)
    if has_request_context():
        g.setdefault("outgoing_mail", []).append(msg)
    else:
        send(msg)


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
    if current_app.config["MAIL_BACKEND"] == "smtp":
        config = current_app.config
        with smtplib.SMTP(config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=20) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(msg)
    else:
        folder = current_app.config["MAIL_FOLDER"]
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"{uuid.uuid4().hex}.eml")
        with open(path, "wb") as fh:
            fh.write(bytes(msg))
