"""The messages quality sends (notify events), in the recipient's language."""
from flask_babel import gettext as _

from ..notify import Notice, message


@message("first_article.sent")
def first_article_sent(order, article, link) -> Notice:
    """To the customer: a first article of their order waits for their approval, on their phone."""
    return Notice(_("Order %(number)s: please approve the first article", number=order.number),
                  _("Hello,\n\nThe first piece of order %(number)s is made and inspected. Please look at the "
                    "photos and measurements and approve or reject it (valid for %(days)s days):\n%(url)s\n",
                    number=order.number, days=link.valid_days, url=link.url))


@message("first_article.answered")
def first_article_answered(order, article) -> Notice:
    """To staff: the customer approved or rejected the first article."""
    if article.status == "approved":
        subject = _("Order %(number)s: the customer approved the first article", number=order.number)
    else:
        subject = _("Order %(number)s: the customer rejected the first article", number=order.number)
    return Notice(subject, _("%(name)s: %(comment)s", name=article.decided_by_name,
                             comment=article.customer_comment or "—"))
