"""The scanner's manual-entry form (also what the camera's fetch posts)."""
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

from ..forms import OfflineForm

MAX_CODE = 300


class ScanForm(OfflineForm):
    """A scanned or typed code, and the shipment being packed (if any)."""

    code = StringField(_l("Code or link"), filters=[lambda v: v.strip() if v else v],
                       validators=[DataRequired(_l("Scan or type a code.")),
                                   Length(max=MAX_CODE, message=_l("A code has at most %(max)d characters."))],
                       # codes are not words: no autocorrect or capitals on a phone keyboard
                       render_kw={"autocomplete": "off", "autocapitalize": "off", "autocorrect": "off",
                                  "spellcheck": "false", "enterkeyhint": "go"})
    shipment = HiddenField()
