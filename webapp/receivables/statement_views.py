"""Finance's statement pages (对账单): the statements per customer with their status, drafting a
month, sending it, printing it and downloading it as XLSX; and the customer's side on their phone
through the "statement" link (/c/<token>): the statement, confirm with their name or dispute with a
reason, each recorded once."""
from datetime import date, timedelta

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import contains_eager
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from .. import links, registry, spreadsheets
from ..customers import Customer
from ..extensions import db
from ..firm import get_settings
from ..htmx import render, see_other
from ..i18n import firm_today
from ..inputs import row_id
from ..loading import load
from ..permissions import requires
from ..public import bp as public_bp
from . import bp, statements
from .models import Statement


class ConfirmForm(FlaskForm):
    """The customer confirms the statement."""

    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=100)])


class DisputeForm(FlaskForm):
    """The customer disputes the statement, saying what is wrong."""

    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=100)])
    reason = TextAreaField(_l("What is wrong?"), validators=[DataRequired(), Length(max=4000)])


def last_month(today: date) -> str:
    """The month before today's (the month a statement is usually drafted for)."""
    return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def _list_page(error: str | None = None, status_code: int = 200):
    customer_id = request.values.get("customer", type=row_id)
    # A sales rep who may see only their own customers sees only their statements.
    query = (db.select(Statement).join(Customer, Customer.id == Statement.customer_id)
             .where(*registry.scope_clauses(current_user, Statement.customer_id))
             .options(contains_eager(Statement.customer)))
    if customer_id:
        query = query.where(Statement.customer_id == customer_id)
    rows = db.session.scalars(query.order_by(Customer.name, Statement.period.desc(),
                                             Statement.version.desc()).limit(500)).all()
    customers = db.session.scalars(db.select(Customer).where(*registry.scope_clauses(current_user, Customer.id))
                                   .order_by(Customer.name)).all()
    return render("receivables/statements.html", statements=rows, customers=customers, customer_id=customer_id,
                  period=request.values.get("period") or last_month(firm_today()), error=error,
                  words=statements.STATUS_WORDS, currency=statements.firm_currency(), status_code=status_code)


@bp.get("/statements")
@login_required
@requires("receivables.view")
def statement_list():
    """The statements per customer with their status, and the form to draft a month's."""
    return _list_page()


@bp.post("/statements")
@login_required
@requires("receivables.record")
def statement_draft():
    """Draft a customer's statement of a month (a new version when the last one was disputed)."""
    customer_id = request.form.get("customer", type=row_id)
    customer = db.session.get(Customer, customer_id) if customer_id else None
    if customer is None:
        return _list_page(_("Choose a customer."), 422)
    try:
        period = statements.parse_period(request.form.get("period", ""))
    except statements.PeriodError as error:
        return _list_page(str(error), 422)
    if period > firm_today().strftime("%Y-%m"):
        return _list_page(_("A statement covers a month that has begun."), 422)
    statement = statements.draft(customer, period, current_user)
    return see_other(url_for("receivables.statement_detail", statement_id=statement.id))


def _statement(statement_id: int, action: str = "receivables.view") -> Statement:
    """The statement, for someone who may see its customer (404 for a rep scoped to others)."""
    return load(Statement, statement_id, action)


@bp.get("/statements/<int:statement_id>")
@login_required
@requires("receivables.view")
def statement_detail(statement_id: int):
    """One statement: its lines, status and the customer's answer; send, print, download."""
    statement = _statement(statement_id)
    link = statement.link if statement.link is not None and statement.link.is_live else None
    newer = statements.latest(statement.customer_id, statement.period)
    return render("receivables/statement.html", statement=statement, lines=statements.lines(statement),
                  link=link, words=statements.STATUS_WORDS, line_words=statements.LINE_WORDS,
                  currency=statements.firm_currency(), firm=get_settings().firm_name,
                  newer=newer if newer is not None and newer.id != statement.id else None)


@bp.post("/statements/<int:statement_id>/send")
@login_required
@requires("receivables.record")
def statement_send(statement_id: int):
    """Freeze the draft and send the customer their link (by mail to their contact)."""
    statement = _statement(statement_id, "receivables.record")
    statements.send(statement, current_user)
    if statement.customer.contact_email:
        flash(_("The statement was sent to %(email)s.", email=statement.customer.contact_email))
    else:
        flash(_("The customer has no e-mail address: send them the link below."))
    return see_other(url_for("receivables.statement_detail", statement_id=statement.id))


@bp.get("/statements/<int:statement_id>/statement.xlsx")
@login_required
@requires("receivables.view")
def statement_xlsx(statement_id: int):
    """The statement as an XLSX file made to print."""
    statement = _statement(statement_id)
    return spreadsheets.xlsx_response(statements.xlsx(statement), statements.file_name(statement, "xlsx"))


# --- the customer's side ------------------------------------------------------------------------

def _customer_page(link, statement, confirm_form=None, dispute_form=None, status: int = 200):
    return render("receivables/statement_public.html", link=link, statement=statement,
                  lines=statements.lines(statement), line_words=statements.LINE_WORDS,
                  currency=statements.firm_currency(), firm=get_settings().firm_name,
                  confirm_form=confirm_form or ConfirmForm(prefix="confirm"),
                  dispute_form=dispute_form or DisputeForm(prefix="dispute"), status_code=status)


def _linked_statement(link) -> Statement:
    if link.purpose != statements.PURPOSE:
        abort(404)
    statement = load(Statement, link.object_id, None)
    if statement.status == "draft":
        abort(404)
    return statement


def open_statement(link):
    """The statement a "statement" link is for: to confirm or dispute, or as answered."""
    return _customer_page(link, _linked_statement(link))


def _answer(token: str, kind: str):
    link = links.resolve(token)
    statement = _linked_statement(link)  # locked: two answers at once are one after the other
    form = ConfirmForm(prefix="confirm") if kind == "confirm" else DisputeForm(prefix="dispute")
    if statement.status in ("confirmed", "disputed"):
        statements.answer(statement, kind, "")  # refuses with the clear 409
    if not form.validate_on_submit():
        forms = {"confirm_form": form} if kind == "confirm" else {"dispute_form": form}
        return _customer_page(link, statement, status=422, **forms)
    statements.answer(statement, kind, form.name.data.strip(),
                      form.reason.data.strip() if kind == "dispute" else "")
    if kind == "confirm":
        flash(_("Thank you: you confirmed the statement."), "thanks")
    else:
        flash(_("Thank you: we received your objection and will send you a corrected statement."), "thanks")
    return see_other(url_for("public.open_link", token=token))


@public_bp.post("/c/<token>/statement/confirm")
def statement_confirm(token: str):
    """The customer confirms the statement with their name."""
    return _answer(token, "confirm")


@public_bp.post("/c/<token>/statement/dispute")
def statement_dispute(token: str):
    """The customer disputes the statement with a reason."""
    return _answer(token, "dispute")

