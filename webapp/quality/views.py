"""Quality pages: what waits for inspection, the inspect page (phone and tablet), decisions and
failures, plans, first articles sent to the customer, and the printable inspection report of an order."""
from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_
from sqlalchemy.orm import joinedload, selectinload

from .. import links
from ..customers import Customer, Product
from ..extensions import db
from ..forms import options
from ..htmx import render, see_other
from ..loading import load
from ..customers import scope_customers
from ..orders import Order, scope_orders
from ..permissions import requires
from ..photos import photos_of, save_photos
from ..production import WorkOrder
from ..statemachine import N_, TransitionError
from ..stock import Lot, Material
from ..uploads import UploadError
from . import bp, services
from . import work as _work  # noqa: F401  (registers this domain's My work items)
from .forms import (DecisionForm, DefectsForm, DispositionForm, FirstArticleForm, PhotosForm, PlanForm, PlanItemForm,
                    StartWorkOrderForm)
from .models import FirstArticle, Inspection, InspectionPlan, InspectionValue, PlanItem

RECENT = 20


@bp.get("/")
@login_required
@requires("quality.view")
def index():
    """What waits for inspection (lots in quarantine, work orders waiting for QC, failures not dealt
    with, first articles with the customer) and the latest results."""
    lots = db.session.scalars(db.select(Lot).where(Lot.status == "quarantine").options(joinedload(Lot.material))
                              .order_by(Lot.created_at, Lot.id).limit(100)).all()
    work_orders = db.session.scalars(
        db.select(WorkOrder).where(WorkOrder.status == "qc", scope_orders(current_user, WorkOrder.order_id))
        .options(joinedload(WorkOrder.order).joinedload(Order.customer), joinedload(WorkOrder.line))
        .order_by(WorkOrder.actual_qc, WorkOrder.id).limit(100)).all()
    in_progress = db.session.scalars(
        db.select(WorkOrder).where(WorkOrder.status == "in_progress", scope_orders(current_user, WorkOrder.order_id))
        .options(joinedload(WorkOrder.order).joinedload(Order.customer), joinedload(WorkOrder.line))
        .order_by(WorkOrder.actual_start, WorkOrder.id).limit(50)).all()
    # An inspection of a work order is its order's customer's; a lot's is nobody's (sales scope).
    in_scope = or_(Inspection.order_id.is_(None), scope_orders(current_user, Inspection.order_id))
    holding = db.session.scalars(db.select(Inspection).where(Inspection.result == "fail",
                                                             Inspection.resolved_at.is_(None), in_scope)
                                 .order_by(Inspection.decided_at, Inspection.id).limit(100)).all()
    pending = db.session.scalars(db.select(Inspection).where(Inspection.result == "pending", in_scope)
                                 .order_by(Inspection.created_at, Inspection.id).limit(100)).all()
    articles = db.session.scalars(db.select(FirstArticle).where(FirstArticle.status.in_(("waiting", "sent")),
                                                                scope_orders(current_user, FirstArticle.order_id))
                                  .options(joinedload(FirstArticle.order)).order_by(FirstArticle.id).limit(100)).all()
    recent = db.session.scalars(db.select(Inspection).where(Inspection.result != "pending", in_scope)
                                .options(joinedload(Inspection.inspector))
                                .order_by(Inspection.decided_at.desc(), Inspection.id.desc()).limit(RECENT)).all()
    return render("quality/index.html", lots=lots, work_orders=work_orders, holding=holding, pending=pending,
                  articles=articles, recent=recent, in_progress=in_progress, start_form=StartWorkOrderForm())


@bp.post("/lots/<int:lot_id>/inspect")
@login_required
def start_lot(lot_id: int):
    """Start (or go back to) the incoming inspection of a lot waiting in quarantine."""
    lot = load(Lot, lot_id, "quality.inspect")
    inspection = services.start_incoming(lot, current_user)
    return see_other(url_for("quality.inspect", inspection_id=inspection.id))


@bp.post("/wo/<int:work_order_id>/inspect")
@login_required
def start_work_order(work_order_id: int):
    """Start (or go back to) the final or in-process inspection of a work order."""
    work_order = load(WorkOrder, work_order_id, "quality.inspect")
    form = StartWorkOrderForm()
    stage = form.stage.data if form.validate_on_submit() else "final"
    inspection = services.start_work_order(work_order, stage, current_user)
    return see_other(url_for("quality.inspect", inspection_id=inspection.id))


def _inspection(inspection_id: int, action: str) -> Inspection:
    return load(Inspection, inspection_id, action, options=(
        selectinload(Inspection.values).joinedload(InspectionValue.item), joinedload(Inspection.plan),
        joinedload(Inspection.lot), joinedload(Inspection.inspector)))


def _subject(inspection: Inspection) -> dict:
    """What was inspected, for the page: the lot or the work order and its order."""
    work_order = db.session.get(WorkOrder, inspection.work_order_id) if inspection.work_order_id else None
    article = db.session.scalar(db.select(FirstArticle).where(FirstArticle.inspection_id == inspection.id))
    return {"work_order": work_order, "article": article,
            "sample": services.describe_sample(inspection)}


def _inspect_page(inspection, status=200, defects_form=None, decision_form=None, disposition_form=None,
                  typed=None, errors=None):
    return render("quality/inspect.html", inspection=inspection, status_code=status,
                  defects_form=defects_form or DefectsForm(defects=inspection.defects),
                  decision_form=decision_form or DecisionForm(),
                  disposition_form=disposition_form or DispositionForm().set_choices(inspection.stage),
                  typed=typed or {}, errors=errors or {}, **_subject(inspection))


@bp.route("/inspections/<int:inspection_id>", methods=["GET", "POST"])
@login_required
def inspect(inspection_id: int):
    """The inspect page: one row per check (a number against its limits, or ok / not ok), the number
    of defective pieces, then the decision. POST keeps what was measured."""
    if request.method == "GET":
        return _inspect_page(_inspection(inspection_id, "quality.view"))
    inspection = _inspection(inspection_id, "quality.inspect")
    form = DefectsForm()
    readings, typed = {}, {}
    for row in inspection.values:
        value = request.form.get(f"value-{row.id}", "")[:100]
        typed[row.id] = value
        readings[row.id] = services.Reading(value=value, ok=request.form.get(f"ok-{row.id}", "1") != "0",
                                            note=request.form.get(f"note-{row.id}", "")[:2000])
    if not form.validate_on_submit():
        return _inspect_page(inspection, 422, defects_form=form, typed=typed)
    try:
        services.record(inspection, current_user, readings, form.defects.data)
    except services.ReadingErrors as error:
        return _inspect_page(inspection, 422, defects_form=form, typed=typed, errors=error.errors)
    flash(_("Values saved."))
    return see_other(url_for("quality.inspect", inspection_id=inspection.id) + "#decide")


@bp.post("/inspections/<int:inspection_id>/decide")
@login_required
def decide(inspection_id: int):
    """Pass, release with a condition, or fail (a failure may deal with its rejected pieces at once)."""
    inspection = _inspection(inspection_id, "quality.inspect")
    form = DecisionForm()
    if not form.validate_on_submit():
        return _inspect_page(inspection, 422, decision_form=form)
    services.decide(inspection, form.decision.data, current_user, form.note.data or "")
    flash({"pass": _("Inspection passed."), "conditional": _("Released with a condition."),
           "fail": _("Inspection failed: say what happens to the rejected pieces.")}[form.decision.data])
    return see_other(url_for("quality.inspect", inspection_id=inspection.id) + "#decide")


@bp.post("/inspections/<int:inspection_id>/dispose")
@login_required
def dispose(inspection_id: int):
    """What happens to a failure's rejected pieces (scrap, rework, return, use as is): resolves it."""
    inspection = _inspection(inspection_id, "quality.inspect")
    form = DispositionForm().set_choices(inspection.stage)
    if not form.validate_on_submit():
        return _inspect_page(inspection, 422, disposition_form=form)
    services.dispose(inspection, current_user, form.quantity.data, form.disposition.data, form.reason.data)
    flash(_("Recorded: the failure is resolved."))
    return see_other(url_for("quality.inspect", inspection_id=inspection.id))


# --- Plans -----------------------------------------------------------------------------------------

def _plan_choices(form: PlanForm) -> PlanForm:
    none = (0, "—")
    form.product_id.choices = options(none, *[(p.id, f"{p.model} · {p.name}") for p in db.session.scalars(
        db.select(Product).order_by(Product.model).limit(1000))])
    form.material_id.choices = options(none, *[(m.id, f"{m.code} · {m.name}") for m in db.session.scalars(
        db.select(Material).where(Material.active.is_(True)).order_by(Material.code).limit(1000))])
    form.customer_id.choices = options(none, *[(c.id, c.name) for c in db.session.scalars(
        db.select(Customer).order_by(Customer.name).limit(1000))])
    return form


@bp.get("/plans")
@login_required
@requires("quality.view")
def plans():
    """Inspection plans: stage, what for, and how many pieces they sample."""
    # A customer's own plan (their quality standard) is that customer's (sales scope).
    in_scope = or_(InspectionPlan.customer_id.is_(None), scope_customers(current_user, InspectionPlan.customer_id))
    rows = db.session.scalars(db.select(InspectionPlan).where(in_scope).options(
        joinedload(InspectionPlan.product), joinedload(InspectionPlan.material), joinedload(InspectionPlan.customer),
        selectinload(InspectionPlan.items)).order_by(InspectionPlan.stage, InspectionPlan.name, InspectionPlan.id)
        .limit(500)).all()
    return render("quality/plans.html", plans=rows)


@bp.route("/plans/new", methods=["GET", "POST"])
@login_required
@requires("quality.plan")
def new_plan():
    """A new inspection plan (its checks are added on its page)."""
    form = _plan_choices(PlanForm())
    if form.validate_on_submit():
        plan = InspectionPlan()
        _fill_plan(plan, form)
        db.session.add(plan)
        db.session.flush()
        flash(_("Plan saved. Add its checks."))
        return see_other(url_for("quality.plan", plan_id=plan.id))
    return render("quality/plan.html", plan=None, form=form, item_form=None,
                  status_code=422 if request.method == "POST" else 200)


def _fill_plan(plan: InspectionPlan, form: PlanForm) -> None:
    plan.name, plan.stage, plan.sampling = form.name.data.strip(), form.stage.data, form.sampling.data
    plan.product_id = form.product_id.data or None
    plan.material_id = form.material_id.data or None
    plan.customer_id = form.customer_id.data or None
    plan.aql, plan.fixed_count = form.aql.data, form.fixed_count.data or 5
    plan.standard, plan.active = form.standard.data or "", bool(form.active.data)


@bp.route("/plans/<int:plan_id>", methods=["GET", "POST"])
@login_required
def plan(plan_id: int):
    """A plan's page: what it is for, its sampling rule and its checks."""
    writing = request.method == "POST"
    plan = load(InspectionPlan, plan_id, "quality.plan" if writing else "quality.view")
    form = _plan_choices(PlanForm(obj=plan) if not writing else PlanForm())
    if request.method == "GET":
        form.product_id.data, form.material_id.data = plan.product_id or 0, plan.material_id or 0
        form.customer_id.data = plan.customer_id or 0
    elif form.validate_on_submit():
        _fill_plan(plan, form)
        flash(_("Plan saved."))
        return see_other(url_for("quality.plan", plan_id=plan.id))
    return render("quality/plan.html", plan=plan, form=form, item_form=PlanItemForm(prefix="item"),
                  status_code=422 if writing else 200)


@bp.post("/plans/<int:plan_id>/items")
@login_required
def add_item(plan_id: int):
    """Add a check to a plan: a measurement with limits, or a look."""
    plan = load(InspectionPlan, plan_id, "quality.plan")
    item_form = PlanItemForm(prefix="item")
    if not item_form.validate_on_submit():
        form = _plan_choices(PlanForm(obj=plan))
        form.product_id.data, form.material_id.data = plan.product_id or 0, plan.material_id or 0
        form.customer_id.data = plan.customer_id or 0
        return render("quality/plan.html", plan=plan, form=form, item_form=item_form, status_code=422)
    db.session.add(PlanItem(plan=plan, position=len(plan.items) + 1, name=item_form.name.data.strip(),
                            method=(item_form.method.data or "").strip(), lower=item_form.lower.data,
                            upper=item_form.upper.data, unit=(item_form.unit.data or "").strip()))
    flash(_("Check added."))
    return see_other(url_for("quality.plan", plan_id=plan.id) + "#items")


@bp.post("/plans/<int:plan_id>/items/<int:item_id>/delete")
@login_required
def delete_item(plan_id: int, item_id: int):
    """Take a check off a plan (inspections already made keep what they recorded)."""
    plan = load(InspectionPlan, plan_id, "quality.plan")
    item = load(PlanItem, item_id, "quality.plan")
    if item.plan_id != plan.id:
        return see_other(url_for("quality.plan", plan_id=plan.id))
    for value in db.session.scalars(db.select(InspectionValue).where(InspectionValue.item_id == item.id)):
        value.item_id = None  # the value keeps the check's name
    plan.items.remove(item)
    flash(_("Check removed."))
    return see_other(url_for("quality.plan", plan_id=plan.id) + "#items")


# --- First articles --------------------------------------------------------------------------------

@bp.post("/wo/<int:work_order_id>/first-article")
@login_required
def start_first_article(work_order_id: int):
    """Start a first article (or sample) of a work order: inspect it, add photos, send it."""
    work_order = load(WorkOrder, work_order_id, "quality.inspect")
    form = FirstArticleForm()
    form.validate_on_submit()
    article = services.start_first_article(work_order, current_user, form.kind.data or "first_piece",
                                           (form.note.data or "").strip())
    return see_other(url_for("quality.first_article", article_id=article.id))


@bp.get("/first-articles/<int:article_id>")
@login_required
def first_article(article_id: int):
    """A first article: its inspection, photos, the customer's link and their decision."""
    article = load(FirstArticle, article_id, "quality.view", options=(joinedload(FirstArticle.order),))
    return render("quality/first_article.html", article=article, inspection=article.inspection,
                  photos=photos_of("first_article", [article.id])[article.id], photos_form=PhotosForm(),
                  link=links.current("first_article", article.id))


@bp.post("/first-articles/<int:article_id>/photos")
@login_required
def first_article_photos(article_id: int):
    """Add photos of the first article (before it goes to the customer)."""
    article = load(FirstArticle, article_id, "quality.inspect")
    if article.status not in ("waiting", "sent"):
        raise TransitionError(409, N_("The customer has already decided on this first article."))
    try:
        save_photos(request.files.getlist("photos"), "first_article", article.id, current_user)
    except UploadError as error:
        flash(str(error), "error")
        return see_other(url_for("quality.first_article", article_id=article.id))
    flash(_("Photos added."))
    return see_other(url_for("quality.first_article", article_id=article.id))


@bp.post("/first-articles/<int:article_id>/send")
@login_required
def send_first_article(article_id: int):
    """Send the first article to the customer (a new link each time; the earlier one stops working)."""
    article = load(FirstArticle, article_id, "quality.inspect")
    services.send_first_article(article, current_user)
    flash(_("Sent to the customer. Copy the link into WeChat or let them scan the QR code."))
    return see_other(url_for("quality.first_article", article_id=article.id))


# --- The order's inspection report -----------------------------------------------------------------

@bp.get("/orders/<int:order_id>/report")
@login_required
def report(order_id: int):
    """The printable inspection report of an order: every final inspection of its work orders with
    the values, the inspector and the date (the delivery shows it to the customer)."""
    order = load(Order, order_id, "quality.view")
    inspections = db.session.scalars(
        db.select(Inspection).join(WorkOrder, WorkOrder.id == Inspection.work_order_id)
        .where(WorkOrder.order_id == order.id, Inspection.stage.in_(("final", "first_article")),
               Inspection.result != "pending")
        .options(selectinload(Inspection.values).joinedload(InspectionValue.item), joinedload(Inspection.inspector),
                 joinedload(Inspection.plan))
        .order_by(Inspection.decided_at, Inspection.id)).all()
    work_orders = {w.id: w for w in db.session.scalars(db.select(WorkOrder).where(WorkOrder.order_id == order.id)
                                                       .options(joinedload(WorkOrder.line)))}
    return render("quality/report.html", order=order, inspections=inspections, work_orders=work_orders,
                  samples={i.id: services.describe_sample(i) for i in inspections})
