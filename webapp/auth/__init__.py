"""Logins, device sessions and the worker switch on shared phones."""
from flask import Blueprint

from ..registry import CapabilityToken, Domain, public_names, register

bp = Blueprint("auth", __name__)


def _labels() -> dict:
    from .roles import ROLE_LABELS
    return {"role": ROLE_LABELS}


def _floor_enrolment_by_token(session, value: str):
    from sqlalchemy import select
    from .models import FloorEnrolment, hash_secret
    return session.scalar(select(FloorEnrolment.id).where(FloorEnrolment.token_hash == hash_secret(value)))


def _device_in_reach(user, obj) -> bool:
    # Login sessions are the admin's to know of; a floor supervisor's are the floor phones only (the
    # loader answers 404 for another person's login session, as it did before the views were one).
    from .models import DeviceSession
    if not isinstance(obj, DeviceSession) or obj.is_floor:
        return True
    from ..permissions import can
    return can(user, "admin.manage")


def _sign_in_providers():
    # The login page's buttons: the configured providers, the one whose app this browser is inside first.
    from flask import request
    from .external import configured
    return configured(request.user_agent.string)


def _person_by_badge(session, value: str):
    from sqlalchemy import select
    from .models import User, hash_secret
    return session.scalar(select(User.id).where(User.badge_hash == hash_secret(value)))


DOMAIN = register(Domain(
    name="auth", labels=_labels,
    # A floor phone's one-time enrolment QR (/enrol/<token>) and a badge (/b/<secret>).
    capability_tokens=(
        CapabilityToken("floor_enrolment", lambda endpoint, name: endpoint == "auth.enrol_qr",
                        _floor_enrolment_by_token),
        CapabilityToken("person", lambda endpoint, name: name == "secret", _person_by_badge),
    ),
    # Make a shared phone a floor device with a one-time code (auth/floor.py); end a device's
    # session: the admin any login session or floor phone, a floor supervisor floor phones only.
    actions={"floor.enrol": frozenset({"production", "admin"}),
             "device.revoke": frozenset({"production", "admin"})},
    visible=_device_in_reach,
    template_globals={"sign_in_providers": _sign_in_providers},
))


def init_app(app) -> None:
    """Attach the login, device and floor-phone pages."""
    from . import external_views, models, sessions, views  # noqa: F401  (routes, tables, the session loader)
    app.register_blueprint(bp)


# What other domains may import from this one: `from ..auth import <name>` (tests/test_architecture.py
# refuses any other reach into the package).
_PUBLIC = {
    "User": "models",
    "DeviceSession": "models",
    "ExternalIdentity": "models",
    "EXTERNAL_PROVIDERS": "models",
    "external": "external",
    "ROLES": "models",
    "hash_secret": "models",
    "ROLE_LABELS": "roles",
    "EMPLOYEE_NO_INPUT": "forms",
    "PIN_INPUT": "forms",
    "sessions": "sessions",
    "is_floor": "sessions",
    "describe_device": "sessions",
    "floor": "floor",
    "login_or_floor_required": "floor",
}
__all__ = ["bp", "DOMAIN", "init_app", *_PUBLIC]
__getattr__ = public_names(__name__, _PUBLIC)
