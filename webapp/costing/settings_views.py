"""The firm's cost settings (finance, the manager): who sees costs, the overhead rule, the cause codes."""
from flask import flash, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import audit
from ..extensions import db
from ..firm import FirmSettings, get_settings
from ..htmx import render, see_other
from ..permissions import require
from . import COST_ROLE_CHOICES, bp, overhead
from .forms import CausesForm, CostSettingsForm
from .models import BUILTIN_CAUSES, CostCause


def lock_settings():
    """The firm's settings row, locked on PostgreSQL (SQLite's write lock already serialises): two
    people saving cost settings at once take turns, the second seeing what the first saved."""
    get_settings()  # made with its defaults on first use
    return db.session.scalars(db.select(FirmSettings).where(FirmSettings.id == 1).with_for_update()
                              .execution_options(populate_existing=True)).one()


def settings_form() -> CostSettingsForm:
    """The settings form filled from what is saved."""
    data = {"cost_roles": [r for r in (get_settings().cost_roles or "").split(",") if r in COST_ROLE_CHOICES]}
    for rule in overhead.rules():
        data[rule.basis] = {"rate": rule.rate, "share": rule.share}
    return CostSettingsForm(data=data)


def all_causes() -> list[CostCause]:
    """Every cause code, offered or hidden, in the firm's order."""
    return list(db.session.scalars(db.select(CostCause).order_by(CostCause.position, CostCause.id)))


def causes_form(posted: bool = False) -> CausesForm:
    """The cause codes form: a row per cause, keyed by its id (read from the request when posted)."""
    return CausesForm(causes=[(c.id, None if posted else {"name": c.name, "active": c.active}) for c in all_causes()])


def page(form=None, cause_form=None, status: int = 200):
    """The settings page."""
    causes = {c.id: c for c in all_causes()}
    return render("costing/settings.html", form=form or settings_form(), cause_form=cause_form or causes_form(),
                  causes=causes, bases=overhead.BASES, builtin=BUILTIN_CAUSES, status_code=status)


@bp.get("/costing/settings")
@login_required
def settings():
    """The cost settings page."""
    require("costing.settings")
    return page()


@bp.post("/costing/settings")
@login_required
def save_settings():
    """Save who sees costs and the overhead rule (the shares of the bases used must add up to 100 %)."""
    require("costing.settings")
    form = CostSettingsForm()
    if not form.validate_on_submit():
        return page(form=form, status=422)
    firm = lock_settings()
    try:
        overhead.save_rules({basis: (form[basis].form.rate.data, form[basis].form.share.data) for basis in overhead.BASES})
    except ValueError as problem:
        db.session.rollback()
        form.machine_hour.form.share.errors = [_(str(problem))]
        return page(form=form, status=422)
    before = firm.cost_roles
    firm.cost_roles = ",".join(r for r in COST_ROLE_CHOICES if r in (form.cost_roles.data or []))
    audit.record("costing.settings_saved", firm, actor=current_user, entity_type="firm_settings",
                 before={"cost_roles": before},
                 after={"cost_roles": firm.cost_roles,
                        "overhead": {r.basis: {"rate": str(r.rate), "share": str(r.share)} for r in overhead.rules()}})
    flash(_("Cost settings saved."))
    return see_other(url_for("costing.settings"))


@bp.post("/costing/settings/causes")
@login_required
def save_causes():
    """Rename, hide or add cause codes; a cause in use is hidden, never deleted (its lines keep it)."""
    require("costing.settings")
    form = causes_form(posted=True)
    if not form.validate_on_submit():
        return page(cause_form=form, status=422)
    lock_settings()  # two people adding the same cause at once: the second sees the first's
    causes = {c.id: c for c in all_causes()}
    renamed = []
    for cause_id, entry in form.causes.keyed():
        cause = causes[cause_id]
        if (entry.form.name.data or "") != cause.name:
            renamed.append((cause, entry))
        cause.name, cause.active = entry.form.name.data or "", bool(entry.form.active.data)
        if cause.key is None and not cause.name:
            entry.form.name.errors = [_("Give the cause a name.")]
    # Names as they will be, so that neither a renamed cause nor a new one takes another's name (the
    # sheet would offer two causes alike, and their totals would read as one).
    for cause, entry in renamed:
        if not entry.form.name.errors and any(other.label.casefold() == cause.label.casefold()
                                              for other in causes.values() if other is not cause):
            entry.form.name.errors = [_("There is already a cause of this name.")]
    names = {c.label.casefold() for c in causes.values()}
    if form.new_name.data:
        if form.new_name.data.casefold() in names:
            form.new_name.errors = [_("There is already a cause of this name.")]
        else:
            db.session.add(CostCause(name=form.new_name.data, position=max((c.position for c in causes.values()), default=0) + 10))
    if any(e.form.name.errors for e in form.causes) or form.new_name.errors:
        db.session.rollback()
        return page(cause_form=form, status=422)
    audit.record("costing.causes_saved", get_settings(), actor=current_user, entity_type="firm_settings",
                 after={str(c.id): {"name": c.label, "active": c.active} for c in all_causes()})
    flash(_("Cause codes saved."))
    return see_other(url_for("costing.settings"))
