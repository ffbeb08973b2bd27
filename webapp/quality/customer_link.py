"""The customer's side of a first article (打样 / 首件确认), on their own phone and without an account:
the photos and the measured values against their limits, and one decision (approve or reject, with
their name and a comment) through their "first_article" link; a used link keeps showing what they
decided. The routes are the customer links' own (the public blueprint, /c/<token>)."""
from flask import abort, flash, url_for
from flask_babel import gettext as _

from .. import links
from ..extensions import db
from ..htmx import render, see_other
from ..loading import load
from ..photos import Photo, photos_of, send_photo
from ..public import bp as public_bp
from ..public import copies
from . import services
from .forms import CustomerAnswerForm
from .models import FirstArticle



def _already() -> str:
    return _("This first article is already decided. Nothing was changed; here is your decision.")


def _article_for(link, lock: bool = False) -> FirstArticle:
    if link.purpose != "first_article":
        abort(404)
    return load(FirstArticle, link.object_id, None, lock=lock)


def _page(link, article, form=None, status=200):
    return render("quality/customer_first_article.html", link=link, article=article,
                  inspection=article.inspection, photos=photos_of("first_article", [article.id])[article.id],
                  form=form or CustomerAnswerForm(), status_code=status)


def open_first_article(link):
    """The first article a "first_article" link is for, to approve or reject."""
    article = _article_for(link)
    if article.status != "sent":
        abort(404)
    return _page(link, article)


@public_bp.post("/c/<token>/first-article")
def answer_first_article(token: str):
    """The customer approves or rejects the first article, once: a second answer (a double tap, the
    back button, a replay) changes nothing and shows the decision already made."""
    # Two taps at once: the link's row is locked first, so the second waits for the first to commit
    # and then reads the link as used (else it could find it live, then used: a 404 for a double tap).
    found = links.find(token)
    if found is not None:
        db.session.scalars(db.select(links.AccessLink).where(links.AccessLink.id == found.id).with_for_update()
                           .execution_options(populate_existing=True)).one()
    copies.refuse_second_submission(token, ("first_article",), _already())
    link = links.resolve(token)
    article = _article_for(link, lock=True)
    if article.status != "sent":  # decided by the tap that held the lock before this one
        flash(_already())
        return see_other(url_for("public.open_link", token=token))
    form = CustomerAnswerForm()
    if not form.validate_on_submit():
        return _page(link, article, form, status=422)
    try:
        services.answer_first_article(article, link, form.decision.data == "approve", form.name.data.strip(),
                                      (form.comment.data or "").strip())
    except services.AlreadyDecided:
        flash(_already())
        return see_other(url_for("public.open_link", token=token))
    if article.status == "approved":
        flash(_("Thank you: you approved the first article. We start mass production."), "thanks")
    else:
        flash(_("Thank you: you rejected the first article. We will correct it and come back to you."), "thanks")
    return see_other(url_for("public.open_link", token=token))


@public_bp.get("/c/<token>/first-article/photos/<int:photo_id>")
def first_article_photo(token: str, photo_id: int):
    """A photo of the first article the link is for (and no other), while the link is live, or after
    the decision for as long as its copy is kept (the copy page's own retention period)."""
    link = links.find(token)
    if not copies.link_keeps_copy(link, "first_article"):
        abort(404)
    photo = db.session.get(Photo, photo_id)
    if photo is None or photo.entity_type != "first_article" or photo.entity_id != link.object_id:
        abort(404)
    article = db.session.get(FirstArticle, link.object_id)
    if article is not None and article.decided_at is not None and not copies.within_retention(article.decided_at):
        abort(404)
    return send_photo(photo)


def first_article_copy(link: links.AccessLink):
    """What the customer decided through this link, with the photos and values they saw."""
    article = db.session.get(FirstArticle, link.object_id)
    if article is None or article.decided_at is None:
        abort(404)
    return copies.render_copy("quality/customer_first_article_copy.html", link, article.decided_at,
                              article.order.sales_rep, article=article, inspection=article.inspection,
                              photos=photos_of("first_article", [article.id])[article.id])
