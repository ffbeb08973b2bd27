"""Login, logout, devices, the worker switch and the language choice."""
from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from .. import qr
from ..extensions import db, login_manager
from ..links import absolute
from ..loading import load
from ..pwa import keep_offline
from ..htmx import render, see_other
from . import bp, external, floor, sessions
from .forms import BadgePinForm, EnrolForm, FloorCodeForm, LoginForm, PasswordForm, SwitchForm
from ..permissions import can_switch_to, requires
from .models import DeviceSession, User, hash_secret


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
    """Log out this device only; on a floor phone, hand it back (the worker switches out, the phone
    stays enrolled)."""
    if sessions.is_floor():
        person = sessions.switch_out("handed_back")
        flash(_("%(name)s handed the phone back.", name=person.name) if person else _("The phone is handed back."))
        return see_other(url_for("auth.switch"))
    sessions.end_this()
    flash(_("You are logged out on this device."))
    return see_other(url_for("auth.login"))


@bp.post("/logout-everywhere")
@login_required
def logout_everywhere():
    """End every device session of the current user, this one included."""
    sessions.end_everywhere(current_user)
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
            sessions.change_password(current_user, form.new.data)
            flash(_("Password changed; your other devices are logged out."))
            return see_other(url_for("auth.account"))
    devices = db.session.scalars(db.select(DeviceSession).where(
        DeviceSession.login_user_id == current_user.id, DeviceSession.revoked_at.is_(None),
        DeviceSession.kind != "floor")  # floor phones are the floor's, listed on their own page
        .order_by(DeviceSession.last_seen_at.desc())).all()
    return render("auth/account.html", form=form, devices=devices,
                  this_device=sessions.current_login_session(), identities=external.identities_of(current_user),
                  id_labels=external.ID_LABELS, status_code=422 if form.errors else 200)


def _may_switch_here() -> bool:
    """A shared phone is switched by someone logged in on it, or it is a floor phone."""
    return current_user.is_authenticated or sessions.is_floor()


def _pin_keys(person_number: str) -> tuple[str, str]:
    """The throttle keys of a PIN attempt: per employee number (badge or typed) and per device."""
    return f"pin:{person_number.lower()}", f"device:{sessions.current_login_session().id}"


def _after_switch() -> str:
    """Where a switch leads: the worker page a floor phone was on its way to, else My work."""
    target = request.args.get("next") or floor.continue_to()
    session.pop("floor_next", None)
    return _safe_next(target)


def _too_many(form_field, template: str, **context):
    """429 with the wait, the form kept."""
    form_field.errors.append(_("Too many failed attempts. Wait a quarter of an hour and try again."))
    response = render(template, status_code=429, **context)
    response.headers["Retry-After"] = str(current_app.config["LOGIN_THROTTLE_WINDOW_SECONDS"])
    return response


@bp.route("/switch", methods=["GET", "POST"])
def switch():
    """Hand this shared phone to another worker by employee number and PIN."""
    if not _may_switch_here():
        return login_manager.unauthorized()
    form = SwitchForm()
    device = sessions.current_login_session()
    if form.validate_on_submit():
        number = form.employee_no.data.strip()
        keys = _pin_keys(number)
        if sessions.throttled(*keys):
            return _too_many(form.pin, "auth/switch.html", form=form, device=device)
        # Letters in an employee number are matched whatever their case (a phone keyboard capitalises
        # or not); two people differing only by case match nobody.
        found = db.session.scalars(db.select(User).where(
            db.func.upper(User.employee_no) == number.upper()).limit(2)).all()
        person = found[0] if len(found) == 1 else None
        if (person is None or not person.active or not can_switch_to(person)
                or not person.check_pin(form.pin.data)):
            sessions.note_failure(*keys)
            form.pin.errors.append(_("Wrong employee number or PIN."))
            return render("auth/switch.html", form=form, device=device, status_code=422)
        sessions.clear_failures(keys[0])
        sessions.switch_to(person, "pin")
        session["just_switched"] = person.id  # the phone may keep an offline check of this PIN
        flash(_("%(name)s is now using this phone.", name=person.name))
        return see_other(_after_switch())
    if not form.errors:
        keep_offline()  # the worker switch works without signal too (static/js/outbox.js)
    return render("auth/switch.html", form=form, device=device, status_code=422 if form.errors else 200)


@bp.route("/b/<secret>", methods=["GET", "POST"])
def badge(secret: str):
    """Switch to the worker whose badge QR was scanned, with their PIN: the badge holds a random
    token, but a badge can be lost or photographed, so it names the person and the PIN proves it."""
    person = db.session.scalar(db.select(User).where(User.badge_hash == hash_secret(secret)))
    if person is None or not person.active or not can_switch_to(person):
        abort(404)
    if not _may_switch_here():
        flash(_("Log this phone in first; then scan the badge to switch to its worker."))
        return redirect(url_for("auth.login", next=request.path))
    form = BadgePinForm()
    if form.validate_on_submit():
        keys = _pin_keys(person.employee_no or f"#{person.id}")
        if sessions.throttled(*keys):
            return _too_many(form.pin, "auth/badge.html", person=person, form=form)
        if not person.check_pin(form.pin.data):
            sessions.note_failure(*keys)
            form.pin.errors.append(_("Wrong PIN."))
            return render("auth/badge.html", person=person, form=form, status_code=422)
        sessions.clear_failures(keys[0])
        sessions.switch_to(person, "badge")
        flash(_("%(name)s is now using this phone.", name=person.name))
        return see_other(_after_switch())
    return render("auth/badge.html", person=person, form=form, status_code=422 if form.errors else 200)


# --- floor phones: the supervisor's one-time code, and the phone that uses it --------------------

def _floor_phones() -> list[DeviceSession]:
    """Floor phones, live first, then those locked out (newest first)."""
    return db.session.scalars(db.select(DeviceSession).where(DeviceSession.kind == "floor")
                              .order_by(DeviceSession.revoked_at.is_not(None), DeviceSession.created_at.desc())
                              .limit(100)).all()


@bp.route("/floor-phones", methods=["GET", "POST"])
@login_required
@requires("floor.enrol")
def floor_phones():
    """The floor phones, and a one-time code (digits and QR) that makes one more phone a floor phone."""
    form = FloorCodeForm()
    phones = _floor_phones()
    if request.method == "GET":
        taken, n = {phone.label for phone in phones}, len(phones) + 1
        while _("Floor phone %(n)s", n=n) in taken:  # a name the list does not have yet
            n += 1
        form.label.data = _("Floor phone %(n)s", n=n)
    if form.validate_on_submit():
        enrolment, code, token = floor.issue(form.label.data.strip(), current_user)
        url = absolute(url_for("auth.enrol_qr", token=token))
        response = render("auth/floor_code.html", enrolment=enrolment, code=floor.display_code(code),
                          url=url, svg=Markup(qr.svg(url)),
                          minutes=current_app.config["FLOOR_ENROL_MINUTES"])
        response.headers["Cache-Control"] = "no-store"  # the live code is shown once, never kept
        return response
    return render("auth/floor_phones.html", form=form, phones=phones, status_code=422 if form.errors else 200)


# One view for both pages that end a device's session: the admin's device list (any login session)
# and the floor supervisor's floor phones (those only: the others answer 404, _device_in_reach).
@bp.post("/admin/devices/<int:device_id>/revoke", defaults={"back": "admin.index"})
@bp.post("/floor-phones/<int:device_id>/revoke", defaults={"back": "auth.floor_phones"})
@login_required
@requires("device.revoke")
def revoke_device(device_id: int, back: str):
    """End one device's session (a lost phone): its next page is the login page."""
    device = load(DeviceSession, device_id, "device.revoke")
    sessions.revoke(device, current_user)
    if device.is_floor:
        flash(_("“%(label)s” is locked out: it shows the login page from its next page on.", label=device.label))
    else:
        flash(_("Device logged out."))
    return see_other(url_for(back))


def _enrolled(enrolment) -> object:
    """Use the enrolment on this phone and go on to the switch screen, or refuse with why."""
    device = floor.enrol(enrolment)
    if device is None:
        return None
    flash(_("This phone is now the floor phone “%(label)s”. Each worker switches in with their badge or "
            "employee number and PIN.", label=device.label))
    target = request.args.get("next")
    return see_other(url_for("auth.switch", next=target) if target else url_for("auth.switch"))


def _enrol_refused(template: str, message: str, status_code: int, **context):
    """The enrolment page again with why, and Retry-After when the phone must wait."""
    response = render(template, status_code=status_code, message=message, **context)
    if status_code == 429:
        response.headers["Retry-After"] = str(context.get("retry_after") or 60)
    return response


@bp.route("/enrol", methods=["GET", "POST"])
def enrol():
    """On the phone: type the supervisor's one-time code to make this phone a floor phone."""
    form = EnrolForm()
    if form.validate_on_submit():
        wait = floor.too_many_attempts()
        if wait:
            form.code.errors.append(_("Too many attempts. Wait a while and try again."))
            return _enrol_refused("auth/enrol.html", "", 429, form=form, retry_after=wait)
        code = floor.normalise_code(form.code.data)
        enrolment = floor.by_code(code) if code else None
        problem = (floor.why_not(enrolment) if code
                   else _("The code has %(n)s digits.", n=floor.CODE_DIGITS))
        if problem is None:
            answer = _enrolled(enrolment)
            if answer is not None:
                return answer
            problem = floor.used_message()  # another phone used it a moment ago
        form.code.errors.append(problem)
        return render("auth/enrol.html", form=form, status_code=422)
    return render("auth/enrol.html", form=form, status_code=422 if form.errors else 200)


@bp.route("/enrol/<token>", methods=["GET", "POST"])
def enrol_qr(token: str):
    """The QR on the supervisor's screen: confirm with one tap that this phone becomes a floor phone
    (a GET changes nothing: a chat app's link preview must not use the code)."""
    enrolment = floor.by_token(token)
    if enrolment is None:
        abort(404)
    problem = floor.why_not(enrolment)
    if problem is None and request.method == "POST":
        wait = floor.too_many_attempts()
        if wait:
            return _enrol_refused("auth/enrol_confirm.html", _("Too many attempts. Wait a while and try again."),
                                  429, enrolment=enrolment, retry_after=wait)
        answer = _enrolled(enrolment)
        if answer is not None:
            return answer
        problem = floor.used_message()  # another phone used it a moment ago
    if problem is not None:
        return render("auth/enrol_confirm.html", enrolment=enrolment, message=problem, status_code=410)
    return render("auth/enrol_confirm.html", enrolment=enrolment, message=None)


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
