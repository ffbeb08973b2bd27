"""The going-live page: the templates to download and what each column means, the upload, the
problems of a file per sheet, row and cell, the dry run's preview, and the import."""
from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import db
from ..htmx import render, see_other
from ..permissions import requires
from ..spreadsheets import xlsx_response
from ..statemachine import TransitionError
from . import bp, importer, sheets
from .forms import UploadForm


def _page(form: UploadForm, *, status_code: int = 200, **context):
    """The import page with what the last upload gave (an error, problems, a preview)."""
    context.setdefault("refused", None)
    context.setdefault("plan", None)
    return render("golive/index.html", form=form, kinds=sheets.KINDS, note_of=sheets.note_of, name_of=sheets.name_of, display=importer.display,
                  units=sheets.STANDARD_UNITS, limits={"rows": importer.MAX_ROWS,
                                                       "mb": importer.MAX_BYTES // (1024 * 1024)}, max_problems=importer.MAX_PROBLEMS,
                  status_code=status_code, **context)


@bp.get("/")
@login_required
@requires("golive.import")
def index():
    """The templates, their columns, and the upload form."""
    return _page(UploadForm())


@bp.get("/template.xlsx")
@login_required
@requires("golive.import")
def template():
    """The going-live template: a sheet per kind with its bilingual header and an example row, and notes."""
    return xlsx_response(sheets.template_bytes(), "上线导入模板 going-live-template.xlsx")


@bp.get("/sample.xlsx")
@login_required
@requires("golive.import")
def sample():
    """A filled-in sample to try the import with: a small firm's records that any database takes once."""
    return xlsx_response(sheets.sample_bytes(), "上线导入示例 going-live-sample.xlsx")


@bp.post("/")
@login_required
@requires("golive.import")
def upload():
    """Check an uploaded workbook; show its problems, or (a dry run) what it would create, or import it
    whole in this request's one transaction."""
    form = UploadForm()
    if not form.validate_on_submit():
        return _page(form, refused=_("The form expired; choose the file again."), status_code=400)
    upload_file = request.files.get(form.file.name)
    if upload_file is None or not upload_file.filename:
        return _page(form, refused=_("Choose a file."), status_code=422)
    upload_file.stream.seek(0)  # on SQLite the write phase runs this view again over the same upload
    data = upload_file.stream.read(importer.MAX_BYTES + 1)
    if form.mode.data == "import":
        importer.lock_imports()  # checked against what an import that ran at the same time saved
    try:
        plan = importer.read(data)
    except importer.ImportRefused as refused:
        return _page(form, refused=str(refused), status_code=422)
    if not plan.clean:
        return _page(form, plan=plan, preview=importer.preview(plan), status_code=422)
    if form.mode.data != "import":
        return _page(form, plan=plan, preview=importer.preview(plan), dry_run=True)
    try:
        counts = importer.run_import(plan, current_user)
    except TransitionError as error:
        db.session.rollback()
        return _page(form, refused=error.translated(), status_code=error.status)
    flash(_("Imported: %(customers)s customers, %(products)s products, %(materials)s materials, %(boms)s bills of "
            "materials, %(stock)s lots of stock, %(orders)s orders.", **counts))
    return see_other(url_for("golive.index"))
