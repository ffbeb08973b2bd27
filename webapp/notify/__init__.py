"""Notifications: mail now; webhooks and SLA escalations come with background work."""
