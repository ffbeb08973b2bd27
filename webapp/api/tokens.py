"""A person's API tokens on their account (/account/api-tokens): make one (shown once), see when each
was last used, revoke one. A token acts with its owner's roles and scope; only its hash is kept."""
from datetime import timedelta

from flask import flash, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from .. import audit
from ..auth import hash_secret
from ..extensions import db
from ..forms import options
from ..htmx import render, see_other
from ..loading import load
from ..wallclock import utcnow
from . import tokens_bp as bp
from .core import new_token_secret
from .models import ApiToken

MAX_LIVE_TOKENS = 20  # per person: an integration needs one or two; a leak of many is harder to see


class ApiTokenForm(FlaskForm):
    """A new token: what it is for, what it may do, how long it lives."""

    name = StringField(_l("What it is for"), validators=[DataRequired(), Length(max=80)],
                       description=_l("e.g. online shop, accounting"))
    scope = RadioField(_l("Access"), choices=options(("read", _l("Read only")), ("write", _l("Read and write"))),
                       default="read")
    expires = SelectField(_l("Expires"), choices=options(("90", _l("In 90 days")), ("365", _l("In a year")),
                                                         ("30", _l("In 30 days")), ("0", _l("Never"))), default="90")


def _own_tokens() -> list[ApiToken]:
    return db.session.scalars(db.select(ApiToken).where(ApiToken.user_id == current_user.id)
                              .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())).all()


@bp.route("/account/api-tokens", methods=["GET", "POST"])
@login_required
def index():
    """This person's API tokens, and the form to make one (the new token is shown once, here)."""
    form = ApiTokenForm()
    secret = None
    if form.validate_on_submit():
        live = db.session.scalar(db.select(db.func.count(ApiToken.id)).where(
            ApiToken.user_id == current_user.id, ApiToken.revoked_at.is_(None)))
        if live >= MAX_LIVE_TOKENS:
            form.name.errors.append(_("You have %(n)s live tokens; revoke one you no longer use first.",
                                      n=MAX_LIVE_TOKENS))
        else:
            secret = new_token_secret()
            days = int(form.expires.data)
            token = ApiToken(user_id=current_user.id, name=form.name.data.strip(), scope=form.scope.data,
                             secret_hash=hash_secret(secret), prefix=secret[:10],
                             expires_at=utcnow() + timedelta(days=days) if days else None)
            db.session.add(token)
            db.session.flush()
            audit.record("api_token.created", token, actor=current_user,
                         after={"name": token.name, "scope": token.scope})
            form = ApiTokenForm(formdata=None)
    response = render("api/tokens.html", form=form, tokens=_own_tokens(), secret=secret, now=utcnow(),
                      status_code=422 if form.errors else 200)
    if secret:
        # The only time the token exists outside its owner's hands: no cache may keep this page.
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/account/api-tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    """Revoke one of this person's tokens: it opens nothing from now on."""
    token = load(ApiToken, token_id, None, where=(ApiToken.id == token_id) & (ApiToken.user_id == current_user.id))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record("api_token.revoked", token, actor=current_user, after={"name": token.name})
    flash(_("Token “%(name)s” revoked.", name=token.name))
    return see_other(url_for("api_tokens.index"))
