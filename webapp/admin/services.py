"""The administrator's writes, each with its audit row: people, their devices, the firm's settings."""
from .. import audit
from ..auth import sessions
from ..auth import User
from ..extensions import db
from .models import REVIEW_DEPARTMENTS, FirmSettings
from .forms import FINANCE_READER_CHOICES


def save_user(person: User | None, form, admin) -> User:
    """Create or update a person from the user form (roles, active, password, PIN), ending their
    sessions on a password reset or deactivation, and audit it."""
    creating = person is None
    if creating:
        person = User(password_hash="")
        db.session.add(person)
    before = {"roles": sorted(person.roles), "active": person.active} if not creating else None
    person.name, person.username = form.name.data.strip(), form.username.data.strip()
    person.employee_no = (form.employee_no.data or "").strip() or None
    person.phone, person.email = form.phone.data or None, form.email.data or None
    person.roles = form.roles.data
    person.active = form.active.data
    if form.pin.data:
        person.set_pin(form.pin.data)
    db.session.flush()
    if form.password.data:
        person.set_password(form.password.data)
        if not creating:
            sessions.end_all(person, "password_reset")
    if not person.active:
        sessions.end_all(person, "deactivated")
    audit.record("user.saved", person, actor=admin, before=before,
                 after={"roles": sorted(person.roles), "active": person.active,
                        "password_reset": bool(form.password.data) and not creating})
    return person


def issue_badge(person: User, admin) -> str:
    """Give person a new badge (the old one stops working); return its secret for the QR."""
    secret = person.new_badge()
    audit.record("user.badge", person, actor=admin)
    return secret


def revoke_all_devices(person: User, admin) -> int:
    """End every device session of person; return how many were live."""
    count = sessions.end_all(person, "revoked_by_admin")
    audit.record("user.devices_revoked", person, actor=admin, after={"count": count})
    return count


def save_settings(firm: FirmSettings, form, admin) -> None:
    """Save the firm's settings from their form (orders in review keep theirs), and audit them."""
    before = firm.snapshot()
    form.populate_obj(firm)
    firm.reviews_required = ",".join(d for d in REVIEW_DEPARTMENTS if d in (form.reviews.data or []))
    firm.finance_roles = ",".join(r for r in FINANCE_READER_CHOICES if r in (form.finance_readers.data or []))
    audit.record("settings.saved", firm, actor=admin, before=before, after=firm.snapshot())


def set_seal(firm: FirmSettings, photo, admin) -> None:
    """Print photo (the firm's seal) on the customers' copies from now on."""
    firm.seal_photo_id = photo.id
    audit.record("settings.seal", firm, actor=admin, after={"seal_sha256": photo.sha256})


def remove_seal(firm: FirmSettings, admin) -> None:
    """Print no seal on future copies (the image stays with the audit trail)."""
    if firm.seal_photo_id is not None:
        audit.record("settings.seal_removed", firm, actor=admin, before={"seal_photo_id": firm.seal_photo_id})
        firm.seal_photo_id = None
