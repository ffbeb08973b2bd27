"""Login, logout, devices, the worker switch and the language choice."""
from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import audit
from ..extensions import db
from ..pwa import keep_offline
from ..htmx import render, see_other
from . import bp, sessions
from .forms import LoginForm, PasswordForm, SwitchForm
from ..permissions import can_switch_to
from .models import User, hash_secret


def _safe_next(target: str | None) -> str:
    """Only follow local next= targets (no open redirect, whatever browsers make of odd paths)."""
    from urllib.parse import urlsplit
    if (target and target.startswith("/") and target.isprintable() and "\\" not in target
            and not target.startswith("//")):
        parts = urlsplit(target.replace("\t", ""))
        if not parts.scheme and not parts.netloc and not parts.path.startswith("//"):
            return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with username and password; throttled per username and address, and per address."""
    form = LoginForm()
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("main.home"))
    if form.validate_on_submit():
        username = form.username.data.strip()
        # Failures count against this name *from this address* and, ten times wider, against the
        # address: a stranger's wrong guesses cannot lock a colleague out from elsewhere
        # (docs/decisions.md), and guessing from one address stays stopped.
        address = request.remote_addr or "?"
        keys = (f"user-ip:{username.lower()}|{address}", f"ip:{address}")
        if sessions.throttled(keys[0]) or sessions.throttled(keys[1], limit_factor=10):
            form.username.errors.append(
                _("Too many failed attempts. Wait a quarter of an hour and try again."))
            response = render("auth/login.html", form=form, status_code=429)
            response.headers["Retry-After"] = str(current_app.config["LOGIN_THROTTLE_WINDOW_SECONDS"])
            return response
        user = db.session.scalar(db.select(User).where(db.func.lower(User.username) == username.lower()))
        if user is None or not user.active or not user.check_password(form.password.data):
            sessions.note_failure(*keys)
            form.password.errors.append(_("Wrong username or password."))
            return render("auth/login.html", form=form, status_code=422)
        sessions.clear_failures(keys[0])
        sessions.start(user)
        return see_other(_safe_next(request.args.get("next")))
    return render("auth/login.html", form=form, status_code=422 if form.errors else 200)


@bp.post("/logout")
@login_required
def logout():
    """Log out this device only."""
    sessions.end_this()
    flash(_("You are logged out on this device."))
    return see_other(url_for("auth.login"))


@bp.post("/logout-everywhere")
@login_required
def logout_everywhere():
    """End every device session of the current user, this one included."""
    count = sessions.end_all(current_user, "logout_everywhere")
    audit.record("auth.logout_everywhere", current_user, actor=current_user, after={"ended": count})
    sessions.end_this("logout_everywhere")
    flash(_("You are logged out on every device."))
    return see_other(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """Show this person's devices and change their password."""
    form = PasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors.append(_("The current password is wrong."))
        else:
            current_user.set_password(form.new.data)
            ended = sessions.end_all(current_user, "password_change", keep=sessions.current_device())
            audit.record("auth.password_change", current_user, actor=current_user,
                         after={"other_devices_ended": ended})
            flash(_("Password changed; your other devices are logged out."))
            return see_other(url_for("auth.account"))
    from .models import DeviceSession
    devices = db.session.scalars(db.select(DeviceSession).where(
        DeviceSession.login_user_id == current_user.id, DeviceSession.revoked_at.is_(None))
        .order_by(DeviceSession.last_seen_at.desc())).all()
    return render("auth/account.html", form=form, devices=devices,
                  this_device=sessions.current_device(), status_code=422 if form.errors else 200)


@bp.route("/switch", methods=["GET", "POST"])
@login_required
def switch():
    """Hand this shared phone to another worker by employee number and PIN."""
    form = SwitchForm()
    if form.validate_on_submit():
        number = form.employee_no.data.strip()
        device = sessions.current_device()
        keys = (f"pin:{number.lower()}", f"device:{device.id}")
        if sessions.throttled(*keys):
            form.pin.errors.append(
                _("Too many failed attempts. Wait a quarter of an hour and try again."))
            return render("auth/switch.html", form=form, status_code=429)
        person = db.session.scalar(db.select(User).where(User.employee_no == number))
        if (person is None or not person.active or not can_switch_to(person)
                or not person.check_pin(form.pin.data)):
            sessions.note_failure(*keys)
            form.pin.errors.append(_("Wrong employee number or PIN."))
            return render("auth/switch.html", form=form, status_code=422)
        sessions.clear_failures(keys[0])
        sessions.switch_to(person, "pin")
        session["just_switched"] = person.id  # the phone may keep an offline check of this PIN
        flash(_("%(name)s is now using this phone.", name=person.name))
        return see_other(url_for("main.home"))
    if not form.errors:
        keep_offline()  # the worker switch works without signal too (static/js/outbox.js)
    return render("auth/switch.html", form=form, status_code=422 if form.errors else 200)


@bp.route("/b/<secret>", methods=["GET", "POST"])
def badge(secret: str):
    """Switch to the worker whose badge QR was scanned (one tap to confirm)."""
    person = db.session.scalar(db.select(User).where(User.badge_hash == hash_secret(secret)))
    if person is None or not person.active or not can_switch_to(person):
        abort(404)
    if not current_user.is_authenticated:
        flash(_("Log this phone in first; then scan the badge to switch to its worker."))
        return redirect(url_for("auth.login", next=request.path))
    if request.method == "POST":
        sessions.switch_to(person, "badge")
        flash(_("%(name)s is now using this phone.", name=person.name))
        return see_other(url_for("main.home"))
    return render_template("auth/badge.html", person=person)


@bp.post("/lang/<code>")
def set_language(code: str):
    """Remember the chosen interface language."""
    from flask import current_app
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = code
    if current_user.is_authenticated:
        current_user.locale = code
    return see_other(_safe_next(request.form.get("next")))
