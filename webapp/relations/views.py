"""The customer page: GET only, for whoever may see the customer."""
from flask_login import current_user, login_required

from ..customers import Customer
from ..receivables import AGEING_TITLES
from ..htmx import render
from ..loading import load
from ..permissions import can, requires
from ..wallclock import utcnow
from . import bp, services


@bp.get("/customers/<int:customer_id>/overview")
@login_required
@requires("customer.view")
def overview(customer_id: int):
    """One customer whole: what is open now, the on-time record, the satisfaction trend, the money
    (for those who may see prices) and the history."""
    customer = load(Customer, customer_id, "customer.view")  # another rep's customer: 404 for a scoped rep
    money = services.money_summary(customer) if can(current_user, "receivables.view") else None
    return render("relations/overview.html", customer=customer, open_now=services.open_now(customer),
                  record=services.on_time(customer), satisfaction=services.satisfaction(customer),
                  money=money, history=services.history(customer), counts=services.counts(customer),
                  score=services.score, owing=services.OWING, now=utcnow(),
                  ageing_titles=AGEING_TITLES)
