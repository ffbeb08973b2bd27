"""The firm's seal (公章): an optional image printed on the customers' PDF copies. It goes through the
same checks as every photo (uploads.py: type sniffed, pixels counted, re-encoded without metadata;
a PNG keeps its transparency, so the seal prints over the page as a stamp does)."""
from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField

from ..extensions import db
from ..htmx import render, see_other
from ..permissions import requires
from ..photos import Photo, save_photos, send_photo
from ..uploads import IMAGE_EXTENSIONS, UploadError
from . import bp, services
from .forms import SettingsForm
from .models import get_settings


class SealForm(FlaskForm):
    """An image of the firm's seal."""

    seal = FileField(_l("Seal image (PNG with a transparent background prints best)"),
                     render_kw={"accept": "image/png,image/jpeg,image/webp"})


@bp.app_template_global()
def firm_seal_photo() -> Photo | None:
    """The firm's current seal image, if it uploaded one."""
    settings = get_settings()
    return db.session.get(Photo, settings.seal_photo_id) if settings.seal_photo_id else None


@bp.app_template_global()
def seal_form() -> SealForm:
    """A fresh seal upload form (the settings page shows it below the settings)."""
    return SealForm()


@bp.post("/settings/seal")
@login_required
@requires("admin.manage")
def upload_seal():
    """Keep a new seal image (replacing the earlier one on future copies)."""
    form = SealForm()  # its CSRF token is checked by CSRFProtect before the view runs
    upload = form.seal.data
    problem = None
    if not upload or not upload.filename:
        problem = _("Choose an image of the seal.")
    elif (upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else "") not in IMAGE_EXTENSIONS:
        problem = _("Only JPEG, PNG and WebP images are accepted.")
    if problem is None:
        firm = get_settings()
        try:
            photo = save_photos([upload], "firm_seal", firm.id, current_user, limit=1)[0]
        except UploadError as error:
            problem = str(error)
        else:
            services.set_seal(firm, photo, current_user)
            flash(_("Seal saved. It is printed on the customers' PDF copies from now on."))
            return see_other(url_for("admin.settings"))
    form.seal.errors = [problem]
    settings_form = SettingsForm(obj=get_settings(), formdata=None)
    settings_form.reviews.data = get_settings().required_reviews()
    return render("admin/settings.html", form=settings_form, sealform=form, status_code=422)


@bp.post("/settings/seal/remove")
@login_required
@requires("admin.manage")
def remove_seal():
    """Print no seal on future copies (the image stays with the audit trail)."""
    firm = get_settings()
    services.remove_seal(firm, current_user)
    flash(_("Seal removed. Copies made from now on carry no seal."))
    return see_other(url_for("admin.settings"))


@bp.get("/settings/seal/<int:photo_id>")
@login_required
@requires("admin.manage")
def seal_image(photo_id: int):
    """The seal image, for the settings page."""
    photo = db.session.get(Photo, photo_id)
    if photo is None or photo.entity_type != "firm_seal":
        abort(404)
    return send_photo(photo)
