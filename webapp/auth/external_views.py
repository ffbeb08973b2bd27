"""Signing in through WeChat Work or DingTalk, and linking one's own account there (auth/external.py).

Three steps, so that nothing is written on a GET and no provider call runs inside a write
transaction: the start (GET) keeps a random state in the session and sends the browser to the
provider; the callback (GET) checks the state, asks the provider whose code it is and keeps the
verified account in the session for a few minutes; the finish (POST, sent by the page at once)
signs the linked person in with a device session, exactly as the password login does."""
import secrets
import time

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import db
from ..htmx import render, see_other
from ..links import absolute
from ..statemachine import N_
from . import bp, external, sessions
from .forms import LoginForm
from .views import _safe_next

FLOW = "external_flow"  # the started sign-in: provider, state, when, next, and who links (if linking)
VERIFIED = "external_verified"  # the account the provider vouched for, until the finish
VERIFIED_SECONDS = 300
# Why a sign-in step has nothing to go on (no flow in this browser's session, or it was used or expired).
NOT_STARTED_HERE = N_("This sign-in was not started in this browser, took too long or was already used. "
                      "Start it again.")


def _provider_or_404(provider: str) -> str:
    """The provider's name, or 404 when it is not one the deployment set up."""
    if not external.is_configured(provider):
        abort(404)
    return provider


def _login_refused(message: str, status_code: int):
    """The login page with why the sign-in through a provider did not work (passwords still do)."""
    response = render("auth/login.html", form=LoginForm(formdata=None), external_message=message,
                      status_code=status_code)
    if status_code == 503:
        response.headers["Retry-After"] = "60"
    return response


def _login_or_account(message: str, status_code: int):
    """Where a refused flow answers: the login page, or, for someone logged in (linking their own
    account), their account page with the message."""
    if current_user.is_authenticated:
        flash(message)
        return see_other(url_for("auth.account"))
    return _login_refused(message, status_code)


def _start(provider: str, linking_user_id: int | None, target: str | None):
    """Keep a fresh state for this browser and send it to the provider's authorize page."""
    state = secrets.token_urlsafe(24)
    session[FLOW] = {"provider": provider, "state": state, "at": time.time(),
                     "next": _safe_next(target) if target else None, "link": linking_user_id}
    session.pop(VERIFIED, None)
    redirect_uri = absolute(url_for("auth.external_callback", provider=provider))
    lang = session.get("lang") or request.accept_languages.best_match(current_app.config["LANGUAGES"]) or "zh"
    target_url = external.authorize_url(provider, redirect_uri, state, request.user_agent.string, lang)
    return redirect(target_url, 303 if request.method == "POST" else 302)  # a POST (linking) redirects 303


@bp.get("/login/<provider>")
def external_start(provider: str):
    """Sign in through WeCom or DingTalk: off to the provider's sign-in page."""
    _provider_or_404(provider)
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    return _start(provider, None, request.args.get("next"))


@bp.post("/account/link/<provider>")
@login_required
def external_link_start(provider: str):
    """Link one's own WeCom or DingTalk account: prove it at the provider, then confirm."""
    _provider_or_404(provider)
    if sessions.is_floor():
        abort(403)  # a shared floor phone is the floor's, not the switched-in worker's
    return _start(provider, current_user.id, None)


def _take_flow(provider: str) -> dict | None:
    """The started flow if the callback's state is its state, unexpired; used up either way."""
    flow = session.pop(FLOW, None)
    given = request.args.get("state") or ""
    if not isinstance(flow, dict) or flow.get("provider") != provider or not given:
        return None
    if not secrets.compare_digest(str(flow.get("state")), given):
        return None
    if time.time() - float(flow.get("at") or 0) > 60 * current_app.config["EXTERNAL_LOGIN_STATE_MINUTES"]:
        return None
    return flow


@bp.get("/login/<provider>/callback")
def external_callback(provider: str):
    """Back from the provider: check the state, learn the account from the code, then confirm."""
    _provider_or_404(provider)
    label = external.PROVIDER_LABELS[provider]
    flow = _take_flow(provider)
    if flow is None:
        return _login_or_account(_(NOT_STARTED_HERE), 400)
    code = external.code_of(provider, request.args)
    if request.args.get("error") or not code or len(code) > 512:  # WeCom's codes are at most 512 bytes
        return _login_or_account(_("%(provider)s did not sign you in (cancelled or refused). Try again, or log in "
                                   "with your password.", provider=label), 400)
    try:
        account = external.account_id(provider, code)
    except external.ProviderError as error:
        current_app.logger.warning("external sign-in %s failed: %s", provider, error.detail)
        messages = {
            400: _("%(provider)s did not accept this sign-in (it expired or was used). Try again.", provider=label),
            502: _("%(provider)s answered with something this app cannot use. Try again later, or log in with "
                   "your password.", provider=label),
            503: _("%(provider)s cannot be reached just now. Try again later, or log in with your password.",
                   provider=label),
        }
        return _login_or_account(messages[error.status], error.status)
    if flow.get("link"):
        return _confirm_link(provider, account, flow)
    identity, person = external.person_of(provider, account)
    problem = _why_not(provider, account, person)
    if problem:
        return _login_refused(problem, 403)
    session[VERIFIED] = {"provider": provider, "account": account, "at": time.time(), "next": flow.get("next")}
    return render("auth/external_continue.html", provider=provider, label=label, person=person, linking=False)


def _why_not(provider: str, account: str, person) -> str | None:
    """Why this account signs nobody in, or None."""
    if person is None:
        return _("Your %(provider)s account (%(id_label)s %(account)s) is not linked to anyone here. Ask your "
                 "administrator to link it to your user, or log in with your password.",
                 provider=external.PROVIDER_LABELS[provider], id_label=external.ID_LABELS[provider], account=account)
    if not person.active:
        return _("This user is deactivated. Ask your administrator.")
    return None


def _confirm_link(provider: str, account: str, flow: dict):
    """Linking one's own account: the page that confirms it (or why it cannot be linked)."""
    if not current_user.is_authenticated or current_user.id != flow["link"]:
        return _login_or_account(_(NOT_STARTED_HERE), 400)
    _identity, person = external.person_of(provider, account)
    if person is not None and person.id != current_user.id:
        return _login_or_account(_("This %(provider)s account is linked to another user. Ask your administrator.",
                                   provider=external.PROVIDER_LABELS[provider]), 409)
    session[VERIFIED] = {"provider": provider, "account": account, "at": time.time(), "link": current_user.id}
    return render("auth/external_continue.html", provider=provider, label=external.PROVIDER_LABELS[provider],
                  person=current_user, account=account, linking=True)


def _take_verified(provider: str) -> dict | None:
    """The account the provider vouched for moments ago in this browser (used up)."""
    verified = session.pop(VERIFIED, None)
    if (not isinstance(verified, dict) or verified.get("provider") != provider
            or time.time() - float(verified.get("at") or 0) > VERIFIED_SECONDS):
        return None
    return verified


@bp.post("/login/<provider>/finish")
def external_finish(provider: str):
    """Sign in (or link, when it was started from one's account page) the account just verified."""
    _provider_or_404(provider)
    verified = _take_verified(provider)
    if verified is None:
        return _login_or_account(_(NOT_STARTED_HERE), 400)
    account = verified["account"]
    if verified.get("link"):
        return _finish_link(provider, account, verified["link"])
    identity, person = external.person_of(provider, account)
    problem = _why_not(provider, account, person)
    if problem:  # unlinked or deactivated since the callback
        return _login_refused(problem, 403)
    sessions.start(person)
    external.note_sign_in(identity)
    return see_other(_safe_next(verified.get("next")))


def _finish_link(provider: str, account: str, user_id: int):
    """Link the verified account to the person logged in here, who started it."""
    if not current_user.is_authenticated or current_user.id != user_id:
        return _login_or_account(_(NOT_STARTED_HERE), 400)
    label = external.PROVIDER_LABELS[provider]
    _identity, person = external.person_of(provider, account)
    mine = {row.provider: row for row in external.identities_of(current_user)}
    if person is not None and person.id != current_user.id:
        return _login_or_account(_("This %(provider)s account is linked to another user. Ask your administrator.",
                                   provider=label), 409)
    if person is None:
        if provider in mine:
            external.unlink(mine[provider], current_user)  # the newly proven account replaces the old one
            db.session.flush()
        external.link(current_user, provider, account, current_user)
    flash(_("Your %(provider)s account is linked: you can sign in with it.", provider=label))
    return see_other(url_for("auth.account"))
