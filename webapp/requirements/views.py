"""Staff pages for requirement records."""
from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload

from .. import audit, links, registry, uploads
from ..customers import Customer
from ..extensions import db
from ..forms import options
from ..paging import keyset_page
from ..inputs import row_id
from ..htmx import flashed_notes, is_partial, note, render, see_other
from ..loading import load
from ..customers import scope_customers, visible
from ..permissions import requires
from ..statemachine import N_
from ..customers import Product
from . import bp, lifecycle, services
from . import work as _work  # noqa: F401  (registers this domain's My work items)
from .forms import AttachmentForm, RequirementForm
from .models import Attachment, Requirement


def get_requirement(req_id: int, action: str = "requirement.view", **rules) -> Requirement:
    """The requirement for the current user doing action (404/403/409 otherwise; writers lock it)."""
    return load(Requirement, req_id, action, options=(
        joinedload(Requirement.customer), selectinload(Requirement.rounds),
        selectinload(Requirement.attachments)), **rules)


def _fill_choices(form: RequirementForm) -> None:
    form.customer_id.choices = options((0, "—"), *[
        (c.id, f"{c.name} ({c.abbreviation})")
        for c in db.session.scalars(db.select(Customer).where(scope_customers(current_user, Customer.id))
                                    .order_by(Customer.name))])
    form.product_id.choices = options((0, "—"), *[
        (p.id, f"{p.model} · {p.name}") for p in db.session.scalars(db.select(Product).order_by(Product.model))])


@bp.get("/")
@login_required
@requires("requirement.view")
def index():
    """List requirement records, newest first, optionally by status."""
    return list_page()


def list_page(export_error: str | None = None, status_code: int = 200):
    """The list page; with the reason a period download was refused above its download form."""
    status = request.args.get("status")
    query = (db.select(Requirement).options(joinedload(Requirement.customer))
             .where(scope_customers(current_user, Requirement.customer_id)))
    if status in lifecycle.STATES:
        query = query.where(Requirement.status == status)
    page = keyset_page(query, Requirement, Requirement.created_at, descending=True)
    return render("requirements/index.html", requirements=page.rows, next_after=page.next_after, status=status,
                  states=lifecycle.STATES, export_error=export_error, status_code=status_code)


@bp.route("/new", methods=["GET", "POST"])
@login_required
@requires("requirement.create")
def create():
    """Write down a new requirement record."""
    form = RequirementForm()
    _fill_choices(form)
    if request.method == "GET" and request.args.get("customer_id", type=row_id):
        form.customer_id.data = request.args.get("customer_id", type=row_id)
    if form.validate_on_submit():
        customer = db.session.get(Customer, form.customer_id.data)
        if customer is None or not visible(current_user, customer):
            form.customer_id.errors.append(_("Choose a customer."))
        else:
            services.fill_from_catalogue(form)
            requirement = services.create(form, customer, current_user)
            flash(_("Requirement saved as a draft."))
            return see_other(url_for("requirements.detail", req_id=requirement.id))
    return render("requirements/edit.html", form=form, requirement=None,
                  status_code=422 if form.errors else 200)


@bp.get("/product-fields")
@login_required
@requires("requirement.create")
def product_fields():
    """The product fields with the picked catalogue product's name and unit filled in (htmx swaps
    them in when the catalogue product changes); a full request gets the new-record page so filled."""
    form = RequirementForm(formdata=request.args)
    _fill_choices(form)
    if form.product_id.data not in {choice[0] for choice in form.product_id.iter_choices()}:
        form.product_id.data = 0
    unit_filled = services.fill_from_catalogue(form, replace_pick=True)
    return render("requirements/edit.html", "product_fields", form=form, requirement=None, unit_filled=unit_filled)


@bp.route("/<int:req_id>/edit", methods=["GET", "POST"])
@login_required
def edit(req_id: int):
    """Edit a draft record, or one the customer asked to clarify."""
    requirement = get_requirement(req_id, "requirement.edit")
    form = RequirementForm(obj=requirement)
    _fill_choices(form)
    if request.method == "GET":
        form.product_id.data = requirement.product_id or 0
    if form.validate_on_submit():
        customer = db.session.get(Customer, form.customer_id.data)
        if customer is None or not visible(current_user, customer):
            form.customer_id.errors.append(_("Choose a customer."))
        else:
            services.fill_from_catalogue(form)
            services.edit(requirement, form, customer, current_user)
            flash(_("Requirement saved."))
            return see_other(url_for("requirements.detail", req_id=requirement.id))
    return render("requirements/edit.html", form=form, requirement=requirement,
                  status_code=422 if form.errors else 200)


@bp.get("/<int:req_id>")
@login_required
def detail(req_id: int):
    """Show the record, its rounds with the customer, attachments and the customer link."""
    requirement = get_requirement(req_id)
    return _page(requirement, notes=flashed_notes())


def _page(requirement: Requirement, block: str | None = None, *, status_code: int = 200, notes=(),
          attachment_form: AttachmentForm | None = None):
    """The requirement page (or one of its blocks for htmx) with notes beside the actions."""
    link = links.current("requirement_confirm", requirement.id)
    # What later stages add (the orders stage: the orders made from it, `orders`).
    return render("requirements/detail.html", block, status_code=status_code, requirement=requirement,
                  link=link, attachment_form=attachment_form or AttachmentForm(formdata=None),
                  notes=list(notes), **registry.page_context("requirement", requirement))


@bp.post("/<int:req_id>/send")
@login_required
def send(req_id: int):
    """Send the record to the customer (e-mail, link to copy, QR)."""
    requirement = get_requirement(req_id)
    services.send(requirement, current_user)
    flash(_("Sent. Copy the link below into WeChat or SMS, or show the QR code."))
    return see_other(url_for("requirements.detail", req_id=requirement.id))


@bp.post("/<int:req_id>/link")
@login_required
@requires("link.manage")
def renew_link(req_id: int):
    """Replace a lost or expired customer link (the old one stops working), or withdraw it."""
    requirement = get_requirement(req_id, states=("sent",),
                                  refusal=N_("This requirement is not in a state that allows this."))
    revoke = bool(request.form.get("revoke"))
    services.renew_link(requirement, current_user, revoke=revoke)
    if revoke:
        flash(_("The link is withdrawn. Make a new one to send it again."))
    else:
        flash(_("A new link is ready; the old one no longer works."))
    return see_other(url_for("requirements.detail", req_id=requirement.id))


@bp.post("/<int:req_id>/cancel")
@login_required
def cancel(req_id: int):
    """Cancel the requirement with a reason."""
    requirement = get_requirement(req_id)
    reason = request.form.get("reason", "").strip()[:1000]
    if not reason:
        return _page(requirement, status_code=422, notes=[note("cancel", _("Give a reason for cancelling."), "error")])
    services.cancel(requirement, current_user, reason)
    flash(_("Requirement cancelled."))
    return see_other(url_for("requirements.detail", req_id=requirement.id))


@bp.post("/<int:req_id>/attachments")
@login_required
def upload(req_id: int):
    """Attach a drawing or document (a new revision when the title exists)."""
    requirement = get_requirement(req_id, "requirement.edit")
    form = AttachmentForm()
    if form.validate_on_submit():
        try:
            stored = uploads.store(form.file.data) if form.file.data else None
            if stored is None:
                raise uploads.UploadError(_("Choose a file."))
        except uploads.UploadError as error:
            form.file.errors = [str(error)]
        else:
            attachment = services.add_attachment(requirement, form.title.data.strip(), stored, current_user)
            message = _("Saved: %(file)s attached as “%(title)s”, revision %(n)s",
                        file=attachment.filename, title=attachment.title, n=attachment.revision)
            if is_partial():
                db.session.flush()
                db.session.refresh(requirement)  # the attachments as saved, the new one among them
                return _page(requirement, "attachments", notes=[note("attachments", message)])
            flash(message, "done:attachments")
            return see_other(url_for("requirements.detail", req_id=requirement.id, _anchor="panel-note"))
    return _page(requirement, "attachments", status_code=422, attachment_form=form,
                 notes=[note("attachments", _("Not saved: check the fields marked below."), "error")])


@bp.get("/attachments/<int:attachment_id>")
@login_required
def download(attachment_id: int):
    """Download an attachment (always as a file, never rendered inline)."""
    attachment = load(Attachment, attachment_id, "requirement.view")
    return send_attachment(attachment)


def send_attachment(attachment: Attachment):
    """Send a stored attachment as a download."""
    return uploads.send_stored(attachment.stored_name, mimetype=attachment.content_type,
                     as_attachment=True, download_name=attachment.filename)


@bp.get("/<int:req_id>/timeline")
@login_required
def timeline(req_id: int):
    """Show everything that happened to the requirement, from the audit trail."""
    requirement = get_requirement(req_id)
    from ..timeline import entries_for
    return render("main/timeline.html", subject=requirement, entries=entries_for(audit.timeline("requirement", req_id)),
                  back=url_for("requirements.detail", req_id=req_id),
                  title=_("Requirement #%(id)s", id=req_id))
