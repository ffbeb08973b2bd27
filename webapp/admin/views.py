"""Admin: users and roles, password reset, devices, firm settings, working calendar."""
from datetime import date

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import inputs
from ..auth import DeviceSession, ExternalIdentity, User, external
from ..extensions import db
from ..htmx import render, see_other
from ..loading import load
from ..i18n import firm_today
from ..links import absolute
from ..qr import svg as qr_inline_svg
from ..permissions import requires
from . import bp, calendar, services
from .forms import CalendarDayForm, ExternalIdentityForm, SettingsForm, UserForm
from .models import CalendarDay, get_settings


@bp.get("/")
@login_required
@requires("admin.manage")
def index():
    """List users and live devices."""
    users = db.session.scalars(db.select(User).order_by(User.name)).all()
    devices = db.session.scalars(db.select(DeviceSession).where(DeviceSession.revoked_at.is_(None))
                                 .order_by(DeviceSession.last_seen_at.desc()).limit(200)).all()
    return render("admin/index.html", users=users, devices=devices)


@bp.route("/users/new", methods=["GET", "POST"])
@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@login_required
@requires("admin.manage")
def user(user_id: int | None = None):
    """Create or edit a user: roles, active, password reset, PIN."""
    person = load(User, user_id, "admin.manage") if user_id else None
    form = UserForm(obj=person)
    if request.method == "GET" and person:
        form.roles.data = sorted(person.roles)
    if form.validate_on_submit():
        clash = db.session.scalar(db.select(User).where(
            db.or_(db.func.lower(User.username) == form.username.data.lower(),
                   # the switch screen matches employee numbers in any case (W001 = w001)
                   db.and_(User.employee_no.is_not(None),
                           db.func.upper(User.employee_no) == (form.employee_no.data or "").strip().upper())),
            User.id != (person.id if person else 0)))
        if clash:
            form.username.errors.append(_("Another user has this username or employee number."))
        elif person is None and not form.password.data:
            form.password.errors.append(_("Give the new user a password."))
        else:
            services.save_user(person, form, current_user)
            flash(_("User saved."))
            return see_other(url_for("admin.index"))
    return _user_page(form, person, ExternalIdentityForm(formdata=None), status_code=422 if form.errors else 200)


def _user_page(form, person, link_form, status_code: int = 200):
    """The user page: the user form, and for an existing person their WeCom/DingTalk links."""
    identities = external.identities_of(person) if person else []
    return render("admin/user.html", form=form, person=person, link_form=link_form, identities=identities,
                  id_labels=external.ID_LABELS, status_code=status_code)


@bp.post("/users/<int:user_id>/identities")
@login_required
@requires("admin.manage")
def link_identity(user_id: int):
    """Link a person to their WeCom userid or DingTalk unionId, so they can sign in with it."""
    person = load(User, user_id, "admin.manage")
    link_form = ExternalIdentityForm()
    if link_form.validate_on_submit():
        provider, account = link_form.provider.data, link_form.external_id.data
        holder, _holder_person = external.person_of(provider, account)
        own = next((row for row in external.identities_of(person) if row.provider == provider), None)
        if holder is not None and holder.user_id != person.id:
            link_form.external_id.errors.append(_("This account is linked to %(name)s already; unlink it there first.",
                                                  name=holder.user.name))
        elif own is not None:
            link_form.provider.errors.append(_("%(name)s has a %(provider)s account linked already; unlink it first.",
                                               name=person.name, provider=external.PROVIDER_LABELS[provider]))
        else:
            external.link(person, provider, account, current_user)
            flash(_("%(provider)s account linked.", provider=external.PROVIDER_LABELS[provider]))
            return see_other(url_for("admin.user", user_id=person.id) + "#sign-in-accounts")
    form = UserForm(obj=person, formdata=None)
    form.roles.data = sorted(person.roles)
    return _user_page(form, person, link_form, status_code=422)


@bp.post("/users/<int:user_id>/identities/<int:identity_id>/unlink")
@login_required
@requires("admin.manage")
def unlink_identity(user_id: int, identity_id: int):
    """Remove a person's WeCom or DingTalk link (their password still works)."""
    identity = load(ExternalIdentity, identity_id, "admin.manage")
    if identity.user_id != user_id:
        abort(404)
    external.unlink(identity, current_user)
    flash(_("%(provider)s account unlinked.", provider=external.PROVIDER_LABELS[identity.provider]))
    return see_other(url_for("admin.user", user_id=user_id) + "#sign-in-accounts")


@bp.post("/users/<int:user_id>/badge")
@login_required
@requires("admin.manage")
def badge(user_id: int):
    """Issue a new badge QR for a worker (the old badge stops working)."""
    person = load(User, user_id, "admin.manage")
    secret = services.issue_badge(person, current_user)
    url = absolute(url_for("auth.badge", secret=secret))
    svg = qr_inline_svg(url)  # inline in the page: plain <svg>, drawn by the HTML parser
    from markupsafe import Markup
    return render("admin/badge.html", person=person, url=url, svg=Markup(svg))


@bp.post("/users/<int:user_id>/revoke-all")
@login_required
@requires("admin.manage")
def revoke_all(user_id: int):
    """End every device session of a user."""
    person = load(User, user_id, "admin.manage")
    count = services.revoke_all_devices(person, current_user)
    flash(_("%(n)s devices logged out.", n=count))
    return see_other(url_for("admin.index"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
@requires("admin.manage")
def settings():
    """Edit the firm's settings (orders keep those in force when they entered review)."""
    firm = get_settings()
    form = SettingsForm(obj=firm)
    if request.method == "GET":
        form.reviews.data = firm.required_reviews()
        form.finance_readers.data = firm.finance_readers()
    if form.validate_on_submit():
        services.save_settings(firm, form, current_user)
        flash(_("Settings saved. Orders already in review keep their earlier settings."))
        return see_other(url_for("admin.settings"))
    return render("admin/settings.html", form=form, status_code=422 if form.errors else 200)


@bp.route("/calendar", methods=["GET", "POST"])
@login_required
@requires("admin.manage")
def calendar_view():
    """Show and edit the working calendar's holidays and swapped working days."""
    form = CalendarDayForm()
    if form.validate_on_submit():
        row = db.session.scalar(db.select(CalendarDay).where(CalendarDay.day == form.day.data))
        if row is None:
            row = CalendarDay(day=form.day.data)
            db.session.add(row)
        row.name, row.is_working = form.name.data or "", form.is_working.data
        flash(_("Day saved."))
        return see_other(url_for("admin.calendar_view"))
    year = request.args.get("year", type=inputs.year) or firm_today().year
    days = db.session.scalars(db.select(CalendarDay).where(
        CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
        .order_by(CalendarDay.day)).all()
    return render("admin/calendar.html", form=form, days=days, year=year,
                  status_code=422 if form.errors else 200)


@bp.post("/calendar/defaults")
@login_required
@requires("admin.manage")
def calendar_defaults():
    """Load the public holidays of the firm's country for this year and the next."""
    year = firm_today().year
    added = calendar.load_defaults(get_settings().calendar_country, [year, year + 1])
    flash(_("%(n)s days added.", n=added))
    return see_other(url_for("admin.calendar_view"))


@bp.post("/calendar/<int:day_id>/delete")
@login_required
@requires("admin.manage")
def calendar_delete(day_id: int):
    """Remove a holiday or swapped working day."""
    row = load(CalendarDay, day_id, "admin.manage")
    db.session.delete(row)
    flash(_("Day removed."))
    return see_other(url_for("admin.calendar_view", year=row.day.year))
