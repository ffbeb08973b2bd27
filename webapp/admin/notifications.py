"""Admin pages of the notification channels: per event, which channels tell it (e-mail, SMS, each
group robot), and the WeCom and DingTalk group robots themselves."""
from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from .. import audit, notify
from ..extensions import db
from ..htmx import render, see_other
from ..loading import load
from ..notify import robots, routing, sms
from ..permissions import requires
from . import bp
from .forms import RobotForm
from .models import get_settings


def event_rows() -> list[dict]:
    """Every event notify() knows, with its label and the channels that tell it now."""
    all_robots = db.session.scalars(db.select(routing.ChatRobot).order_by(routing.ChatRobot.id)).all()
    posts = {robot.id: routing.robot_events(robot.id) for robot in all_robots}
    rows = []
    for event in sorted(notify.MESSAGES, key=lambda e: str(routing.EVENT_LABELS.get(e, e))):
        rows.append({"event": event, "label": routing.EVENT_LABELS.get(event, event),
                     "email": routing.email_on(event), "sms": routing.sms_on(event),
                     "robots": [(robot, event in posts[robot.id]) for robot in all_robots]})
    return rows


@bp.route("/notifications", methods=["GET", "POST"])
@login_required
@requires("admin.manage")
def notifications():
    """Choose, per event, who is told through which channel; list the group robots."""
    form = FlaskForm()
    all_robots = db.session.scalars(db.select(routing.ChatRobot).order_by(routing.ChatRobot.id)).all()
    if form.validate_on_submit():
        events = list(notify.MESSAGES)
        chosen = set(request.form.getlist("route"))
        routing.save_routes(
            email={e for e in events if f"email:{e}" in chosen}, sms={e for e in events if f"sms:{e}" in chosen},
            robots={robot.id: {e for e in events if f"robot-{robot.id}:{e}" in chosen} for robot in all_robots},
            events=events)
        audit.record("notify.routes_saved", get_settings(), actor=current_user,
                     after={"routes": sorted(chosen & _known_routes(events, all_robots))})
        flash(_("Notification channels saved."))
        return see_other(url_for("admin.notifications"))
    return render("admin/notifications.html", form=form, rows=event_rows(), robots=all_robots,
                  sms_configured=sms.configured(), sms_templates=sms.templates(),
                  robot_kinds=routing.ROBOT_KIND_LABELS,
                  status_code=422 if form.errors else 200)


def _known_routes(events, all_robots) -> set[str]:
    """Every route value the page can send (what an audit entry may record)."""
    keys = ["email", "sms"] + [f"robot-{robot.id}" for robot in all_robots]
    return {f"{key}:{event}" for key in keys for event in events}


@bp.route("/notifications/robots/new", methods=["GET", "POST"])
@bp.route("/notifications/robots/<int:robot_id>", methods=["GET", "POST"])
@login_required
@requires("admin.manage")
def robot(robot_id: int | None = None):
    """Add or edit a group robot (its webhook address, signing secret, language, on or off)."""
    existing = load(routing.ChatRobot, robot_id, "admin.manage") if robot_id else None
    form = RobotForm(obj=existing)
    if request.method == "GET":
        form.secret.data = ""
        form.signed.data = bool(existing and existing.secret)
    if form.validate_on_submit() and form.check(existing):
        row = existing or routing.ChatRobot()
        if existing is None:
            db.session.add(row)
        row.name, row.kind = form.name.data.strip(), form.kind.data
        row.webhook_url, row.locale, row.enabled = form.webhook_url.data.strip(), form.locale.data, form.enabled.data
        if row.kind != "dingtalk" or not form.signed.data:
            row.secret = ""
        elif (form.secret.data or "").strip():
            row.secret = form.secret.data.strip()
        db.session.flush()
        audit.record("notify.robot_saved", row, actor=current_user,
                     after={"name": row.name, "kind": row.kind, "enabled": row.enabled})
        flash(_("Robot saved. Tick the events it posts on the notifications page."))
        return see_other(url_for("admin.notifications"))
    return render("admin/robot.html", form=form, robot=existing, status_code=422 if form.errors else 200)


@bp.post("/notifications/robots/<int:robot_id>/test")
@login_required
@requires("admin.manage")
def robot_test(robot_id: int):
    """Post a test message to the robot's group now, and say how it went."""
    # Not locked: no row lock may be held while the chat service answers (up to its timeout).
    row = load(routing.ChatRobot, robot_id, "admin.manage", lock=False)
    try:
        robots.send_test(row)
    except robots.RobotError as error:
        flash(_("The robot did not take the test message: %(error)s", error=_(str(error))), "error")
    else:
        flash(_("Test message sent: look in the group."))
    return see_other(url_for("admin.robot", robot_id=row.id))


@bp.post("/notifications/robots/<int:robot_id>/delete")
@login_required
@requires("admin.manage")
def robot_delete(robot_id: int):
    """Remove a robot (its events go with it)."""
    row = load(routing.ChatRobot, robot_id, "admin.manage")
    db.session.execute(db.delete(routing.RobotEvent).where(routing.RobotEvent.robot_id == row.id))
    audit.record("notify.robot_deleted", row, actor=current_user, before={"name": row.name})
    db.session.delete(row)
    flash(_("Robot removed."))
    return see_other(url_for("admin.notifications"))
