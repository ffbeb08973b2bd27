"""Service projects: staff's pages (new project, deliverables, progress, rework) and the customer's
acceptance page behind their link, with its read-only copy once everything is accepted."""
from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from .. import links, uploads
from ..customers import Customer, scope_customers
from ..extensions import db
from ..forms import options
from ..htmx import render, see_other
from ..loading import load
from ..orders import Order
from ..permissions import can, requires
from ..photos import photos_of
from ..public import copies
from ..signatures import SignatureError
from ..statemachine import N_, TransitionError
from ..uploads import UploadError
from . import bp, lifecycle, services
from .forms import AcceptanceForm, HandOverForm, ProgressForm, ProjectForm
from .models import Deliverable, DeliverableFile, DeliverableReport

MAX_COMMENT = 2000


def _customer_choices(form: ProjectForm) -> None:
    form.customer_id.choices = options((0, "—"), *[
        (c.id, c.name) for c in db.session.scalars(db.select(Customer).where(
            scope_customers(current_user, Customer.id)).order_by(Customer.name).limit(500))])


def _rows(form: ProjectForm) -> list[dict] | None:
    """The deliverables typed on the form (blank rows left out), or None with errors on the rows."""
    rows, ok = [], True
    for entry in form.rows:
        row = entry.form
        if not row.title.data:
            if row.price.raw or row.milestones.data:
                row.title.errors = [_("Name the deliverable.")]
                ok = False
            continue
        milestones = [(line.strip()[:200], None) for line in (row.milestones.data or "").splitlines() if line.strip()]
        rows.append({"title": row.title.data, "due_date": row.due_date.data, "price": row.price.data,
                     "milestones": milestones})
    if ok and not rows:
        form.rows[0].form.title.errors = [_("Add at least one deliverable.")]
        ok = False
    return rows if ok else None


@bp.route("/projects/new", methods=["GET", "POST"])
@login_required
@requires("project.manage")
def new():
    """Start a service project: the customer, the end date and the deliverables with their milestones."""
    form = ProjectForm()
    _customer_choices(form)
    if form.validate_on_submit():
        customer = db.session.get(Customer, form.customer_id.data or 0)
        rows = _rows(form)
        if customer is None:
            form.customer_id.errors = [_("Choose a customer.")]
        elif rows is not None:
            order = services.create_project(customer, current_user, delivery_date=form.delivery_date.data,
                                            customer_po=form.customer_po.data or "", notes=form.notes.data or "",
                                            deliverables=rows)
            flash(_("Project saved as a draft order. Submit it for review on the order page."))
            return see_other(url_for("orders.detail", order_id=order.id))
    return render("projects/new.html", form=form, status_code=422 if request.method == "POST" else 200)


def get_project(order_id: int, action: str = "project.view") -> Order:
    """The project (an order of kind "project") for the current user doing action: 404 for any other order."""
    order = load(Order, order_id, action)
    if order.kind != "project":
        abort(404)
    return order


def _page(order: Order, status: int = 200, **forms):
    deliverables = services.deliverables_of(order.id)
    reports = [r for d in deliverables for r in d.reports]
    manage = can(current_user, "project.manage")
    return render("projects/detail.html", order=order, deliverables=deliverables,
                  photos=photos_of("deliverable_report", [r.id for r in reports]),
                  rework=services.rework_cases(order.id), acceptances=services.acceptances(order.id),
                  link=links.current("project_acceptance", order.id), manage=manage,
                  progress_forms={d.id: forms.get(f"progress_{d.id}") or _progress_form(d) for d in deliverables},
                  hand_over_forms={d.id: forms.get(f"hand_over_{d.id}") or HandOverForm(prefix=f"h{d.id}")
                                   for d in deliverables},
                  labels=lifecycle.STATE_LABELS, status_code=status)


def _progress_form(deliverable: Deliverable, formdata=None) -> ProgressForm:
    form = ProgressForm(prefix=f"p{deliverable.id}", formdata=formdata) if formdata is not None else \
        ProgressForm(prefix=f"p{deliverable.id}", formdata=None, percent=deliverable.progress_pct)
    form.milestone_id.choices = options((0, "—"), *[(m.id, m.title) for m in deliverable.milestones])
    return form


@bp.get("/projects/<int:order_id>")
@login_required
def detail(order_id: int):
    """Show a project's deliverables: progress, milestones, the customer's decisions and rework."""
    return _page(get_project(order_id))


def _deliverable(order: Order, deliverable_id: int) -> Deliverable:
    deliverable = db.session.get(Deliverable, deliverable_id)
    if deliverable is None or deliverable.order_id != order.id:
        abort(404)
    return deliverable


@bp.post("/projects/<int:order_id>/deliverables/<int:deliverable_id>/progress")
@login_required
@requires("project.manage")
def progress(order_id: int, deliverable_id: int):
    """Report a deliverable's progress (percent, note, photos or scans; a milestone at 100 % is done)."""
    order = get_project(order_id, "project.manage")
    deliverable = _deliverable(order, deliverable_id)
    form = _progress_form(deliverable, request.form)
    if not form.validate_on_submit():
        return _page(order, 422, **{f"progress_{deliverable.id}": form})
    milestone = next((m for m in deliverable.milestones if m.id == form.milestone_id.data), None)
    try:
        services.report_progress(deliverable, form.percent.data, form.note.data or "",
                                 request.files.getlist(form.photos.name), current_user, milestone,
                                 documents=request.files.getlist(form.documents.name))
    except UploadError as error:
        db.session.rollback()
        form.photos.errors = [str(error)]
        return _page(get_project(order_id), 422, **{f"progress_{deliverable_id}": form})
    flash(_("Progress saved."))
    return see_other(url_for("projects.detail", order_id=order.id, _anchor=f"deliverable-{deliverable.id}"))


@bp.post("/projects/<int:order_id>/deliverables/<int:deliverable_id>/hand-over")
@login_required
@requires("project.manage")
def hand_over(order_id: int, deliverable_id: int):
    """The rework of a rejected deliverable is done: it awaits the customer's acceptance again."""
    order = get_project(order_id, "project.manage")
    deliverable = _deliverable(order, deliverable_id)
    form = HandOverForm(prefix=f"h{deliverable.id}")
    if not form.validate_on_submit():
        return _page(order, 422, **{f"hand_over_{deliverable.id}": form})
    services.hand_over(deliverable, current_user, form.note.data.strip())
    flash(_("Handed over: the customer can accept it on the same link."))
    return see_other(url_for("projects.detail", order_id=order.id, _anchor=f"deliverable-{deliverable.id}"))


@bp.post("/projects/<int:order_id>/acceptance-link")
@login_required
@requires("project.manage")
def acceptance_link(order_id: int):
    """Send the customer a new acceptance link (or withdraw it)."""
    order = get_project(order_id, "project.manage")
    if request.form.get("revoke"):
        links.revoke_all("project_acceptance", order.id)
        flash(_("Link withdrawn."))
    else:
        services.send_acceptance_link(order, current_user)
        flash(_("Acceptance link ready: send it to the customer."))
    return see_other(url_for("projects.detail", order_id=order.id, _anchor="acceptance-link"))


def _send(document: DeliverableFile):
    """A handed-over document, always as a download (never rendered inline)."""
    return uploads.send_stored(document.stored_name, mimetype=document.content_type, as_attachment=True,
                     download_name=document.filename)


def _file_of(order_id: int, file_id: int) -> DeliverableFile:
    """A document of this project's deliverables (404 for any other)."""
    row = db.session.execute(db.select(DeliverableFile, Deliverable.order_id)
                             .join(DeliverableReport, DeliverableReport.id == DeliverableFile.report_id)
                             .join(Deliverable, Deliverable.id == DeliverableReport.deliverable_id)
                             .where(DeliverableFile.id == file_id)).first()
    if row is None or row[1] != order_id:
        abort(404)
    return row[0]


@bp.get("/projects/<int:order_id>/files/<int:file_id>")
@login_required
def document(order_id: int, file_id: int):
    """Download a document handed over with a progress report."""
    order = get_project(order_id)
    return _send(_file_of(order.id, file_id))


@bp.get("/c/<token>/deliverable-files/<int:file_id>")
def customer_document(token: str, file_id: int):
    """The customer downloads a handed-over document from their acceptance link (live or used)."""
    link = links.find(token)
    if not copies.link_keeps_copy(link, "project_acceptance"):
        abort(404)
    return _send(_file_of(link.object_id, file_id))


# --- the customer's acceptance --------------------------------------------------------------------

def acceptance_page(link, form=None, status=200, decisions=None, errors=None):
    """The customer's acceptance page: each deliverable awaiting acceptance with accept / reject and a
    comment, the ones already decided, their name, the consent and their signature."""
    order = db.session.get(Order, link.object_id)
    if order is None or order.kind != "project":
        abort(404)
    if order.status != "effective":
        return acceptance_copy(link) if services.acceptances(order.id) else abort(404)
    return render("projects/accept.html", link=link, order=order, form=form or AcceptanceForm(),
                  deliverables=services.deliverables_of(order.id), decisions=decisions or {}, errors=errors or {},
                  consent=services.acceptance_consent_text(), labels=lifecycle.STATE_LABELS,
                  rework={c.deliverable_id: c for c in services.rework_cases(order.id) if c.status == "open"},
                  status_code=status)


@bp.post("/c/<token>/accept")
def accept(token: str):
    """Record the customer's signed decisions; a rejection needs a comment and opens a rework case;
    everything accepted delivers the project. Sent again after that, it changes nothing."""
    copies.refuse_second_submission(token, ("project_acceptance",),
                                    _("Every deliverable is already accepted. Nothing was changed; here is what you signed."))
    link = links.resolve(token)
    if link.purpose != "project_acceptance":
        abort(404)
    order = load(Order, link.object_id, None)  # locked: two phones deciding at once see each other
    if order.kind != "project":
        abort(404)
    if order.status != "effective":
        raise TransitionError(409, N_("Every deliverable of this project is already accepted."))
    form = AcceptanceForm()
    valid = form.validate_on_submit()
    decisions, typed, errors = {}, {}, {}
    for deliverable in services.deliverables_of(order.id):
        choice = request.form.get(f"decision-{deliverable.id}", "")
        comment = (request.form.get(f"comment-{deliverable.id}", "") or "").strip()[:MAX_COMMENT]
        typed[deliverable.id] = (choice, comment)
        if choice not in ("accept", "reject"):
            continue
        if deliverable.status != "open":
            errors[deliverable.id] = (_("This deliverable has already been accepted.") if deliverable.status == "accepted"
                                      else _("This deliverable is being reworked."))
            continue
        if choice == "reject" and not comment:
            errors[deliverable.id] = _("Say what is wrong when you reject it.")
            continue
        decisions[deliverable.id] = (choice, comment)
    if valid and not form.strokes.data:
        form.strokes.errors = [_("Sign in the box.")]
        valid = False
    if valid and not decisions and not errors:
        form.name.errors = [_("Accept or reject at least one deliverable.")]
        valid = False
    if not valid or errors:
        status = 409 if any(d.status == "accepted" for d in services.deliverables_of(order.id) if d.id in errors) else 422
        return acceptance_page(link, form, status, typed, errors)
    try:
        acceptance = services.decide(order, link, decisions, form.name.data.strip(), form.strokes.data,
                                     request.remote_addr or "", request.user_agent.string or "")
    except SignatureError:
        db.session.rollback()
        form.strokes.errors = [_("The signature could not be read. Clear the box and sign again.")]
        return acceptance_page(links.resolve(token), form, 422, typed)
    except TransitionError as error:
        db.session.rollback()
        flash(error.translated())
        return see_other(url_for("public.open_link", token=token))
    rejected = [d for d in acceptance.decisions if d.decision == "reject"]
    if order.status == "delivered":
        flash(_("Thank you: every deliverable is accepted. Your signed copy is below."), "thanks")
    elif rejected:
        flash(_("Thank you. We rework what you rejected within %(rule)s and tell you when it is ready.",
                rule=services.REWORK.rule()))
    else:
        flash(_("Thank you: your acceptance is recorded."))
    return see_other(url_for("public.open_link", token=token))


@bp.app_template_global()
def acceptance_copy_url(token: str | None) -> str | None:
    """Where the PDF copy of a customer's signed acceptance downloads from, while there is one."""
    acceptance = services.acceptance_for(token) if token else None
    if acceptance is None or not copies.within_retention(acceptance.signed_at):
        return None
    return url_for("projects.acceptance_copy_pdf", token=token)


def acceptance_copy(link, thanks: str | None = None):
    """The read-only copy of what the customer accepted, with the PDF download."""
    order = db.session.get(Order, link.object_id)
    signed = services.acceptances(order.id) if order is not None else []
    if not signed:
        abort(404)
    return copies.render_copy("projects/accept_copy.html", link, signed[-1].signed_at, order.sales_rep, thanks,
                              order=order, acceptances=signed, svgs={a.id: Markup(a.signature_svg) for a in signed}, deliverables=services.deliverables_of(order.id),
                              labels=lifecycle.STATE_LABELS)
