"""What the admin page does to endpoints: add, enable or disable, rotate the secret, delete, and
send a test event. The caller commits; the secret in clear is returned once and never stored so."""
import json

from .. import audit
from ..extensions import db
from ..wallclock import utcnow
from . import keys, targets
from .events import EVENT_TYPES, TEST_EVENT, enqueue
from .models import WebhookEndpoint


def create(url: str, event_types: list[str], description: str, allow_private: bool, user) -> tuple[WebhookEndpoint, str]:
    """A new endpoint (its URL checked: TargetRefused) and its secret in clear, to show once."""
    targets.check(url, allow_private)
    secret = keys.new_secret()
    endpoint = WebhookEndpoint(url=url.strip(), description=description.strip(), allow_private=allow_private,
                               events=json.dumps([name for name in EVENT_TYPES if name in event_types]),
                               secret_encrypted=keys.seal(secret), active=True, created_by_id=user.id)
    db.session.add(endpoint)
    db.session.flush()
    audit.record("webhook.created", endpoint, actor=user,
                 after={"url": endpoint.url, "events": endpoint.event_types, "allow_private": allow_private})
    return endpoint, secret


def update(endpoint: WebhookEndpoint, url: str, event_types: list[str], description: str, allow_private: bool,
           user) -> None:
    """Change an endpoint's URL, events, description or private-address choice (URL checked again)."""
    targets.check(url, allow_private)
    before = {"url": endpoint.url, "events": endpoint.event_types, "allow_private": endpoint.allow_private}
    endpoint.url, endpoint.description, endpoint.allow_private = url.strip(), description.strip(), allow_private
    endpoint.events = json.dumps([name for name in EVENT_TYPES if name in event_types])
    audit.record("webhook.edited", endpoint, actor=user, before=before,
                 after={"url": endpoint.url, "events": endpoint.event_types, "allow_private": allow_private})


def set_active(endpoint: WebhookEndpoint, active: bool, user) -> None:
    """Enable or disable an endpoint (a disabled one keeps its pending deliveries for later)."""
    endpoint.active = active
    audit.record("webhook.enabled" if active else "webhook.disabled", endpoint, actor=user)


def rotate(endpoint: WebhookEndpoint, user) -> str:
    """Give the endpoint a new secret (the old one stops at once); return it in clear, to show once."""
    secret = keys.new_secret()
    endpoint.secret_encrypted, endpoint.secret_rotated_at = keys.seal(secret), utcnow()
    audit.record("webhook.secret_rotated", endpoint, actor=user)
    return secret


def delete(endpoint: WebhookEndpoint, user) -> None:
    """Delete an endpoint with its deliveries."""
    audit.record("webhook.deleted", endpoint, actor=user, before={"url": endpoint.url})
    db.session.delete(endpoint)


def send_test(endpoint: WebhookEndpoint, user):
    """Enqueue a test event to this endpoint only."""
    return enqueue(db.session, TEST_EVENT, "test", endpoint.id,
                   {"object": "test", "id": endpoint.id, "message": "This is a test event.",
                    "sent_by": user.name}, endpoints=[endpoint])
