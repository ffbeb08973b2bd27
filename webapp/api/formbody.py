"""The pages' own forms run on an API body: an operation whose page validates with a form (required
fields, ranges, "budget to below budget from", "enter good or scrap pieces") fills that form from
the loaded JSON and runs its validators, so the API and the page keep one set of rules."""
from datetime import date, datetime
from decimal import Decimal

from werkzeug.datastructures import MultiDict

from .core import validation_problem


def _text(value) -> str:
    """A loaded body value as a form field would receive it from a post."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, bool):
        return "y" if value else ""
    return str(value)


def form_of(form_class, body: dict, **kwargs):
    """form_class filled from body (a schema-loaded dict; None values left out) without its CSRF
    field: the API's credential is its Authorization header, which no page elsewhere can send."""
    no_csrf = type(form_class.__name__, (form_class,),
                   {"Meta": type("Meta", (form_class.Meta,), {"csrf": False}),
                    "__doc__": form_class.__doc__})
    formdata = MultiDict({name: _text(value) for name, value in body.items() if value is not None})
    return no_csrf(formdata=formdata, **kwargs)


def check(form) -> None:
    """Raise the API's 422 with the form's messages per field unless the form validates."""
    if not form.validate():
        raise_errors(form.errors)


def raise_errors(errors: dict) -> None:
    """Raise the API's 422 for form messages per field (lazy strings made plain)."""
    raise validation_problem({name: [str(message) for message in messages] for name, messages in errors.items()})
