"""Property-based tests (hypothesis): a rule-based state machine per lifecycle, driven through the
service functions on a real database (SQLite and PostgreSQL), each step in a request of its own that
commits or rolls back as a real request does. Every machine also tries what may not happen (the wrong
role, the wrong state, too much) and checks that it is refused and changes nothing. After every step
the lifecycle's invariants hold:

- an order only ever moves along its transition table, its audit trail tells each move in order,
  its number is given once, and a countersignature link is open exactly while it waits for one;
- a work order's shipped ≤ passed QC ≤ produced, whatever the floor, QC and inspections do;
- a lot never gives out more than it took in, and its balance is its movements;
- order numbers are unique and gapless per customer and month, and read back to what made them;
- the cost sheet's money adds up (totals, variances, causes) and a finalised sheet no longer changes.

Plus round trips of every number format the app shows (Babel, zh and en) through the strict parser.

Settings keep them quick and reproducible in CI: few examples, short runs, derandomized, no example
database.
"""
import json
import re
import string
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal

import pytest
from babel.numbers import format_decimal
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (Bundle, RuleBasedStateMachine, initialize, invariant, precondition, rule,
                                 run_state_machine_as_test)

from webapp import links
from webapp.audit import AuditEvent
from webapp.auth.models import User
from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.statemachine import TransitionError

from .helpers import SIGNATURE

D = Decimal
BOTH = pytest.mark.parametrize("app", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                               indirect=True)
ROLES = ("sales", "production", "finance", "warehouse", "manager", "operations", "qc", "worker")
# Few, short, reproducible runs: CI time is budgeted, and a failure must come back the same way.
STATEFUL = settings(max_examples=8, stateful_step_count=10, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.function_scoped_fixture])
FEW = settings(max_examples=40, deadline=None, derandomize=True, database=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@contextmanager
def request(app):
    """One request's worth of work: its own session, committed at the end or rolled back on error."""
    with app.test_request_context("/", method="POST"):
        try:
            yield
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise


def refused(app, call, state):
    """call() must raise TransitionError (403/409/422) and leave state() as it was once the request
    rolls back, as every refused request does (transaction.py: nothing is committed on a refusal)."""
    with app.test_request_context("/", method="POST"):
        before = state()
        with pytest.raises(TransitionError) as error:
            call()
        assert error.value.status in (403, 409, 422), error.value.status
        db.session.rollback()
    with app.test_request_context("/"):
        assert state() == before
    return error.value


def person(role) -> User:
    """The test's one user with role."""
    return db.session.scalar(db.select(User).where(User.username == f"p-{role}"))


def people(make_user) -> None:
    for role in ROLES:
        make_user(role, username=f"p-{role}")


def new_customer(abbreviation: str) -> Customer:
    customer = Customer(name=f"{abbreviation} Ltd", abbreviation=abbreviation, contact_name="Ann",
                        contact_email=f"buyer@{abbreviation.lower()}.example.com", locale="en")
    db.session.add(customer)
    db.session.flush()
    return customer


def new_order(customer: Customer, quantity: str = "100", prepayment_pct: str = "0"):
    """A draft order of one line, its cost budget set (finance's approval needs one)."""
    from webapp.orders import services
    from webapp.orders.models import Order, OrderLine
    order = Order(customer=customer, sales_rep_id=person("sales").id, currency="CNY", tax_rate=D("13"),
                  prepayment_pct=D(prepayment_pct), delivery_date=date.today() + timedelta(days=40))
    order.lines = [OrderLine(position=1, model="BRK-1", quantity=D(quantity), unit="pcs", unit_price=D("10.00"),
                             unit_price_incl=D("11.30"))]
    for category in ("material", "labour", "overhead", "logistics", "aftersales"):
        setattr(order, f"budget_{category}", D("100"))
    db.session.add(order)
    db.session.flush()
    services.recalculate(order)
    return order


def status_trail(entity_type: str, entity_id: int) -> list[tuple[str, str]]:
    """(before, after) of every status change the audit log records for an entity, in order."""
    rows = db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id).order_by(AuditEvent.id))
    trail = []
    for row in rows:
        before, after = json.loads(row.before or "null"), json.loads(row.after or "null")
        if isinstance(before, dict) and "status" in before and isinstance(after, dict) and "status" in after:
            trail.append((before["status"], after["status"]))
    return trail


def assert_trail(trail, first: str, now: str) -> None:
    """Each recorded move starts where the one before ended; the last ends where the object is."""
    where = first
    for before, after in trail:
        assert before == where, trail
        where = after
    assert where == now, (trail, now)


# --- The order lifecycle ---------------------------------------------------------------------------

class OrderLifecycle(RuleBasedStateMachine):
    """One order per run, from draft through review, approval, signature, production, hold, cancel,
    under the firm settings drawn for it, tried by every role."""

    app = None
    customers = 0
    reached: set = set()

    @initialize(reviews=st.sampled_from(["", "production", "production,finance,warehouse"]),
                manager=st.booleans(), finance=st.booleans(), prepayment=st.sampled_from(["0", "30"]))
    def new(self, reviews, manager, finance, prepayment):
        from webapp.firm import get_settings
        type(self).customers += 1
        with request(self.app):
            firm = get_settings()
            firm.reviews_required, firm.manager_approval, firm.finance_approval = reviews, manager, finance
            order = new_order(new_customer(f"O{type(self).customers:03d}"), prepayment_pct=prepayment)
            self.order_id, self.customer_id = order.id, order.customer_id

    def order(self):
        from webapp.orders.models import Order
        return db.session.get(Order, self.order_id)

    def state(self):
        order = self.order()
        return (order.status, order.number, order.review_round, order.version, order.signed_version,
                order.hold_from, len(order.reviews), len(order.approvals), len(order.payments))

    def attempt(self, name: str, roles, call) -> None:
        """Make a move through its service; a move the table forbids (state or role) must be refused and
        change nothing; one that goes through must be one the table has."""
        from webapp.orders import lifecycle
        move = lifecycle.MACHINE.transitions[name]
        with self.app.test_request_context("/"):
            before = self.order().status
        table_allows = before in move.sources and bool(set(roles) & move.roles)
        if not table_allows:
            refused(self.app, call, self.state)
            return
        try:
            with request(self.app):
                call()
        except TransitionError as error:  # a guard or a service's own rule: nothing changed
            note(f"{name} refused: {error.message}")
            with self.app.test_request_context("/"):
                assert self.order().status == before
            return
        with self.app.test_request_context("/"):
            assert self.order().status in lifecycle.STATES
            type(self).reached.add(self.order().status)

    @rule(data=st.data())
    def advance(self, data):
        """The next step a firm would take in the order's state, by the right person (so that runs
        reach production, not only refusals)."""
        from webapp.orders import services
        with self.app.test_request_context("/"):
            order = self.order()
            status, reviews = order.status, [d for d in order.settings.get("reviews", [])
                                             if d not in order.current_reviews()]
            approvals = [r for r in order.required_approvals() if r not in order.current_approvals()]
            short = not order.prepayment_satisfied
        if status == "draft":
            self.submit("sales")
        elif status == "in_review" and reviews:
            self.review(data.draw(st.sampled_from(reviews)), "agree", True)
        elif status == "pending_approval" and approvals:
            self.decide(data.draw(st.sampled_from(approvals)), "approve")
        elif status == "awaiting_countersign":
            self.countersign()
        elif status == "effective" and short:
            if data.draw(st.booleans()):
                self.pay("1130.00")
            else:
                self.override_prepayment("finance")
        elif status == "effective":
            self.move("start_production", "operations")
        elif status == "in_production":
            self.move("hold", "manager")
        elif status == "on_hold":
            self.move("resume", "manager")

    @rule(data=st.data())
    def advance_again(self, data):
        """(Drawn as often again as any other rule.)"""
        self.advance(data)

    def submit(self, role):
        from webapp.orders import services
        self.attempt("submit", {role}, lambda: services.submit(self.order(), person(role)))

    @rule(department=st.sampled_from(["production", "finance", "warehouse"]),
          verdict=st.sampled_from(["agree", "agree", "concern"]), same=st.booleans())
    def review(self, department, verdict, same):
        from webapp.orders import services
        role = department if same else "sales"  # a department signs off only as itself
        self.attempt("review", {role}, lambda: services.review(self.order(), department, verdict, "", person(role)))

    @rule(department=st.sampled_from(["production", "finance", "warehouse"]), role=st.sampled_from(["manager", "sales"]))
    def override_concern(self, department, role):
        from webapp.orders import services
        self.attempt("override_concern", {role},
                     lambda: services.override_concern(self.order(), department, "accepted risk", person(role)))

    @rule(role=st.sampled_from(["manager", "finance", "sales"]), decision=st.sampled_from(["approve", "approve", "reject"]))
    def decide(self, role, decision):
        from webapp.orders import services
        self.attempt("approve" if decision == "approve" else "reject", {role},
                     lambda: services.decide(self.order(), role, decision, "no" if decision == "reject" else "",
                                             person(role)))

    @rule(role=st.sampled_from(["sales", "production"]))
    def revise(self, role):
        from webapp.orders import services
        self.attempt("revise", {role}, lambda: services.revise(self.order(), person(role), "change"))

    def countersign(self):
        """The customer signs through the link they were sent (there is none unless one is open)."""
        from webapp.orders import services
        with self.app.test_request_context("/"):
            link = links.current("order_countersign", self.order_id)
        if link is None:
            return
        self.attempt("countersign", {"customer"}, lambda: services.countersign(
            self.order(), links.current("order_countersign", self.order_id), "Ann", "", SIGNATURE, "127.0.0.1", "t"))

    def override_prepayment(self, role):
        from webapp.orders import services
        self.attempt("override_prepayment", {role},
                     lambda: services.override_prepayment(self.order(), "known customer", person(role)))

    def pay(self, amount):
        from webapp.orders import services
        with request(self.app):
            services.record_payment(self.order(), "prepayment", D(amount), date.today(), "", person("finance"))

    @rule(name=st.sampled_from(["submit", "override_prepayment", "start_production", "hold", "resume", "cancel", "discard", "complete_production",
                                "ship", "deliver", "close", "accept_all"]),
          role=st.sampled_from(ROLES))
    def move(self, name, role):
        """Any other move by anyone, through the one service that applies plain moves."""
        from webapp.orders import services
        if name == "submit":
            self.submit(role)
        elif name == "override_prepayment":
            self.override_prepayment(role)
        else:
            self.attempt(name, {role}, lambda: services.simple_transition(self.order(), name, person(role)))

    @invariant()
    def keeps_its_rules(self):
        from webapp.orders import lifecycle
        from webapp.orders.models import OrderNumberCounter
        with self.app.test_request_context("/"):
            order = self.order()
            assert order.status in lifecycle.STATES
            assert_trail(status_trail("order", order.id), "draft", order.status)
            # A number from the first approval on, given once: the customer's counter never passed 1.
            if order.status in lifecycle.APPROVED:
                assert order.number is not None
            last = db.session.scalar(db.select(OrderNumberCounter.last).where(
                OrderNumberCounter.customer_id == self.customer_id))
            assert (last or 0) == (1 if order.number else 0), (last, order.number)
            # The customer may countersign exactly while the order waits for it.
            open_link = links.current("order_countersign", order.id) is not None
            assert open_link == (order.status == "awaiting_countersign"), (order.status, open_link)
            assert (order.hold_from is not None) == (order.status == "on_hold")
            if order.status in lifecycle.SIGNED:
                assert order.signed_version == order.version and order.number
            if order.status == "in_production":
                assert order.work_orders and order.prepayment_satisfied


@BOTH
def test_the_order_lifecycle_never_leaves_its_table(app, make_user):
    people(make_user)
    OrderLifecycle.app, OrderLifecycle.customers, OrderLifecycle.reached = app, 0, set()
    run_state_machine_as_test(OrderLifecycle, settings=settings(STATEFUL, max_examples=10, stateful_step_count=15))
    print(sorted(OrderLifecycle.reached))


# --- Production: work orders, progress, QC, inspections, shipments ----------------------------------

class WorkOrderLifecycle(RuleBasedStateMachine):
    """An order released to production with one work order: the floor reports (sometimes more than is
    left), finishes, is blocked and resumed; QC passes, fails and rejects pieces in inspections; the
    warehouse ships what passed (sometimes more). shipped ≤ passed QC ≤ produced throughout."""

    app = None
    make_order = None
    reached: set = set()

    @initialize(quantity=st.sampled_from(["5", "12", "40"]))
    def new(self, quantity):
        from webapp.production.models import WorkOrder
        self.order_id = self.make_order("in_production", quantity=quantity)
        with self.app.test_request_context("/"):
            self.work_order_id = db.session.scalar(db.select(WorkOrder.id).where(WorkOrder.order_id == self.order_id))

    def work_order(self):
        from webapp.production.models import WorkOrder
        return db.session.get(WorkOrder, self.work_order_id)

    def state(self):
        w = self.work_order()
        return (w.status, w.good, w.scrap, len(w.reports), len(w.rejections), len(w.order.shipments),
                w.order.status)

    def attempt(self, name: str | None, roles, call) -> None:
        """As OrderLifecycle.attempt, for the work order's table (name None: not a move of the table,
        judged by its service alone)."""
        from webapp.production import lifecycle
        if name is not None:
            move = lifecycle.MACHINE.transitions[name]
            with self.app.test_request_context("/"):
                before = self.work_order().status
            if before not in move.sources or not set(roles) & move.roles:
                refused(self.app, call, self.state)
                return
        try:
            with request(self.app):
                call()
        except TransitionError as error:
            note(f"{name} refused: {error.message}")
            with self.app.test_request_context("/"):
                assert self.state()  # readable, and the invariants below judge it

    @rule(good=st.integers(0, 45), scrap=st.integers(0, 3))
    def report(self, good, scrap):
        from webapp.production import services
        with self.app.test_request_context("/"):
            w = self.work_order()
            open_, remaining = w.status in ("planned", "materials_ready", "in_progress"), w.remaining
        call = lambda: services.report(self.work_order(), person("worker"), D(good), D(scrap), "", [])  # noqa: E731
        if not open_ or good > remaining or good + scrap == 0:
            refused(self.app, call, self.state)
        else:
            with request(self.app):
                call()

    @rule(data=st.data())
    def make_the_rest(self, data):
        """A worker reports all that is left (so runs get to QC and shipping)."""
        with self.app.test_request_context("/"):
            w = self.work_order()
            left, open_ = int(w.remaining), w.status in ("planned", "materials_ready", "in_progress")
        if left and open_:
            self.report(left, data.draw(st.integers(0, 2)))

    @rule(name=st.sampled_from(["finish", "pass_qc", "start", "unblock", "materials_ready", "fail_qc", "block"]),
          role=st.sampled_from(["worker", "production", "qc", "sales", "warehouse"]))
    def move(self, name, role):
        from webapp.production import services
        self.attempt(name, {role}, lambda: services.move(self.work_order(), name, person(role)))

    @rule()
    def finish_and_pass(self):
        from webapp.production import services
        self.attempt("finish", {"worker"}, lambda: services.move(self.work_order(), "finish", person("worker")))
        self.attempt("pass_qc", {"qc"}, lambda: services.move(self.work_order(), "pass_qc", person("qc")))

    @rule(quantity=st.integers(1, 45), disposition=st.sampled_from(["rework", "scrap"]))
    def fail_qc(self, quantity, disposition):
        from webapp.production import services
        with self.app.test_request_context("/"):
            too_many = D(quantity) > self.work_order().good
        call = lambda: services.fail_qc(self.work_order(), person("qc"), D(quantity), disposition, "bent")  # noqa: E731
        if too_many:
            refused(self.app, call, self.state)
        else:
            self.attempt("fail_qc", {"qc"}, call)

    @rule(severity=st.sampled_from(["blocking", "minor"]))
    def anomaly(self, severity):
        from webapp.production import services
        self.attempt(None, {"worker"}, lambda: services.raise_anomaly(
            self.work_order(), person("worker"), "equipment_failure", severity, "pump", "", None, "", []))

    @rule(stage=st.sampled_from(["in_process", "final"]), quantity=st.integers(1, 45))
    def inspection(self, stage, quantity):
        """QC starts an inspection (in process, or final while the job waits for QC)."""
        from webapp.quality import services as quality
        self.attempt(None, {"qc"}, lambda: quality.start_work_order(self.work_order(), stage, person("qc")))

    @rule(result=st.sampled_from(["pass", "fail", "fail"]), quantity=st.integers(1, 45))
    def decide_inspection(self, result, quantity):
        """The open inspection is decided; a failed one's rejected pieces are disposed of."""
        from webapp.quality import services as quality
        from webapp.quality.models import Inspection
        with self.app.test_request_context("/"):
            open_ = db.session.scalars(db.select(Inspection.id).where(
                Inspection.work_order_id == self.work_order_id, Inspection.resolved_at.is_(None),
                Inspection.result.in_(["pending", "fail"])).order_by(Inspection.id)).first()
        if open_ is None:
            return

        def decide():
            inspection = db.session.get(Inspection, open_)
            if inspection.result == "pending":
                quality.decide(inspection, result, person("qc"))
            if inspection.result == "fail":
                quality.dispose(inspection, person("qc"), D(quantity), "rework", "bent")
        self.attempt(None, {"qc"}, decide)

    @rule(quantity=st.integers(1, 45))
    def ship(self, quantity):
        """The warehouse ships some of the line; more than has passed QC and is not yet shipped is refused."""
        from webapp.shipping import services as shipping
        with self.app.test_request_context("/"):
            w = self.work_order()
            line_id = w.order_line_id
            limit = shipping.line_sources(w.order)[line_id]["limit"]
        call = lambda: shipping.create_shipment(  # noqa: E731
            self.work_order().order, person("warehouse"), {line_id: D(quantity)}, {}, "delivery", "", "", None, D("0"))
        if D(quantity) > limit:
            refused(self.app, call, self.state)
        else:
            self.attempt(None, {"warehouse"}, call)

    @invariant()
    def shipped_passed_produced(self):
        from webapp.production import lifecycle
        from webapp.shipping.models import ShipmentLine
        with self.app.test_request_context("/"):
            w = self.work_order()
            type(self).reached.add(w.status)
            assert w.status in lifecycle.STATES
            assert_trail(status_trail("work_order", w.id), "planned", w.status)
            produced = sum((r.good_qty for r in w.reports), D("0"))
            passed = w.good if w.status == "done" else D("0")
            shipped = sum((s.quantity for s in db.session.scalars(db.select(ShipmentLine).where(
                ShipmentLine.order_line_id == w.order_line_id, ShipmentLine.from_stock.is_(False)))), D("0"))
            assert D("0") <= shipped <= passed <= produced, (shipped, passed, produced, w.status)
            assert D("0") <= w.good <= w.quantity
            assert (w.blocked_from is not None) == (w.status == "blocked") or w.status != "blocked"
            if w.status in ("qc", "done") and not w.rejections:
                assert w.remaining == 0


@BOTH
def test_a_work_order_never_ships_more_than_passed_or_passes_more_than_made(app, make_user, make_order):
    people(make_user)
    WorkOrderLifecycle.app, WorkOrderLifecycle.reached = app, set()
    WorkOrderLifecycle.make_order = staticmethod(make_order)
    run_state_machine_as_test(WorkOrderLifecycle, settings=settings(STATEFUL, max_examples=5))
    print(sorted(WorkOrderLifecycle.reached))


# --- Order numbers: unique, gapless, and read back ---------------------------------------------------

ABBREVIATION = st.from_regex(r"[A-Z0-9]{2,8}", fullmatch=True)
FIELDS = {"yyyy": r"\d{4}", "mm": r"\d{2}"}


def read_number(number: str, pattern: str) -> list[dict]:
    """Every way number can be read as pattern (format → parse): yyyy four digits, mm two, abbr 2–8 of
    A–Z0–9, seq digits as the pattern writes them. A pattern whose numbers can be read in two ways may
    give two customers one number."""
    parts = []
    for literal, name, spec, _conversion in string.Formatter().parse(pattern):
        if literal:
            parts.append(("literal", literal, ""))
        if name is not None:
            parts.append((name, name, spec or ""))
    readings = []

    def walk(index: int, at: int, found: dict) -> None:
        if index == len(parts):
            if at == len(number):
                readings.append(dict(found))
            return
        kind, value, spec = parts[index]
        if kind == "literal":
            if number.startswith(value, at):
                walk(index + 1, at + len(value), found)
            return
        for end in range(at + 1, len(number) + 1):
            piece = number[at:end]
            if kind in FIELDS and not re.fullmatch(FIELDS[kind], piece):
                continue
            if kind == "abbr" and not re.fullmatch(r"[A-Z0-9]{2,8}", piece):
                continue
            if kind == "seq" and not (piece.isascii() and piece.isdigit() and int(piece) >= 1
                                      and format(int(piece), spec) == piece):
                continue
            walk(index + 1, end, {**found, kind: int(piece) if kind == "seq" else piece})
    walk(0, 0, {})
    return readings


# Patterns an admin might type: the four fields in any order, each followed by a separator or none.
SEPARATORS = st.sampled_from(["", "", "-", "/", "_", ".", "1", "0", "X", "NO", "号", " "])
PATTERNS = st.builds(
    lambda fields, seps, seq_spec, lead: lead + "".join(
        "{" + (f"seq{seq_spec}" if name == "seq" else name) + "}" + sep for name, sep in zip(fields, seps)),
    st.permutations(["yyyy", "mm", "abbr", "seq"]), st.lists(SEPARATORS, min_size=4, max_size=4),
    st.sampled_from(["", ":03d", ":04d", ":02d"]), st.sampled_from(["", "PO-", "SO"]))


_ACCEPTED: dict[str, bool] = {}


def pattern_accepted(app, pattern: str) -> bool:
    """Whether the settings form takes pattern."""
    from wtforms.validators import ValidationError
    from webapp.admin.forms import SettingsForm
    if pattern not in _ACCEPTED:
        with app.test_request_context("/"):
            try:
                SettingsForm.validate_number_pattern(None, type("Field", (), {"data": pattern})())
                _ACCEPTED[pattern] = True
            except ValidationError:
                _ACCEPTED[pattern] = False
    return _ACCEPTED[pattern]


@settings(FEW, max_examples=120)
@given(pattern=PATTERNS, abbr=ABBREVIATION, seq=st.integers(1, 9999), month=st.integers(1, 12))
def test_every_accepted_pattern_reads_back_one_way_and_fits(app, pattern, abbr, seq, month):
    """Order numbers round trip: a number made by any pattern the settings accept, for any customer
    abbreviation and serial, reads back one way only (so two customers never share a number) and fits
    the number column."""
    assume(pattern_accepted(app, pattern))
    number = pattern.format(yyyy="2026", mm=f"{month:02d}", abbr=abbr, seq=seq)
    assert read_number(number, pattern) == [{"yyyy": "2026", "mm": f"{month:02d}", "abbr": abbr, "seq": seq}], number
    assert len(number) <= 40


class Numbering(RuleBasedStateMachine):
    """Customers get orders numbered one after another, some in requests that fail after the number
    was taken (the counter rolls back with them): per customer the serials are 1..n, no number repeats,
    each reads back to its customer and serial."""

    app = None
    serial = 0
    customers = Bundle("customers")

    @initialize(pattern=st.sampled_from(["{yyyy}{mm}-{abbr}-{seq:03d}", "{abbr}-{yyyy}{mm}{seq:04d}",
                                         "{yyyy}/{mm}/{abbr}/{seq}", "SO{abbr}.{yyyy}{mm}.{seq:02d}"]))
    def firm(self, pattern):
        from webapp.firm import get_settings
        self.pattern, self.made = pattern, {}
        with request(self.app):
            get_settings().number_pattern = pattern

    @rule(target=customers, prefix=st.from_regex(r"[A-Z0-9]{0,5}", fullmatch=True))
    def new_customer(self, prefix):
        # Each run's customers are its own (the database outlives a run): the drawn prefix, then a
        # serial of the run's, so the abbreviation may end in digits like a real one (AB12).
        type(self).serial += 1
        abbr = f"{prefix}{type(self).serial:03d}"
        with request(self.app):
            if db.session.scalar(db.select(Customer.id).where(Customer.abbreviation == abbr)) is None:
                new_customer(abbr)
        self.made.setdefault(abbr, 0)
        return abbr

    @rule(abbr=customers, fails=st.booleans())
    def number_an_order(self, abbr, fails):
        from webapp.orders import services
        try:
            with request(self.app):
                order = new_order(db.session.scalar(db.select(Customer).where(Customer.abbreviation == abbr)))
                services.assign_number(order)
                if fails:
                    raise RuntimeError("the request failed after the number was taken")
        except RuntimeError:
            return
        self.made[abbr] += 1

    @invariant()
    def unique_gapless_readable(self):
        from webapp.orders.models import Order, OrderNumberCounter
        with self.app.test_request_context("/"):
            rows = db.session.execute(db.select(Order.number, Customer.abbreviation, OrderNumberCounter.last)
                                      .join(Customer, Customer.id == Order.customer_id)
                                      .outerjoin(OrderNumberCounter, OrderNumberCounter.customer_id == Customer.id)
                                      .where(Order.number.is_not(None))).all()
        numbers = [number for number, _abbr, _last in rows]
        rows = [row for row in rows if row[1] in self.made]
        assert len(numbers) == len(set(numbers))
        serials: dict[str, list[int]] = {}
        for number, abbr, last in rows:
            (reading,) = read_number(number, self.pattern)
            assert reading["abbr"] == abbr
            serials.setdefault(abbr, []).append(reading["seq"])
            assert last == self.made[abbr]
        for abbr, made in self.made.items():
            assert sorted(serials.get(abbr, [])) == list(range(1, made + 1)), (abbr, serials.get(abbr))


@BOTH
def test_order_numbers_are_unique_gapless_and_read_back(app, make_user):
    people(make_user)
    Numbering.app, Numbering.serial = app, 0
    run_state_machine_as_test(Numbering, settings=STATEFUL)


@BOTH
def test_a_stale_inspection_cannot_fail_pieces_that_passed_qc_and_shipped(app, make_user, make_order):
    """Found while writing the machine above: an in-process inspection begun while the work went on,
    failed after the work order had passed QC and shipped, took its rejected pieces off the work order's
    good count (5 good, 10 shipped). Now the failure is refused (the inspection may still be released
    conditionally) and no rejection reaches a done work order."""
    from webapp.production import services
    from webapp.production.models import WorkOrder
    from webapp.quality import services as quality
    from webapp.quality.models import Inspection
    from webapp.shipping import services as shipping
    people(make_user)
    order_id = make_order("in_production", quantity="10")
    with request(app):
        w = db.session.scalar(db.select(WorkOrder).where(WorkOrder.order_id == order_id))
        services.report(w, person("worker"), D(4), D(0), "", [])
        quality.start_work_order(w, "in_process", person("qc"))
        services.report(w, person("worker"), D(6), D(0), "", [])
        services.move(w, "finish", person("worker"))
        services.move(w, "pass_qc", person("qc"))
        shipping.create_shipment(w.order, person("warehouse"), {w.order_line_id: D(10)}, {}, "delivery", "", "",
                                 None, D(0))
        work_order_id = w.id

    def state():
        w = db.session.get(WorkOrder, work_order_id)
        return w.status, w.good, db.session.scalar(db.select(Inspection.result))
    refused(app, lambda: quality.decide(db.session.scalar(db.select(Inspection)), "fail", person("qc")), state)
    refused(app, lambda: services.reject_pieces(db.session.get(WorkOrder, work_order_id), person("qc"), D(5),
                                                "scrap", "bent"), state)
    with request(app):
        quality.decide(db.session.scalar(db.select(Inspection)), "conditional", person("qc"), "passed QC meanwhile")
    with app.test_request_context("/"):
        assert state() == ("done", D(10), "conditional")


# --- Every number format reads back ------------------------------------------------------------------

ACCEPT = {"zh": "zh-CN,zh;q=0.9", "en": "en-GB,en;q=0.9"}


@FEW
@given(lang=st.sampled_from(["zh", "en"]), data=st.data())
def test_every_number_the_app_shows_reads_back_as_the_same_value(app, lang, data):
    """What a page shows — quantities (to 3 places), fine quantities (to 6), money (with its cents,
    grouped; the money filter's number without its symbol) — typed back into any number field in the
    same language gives the same value through the strict parser, thousands separators included."""
    from webapp.forms import parse_decimal
    from webapp.templating import fine_quantity, money, quantity
    shown = {
        "quantity": (quantity, 3, st.decimals(min_value=0, max_value=10 ** 9, places=3)),
        "fine quantity": (fine_quantity, 6, st.decimals(min_value=0, max_value=10 ** 9, places=6)),
        "money": (lambda v: money(v, "CNY").replace("¥", "").replace("\xa0", ""), 2,
                  st.decimals(min_value=0, max_value=10 ** 12, places=2)),
        "money, plain": (lambda v: format_decimal(v, "#,##0.00", locale=lang), 2,
                         st.decimals(min_value=0, max_value=10 ** 12, places=2)),
    }
    with app.test_request_context("/", headers={"Accept-Language": ACCEPT[lang]}):
        for name, (show, places, values) in shown.items():
            value = data.draw(values, label=name)
            text = show(value)
            assert parse_decimal(text, places=places) == value, (name, value, text)
            if value >= 1000:
                assert "," in text, (name, text)  # grouped as shown, and still read right


# --- Stock lots: never more out than in ---------------------------------------------------------------

class StockLots(RuleBasedStateMachine):
    """One material in two locations: receipts into new or existing lots (waiting for incoming
    inspection when the material asks for it), inspections passed or failed, issues, returns and scrap
    of any size from any lot and place. A lot never gives out more than it took in."""

    app = None
    serial = 0

    @initialize(inspect=st.booleans())
    def material(self, inspect):
        from webapp.stock.models import Location, Material
        type(self).serial += 1
        n = type(self).serial
        with request(self.app):
            material = Material(code=f"AL-{n}", name="铝板", stock_unit="kg", inspect_on_receipt=inspect)
            places = [Location(code=f"A{n}", name="原料仓"), Location(code=f"B{n}", name="线边")]
            db.session.add_all([material, *places])
            db.session.flush()
            self.material_id, self.location_ids = material.id, [p.id for p in places]
        self.lot_codes: list[str] = []

    def lot(self, index: int):
        from webapp.stock import ledger
        from webapp.stock.models import Material
        return ledger.find_lot(db.session.get(Material, self.material_id), self.lot_codes[index % len(self.lot_codes)])

    def state(self):
        from webapp.stock.models import StockBalance, StockMove
        moves = db.session.scalar(db.select(db.func.count()).select_from(StockMove).where(
            StockMove.material_id == self.material_id))
        balances = sorted((b.lot_id, b.location_id, b.on_hand) for b in db.session.scalars(
            db.select(StockBalance).where(StockBalance.material_id == self.material_id)))
        return moves, balances

    @rule(quantity=st.decimals(min_value=D("0.001"), max_value=D("5000"), places=3),
          cost=st.decimals(min_value=D("0"), max_value=D("99.99"), places=2), new=st.booleans(),
          index=st.integers(0, 5), place=st.integers(0, 1))
    def receive(self, quantity, cost, new, index, place):
        from webapp.stock import ledger
        from webapp.stock.models import Location, Material
        code = "" if new or not self.lot_codes else self.lot_codes[index % len(self.lot_codes)]
        try:
            with request(self.app):
                move = ledger.receive(db.session.get(Material, self.material_id), quantity,
                                      db.session.get(Location, self.location_ids[place]), unit_cost=cost, lot_code=code)
                received = move.lot.code
        except TransitionError as error:  # a lot that passed or failed inspection takes no more
            note(f"receipt refused: {error.message}")
            return
        if received not in self.lot_codes:
            self.lot_codes.append(received)

    @precondition(lambda self: self.lot_codes)
    @rule(kind=st.sampled_from(["issue", "issue", "scrap", "return"]), index=st.integers(0, 5),
          place=st.integers(0, 1), quantity=st.decimals(min_value=D("0.001"), max_value=D("6000"), places=3))
    def move(self, kind, index, place, quantity):
        """Out (or back) of a lot in a place; more than it holds there, or out of a held lot, is refused."""
        from webapp.stock import ledger
        from webapp.stock.models import Location
        with self.app.test_request_context("/"):
            lot = self.lot(index)
            here = sum((b.on_hand for b in lot.balances if b.location_id == self.location_ids[place]), D("0"))
            may = kind == "return" or (quantity <= here and (lot.status == "available" or kind == "scrap"))

        def call():
            ledger.post(kind, self.lot(index), db.session.get(Location, self.location_ids[place]), quantity)
        if may:
            with request(self.app):
                call()
        else:
            refused(self.app, call, self.state)

    @precondition(lambda self: self.lot_codes)
    @rule(index=st.integers(0, 5), result=st.sampled_from(["pass", "fail"]))
    def inspect(self, index, result):
        """Incoming inspection of a lot waiting for it: passed, it may be used; failed, it is blocked."""
        from webapp.quality import services as quality
        with self.app.test_request_context("/"):
            waiting = self.lot(index).status == "quarantine" and self.lot(index).on_hand > 0
        if not waiting:
            refused(self.app, lambda: quality.start_incoming(self.lot(index), person("qc")), self.state)
            return
        with request(self.app):
            inspection = quality.start_incoming(self.lot(index), person("qc"))
            quality.decide(inspection, result, person("qc"))

    @invariant()
    def never_more_out_than_in(self):
        from webapp.stock import ledger
        from webapp.stock.models import Lot, Material, StockBalance, StockMove
        with self.app.test_request_context("/"):
            moves = list(db.session.scalars(db.select(StockMove).where(StockMove.material_id == self.material_id)))
            for lot in db.session.scalars(db.select(Lot).where(Lot.material_id == self.material_id)):
                mine = [m for m in moves if m.lot_id == lot.id]
                taken_in = sum((m.quantity for m in mine if m.kind in ledger.INWARD), D("0"))
                given_out = -sum((m.quantity for m in mine if m.kind in ledger.OUTWARD), D("0"))
                assert D("0") <= given_out <= taken_in, (lot.code, given_out, taken_in)
                assert lot.status in ("available", "quarantine", "blocked")
            for balance in db.session.scalars(db.select(StockBalance).where(
                    StockBalance.material_id == self.material_id)):
                here = sum((m.quantity for m in moves if m.lot_id == balance.lot_id
                            and m.location_id == balance.location_id), D("0"))
                assert balance.on_hand == here and balance.on_hand >= 0
            material = db.session.get(Material, self.material_id)
            assert material.value == sum((m.value for m in moves), D("0")) and material.value >= 0
            assert material.valued_qty == ledger.on_hand(self.material_id)


@BOTH
def test_a_lot_never_gives_out_more_than_it_took_in(app, make_user):
    people(make_user)
    StockLots.app, StockLots.serial = app, 0
    run_state_machine_as_test(StockLots, settings=STATEFUL)


# --- The cost sheet: the money adds up ---------------------------------------------------------------

CATEGORIES = ("material", "labour", "overhead", "logistics", "aftersales")
AMOUNT = st.one_of(st.none(), st.decimals(min_value=D("0"), max_value=D("99999.99"), places=2))


class CostSheetMoney(RuleBasedStateMachine):
    """Finance saves actuals (typed or left to the records), explains variances with cause codes
    (sometimes more than the variance: refused), and finalises; after that nothing changes."""

    app = None
    make_order = None

    @initialize()
    def order(self):
        from webapp.costing.models import ensure_builtin_causes
        self.order_id = self.make_order("effective")
        with request(self.app):
            ensure_builtin_causes()
        self.final = None

    def sheet(self):
        from webapp.costing import services as costing
        from webapp.orders.models import Order
        return costing.sheet_for(db.session.get(Order, self.order_id))

    def state(self):
        sheet = self.sheet()
        if sheet is None:
            return None
        return (sheet.is_final, tuple((line.category, line.budget, line.actual, line.source,
                                       tuple(sorted((c.cause_id, c.amount) for c in line.causes)))
                                      for line in sheet.lines))

    @rule(actuals=st.fixed_dictionaries({c: AMOUNT for c in CATEGORIES}),
          explained=st.sampled_from(CATEGORIES), share=st.sampled_from([None, "0.5", "1", "1.5", "3"]),
          causes=st.integers(0, 2))
    def save(self, actuals, explained, share, causes):
        """Save; the chosen line's variance is explained by causes for a share of it (None: what is left;
        more than all of it, or a cause where there is no variance, is refused)."""
        from webapp.costing import services as costing
        from webapp.costing.models import CostCause
        from webapp.orders.models import Order
        with self.app.test_request_context("/"):
            cause_ids = list(db.session.scalars(db.select(CostCause.id).order_by(CostCause.id).limit(causes)))
            budget = db.session.get(Order, self.order_id).budget[explained] or D("0")
            final = self.sheet() is not None and self.sheet().is_final
        actual = actuals[explained]
        variance = None if actual is None else abs(actual - budget)
        entries = [costing.CauseEntry(cause_id, None if share is None or variance is None
                                      else (variance * D(share) / max(len(cause_ids), 1)).quantize(D("0.01")))
                   for cause_id in cause_ids]

        def call():
            costing.save(db.session.get(Order, self.order_id), actuals, {}, person("finance"), {explained: entries})
        try:
            with request(self.app):
                call()
        except costing.CostSheetInvalid as invalid:
            note(f"refused: {invalid.errors}")
            assert entries  # only causes make a sheet invalid
            with self.app.test_request_context("/"):
                assert self.state() == self.final if final else True
        except TransitionError:
            assert final  # a finalised sheet takes nothing more
        else:
            assert not final

    @rule()
    def finalise(self):
        from webapp.costing import services as costing
        from webapp.orders.models import Order
        try:
            with request(self.app):
                costing.finalise(db.session.get(Order, self.order_id), person("finance"))
        except TransitionError as error:
            note(f"finalise refused: {error.message}")
            return
        with self.app.test_request_context("/"):
            self.final = self.state()

    @invariant()
    def adds_up(self):
        from webapp.costing import services as costing
        from webapp.orders.models import Order
        with self.app.test_request_context("/"):
            sheet = self.sheet()
            if sheet is None:
                return
            order = db.session.get(Order, self.order_id)
            if self.final is not None:
                assert self.state() == self.final  # finalised: it no longer changes
            lines = costing.lines_by(sheet)
            assert set(lines) == set(CATEGORIES)
            assert sheet.budget_total == sum((line.budget for line in sheet.lines), D("0"))
            if not sheet.is_final:
                assert sheet.budget_total == sum(costing.budgets(order).values(), D("0"))
            for line in sheet.lines:
                for value in (line.budget, line.actual, *(c.amount for c in line.causes)):
                    assert value is None or value == value.quantize(D("0.01"))
                if line.actual is not None:
                    assert line.variance == line.actual - line.budget
                if line.causes:  # the causes explain part of the variance, with its sign
                    assert costing.causes_fit(line), (line.category, line.variance, line.explained)
            if sheet.complete:
                assert sheet.actual_total == sum((line.actual for line in sheet.lines), D("0"))
                assert sheet.variance == sheet.actual_total - sheet.budget_total
                assert sheet.variance == sum((line.variance for line in sheet.lines), D("0"))
            else:
                assert sheet.actual_total is None and not sheet.is_final


@BOTH
def test_the_cost_sheet_adds_up_and_a_finalised_one_stays(app, make_user, make_order):
    people(make_user)
    CostSheetMoney.app = app
    CostSheetMoney.make_order = staticmethod(make_order)
    run_state_machine_as_test(CostSheetMoney, settings=settings(STATEFUL, max_examples=4))
