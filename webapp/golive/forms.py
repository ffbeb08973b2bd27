"""The going-live upload: the workbook, and whether to try it without saving."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField

from ..forms import options

MODES = [("check", _l("Try without saving")), ("import", _l("Import"))]


class UploadForm(FlaskForm):
    """A filled-in template (.xlsx) and what to do with it."""

    file = FileField(_l("Excel workbook (.xlsx)"))
    mode = SelectField(_l("What to do"), choices=options(*MODES), default="check")
