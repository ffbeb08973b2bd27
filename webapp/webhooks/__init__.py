"""Outgoing webhooks: a firm's other systems hear of changes (requirement confirmed, order effective,
shipped, ...) as signed JSON POSTs to the URLs an admin registered.

A low-level service, below the domains: events.py turns audit events into webhook events in the
same transaction; emit() is for the few changes with no audit event of their own; delivery.py
sends them after the commit through the background worker; the admin pages (admin/webhooks.py)
manage the endpoints. docs/webhooks.md is the receivers' reference."""
from . import delivery, endpoints, targets
from .delivery import discard, flush, sweep
from .events import EVENT_TYPES, TEST_EVENT, api_url, emit, listen
from .models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from .targets import TargetRefused

__all__ = ["delivery", "endpoints", "targets", "discard", "flush", "sweep", "EVENT_TYPES", "TEST_EVENT", "api_url", "emit",
           "listen", "WebhookDelivery", "WebhookEndpoint", "WebhookEvent", "TargetRefused"]
