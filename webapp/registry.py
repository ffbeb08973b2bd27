"""Where a domain plugs in: what each domain package registers about itself, and what the central
modules (permissions, labels, templating, timeline, the customer links) read instead of importing the
domain.

A domain (a package such as `orders/`) builds one `Domain` record in its `__init__.py` and calls
`register()`; `create_app()` imports the domains from its one list and calls each `init_app(app)`,
which adds the blueprint. Nothing here imports a domain, so a new domain is a folder plus one line in
the factory. Registration is by name and idempotent: registering the same name again replaces it.
"""
import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from .statemachine import StateMachine


@dataclass(frozen=True)
class LinkPurpose:
    """What a customer link for this purpose opens (`open(link)` answers GET /c/<token>) and which
    actions let staff show its QR code."""

    name: str
    open: Callable
    managers: tuple[str, ...] = ("link.manage",)
    # What a used link of this purpose keeps opening: copy(link) answers with the read-only copy of
    # what the customer confirmed or signed (public/copies.py); None: a used link opens nothing.
    copy: Callable | None = None


@dataclass(frozen=True)
class PhotoKind:
    """Photos kept for one kind of record: who may see them (an action) and the order they are
    evidence for (`order_of(entity_id)`, None when the record is gone or belongs to no order)."""

    name: str
    viewers: str
    order_of: Callable[[int], object] | None = None


@dataclass(frozen=True)
class CapabilityToken:
    """A credential carried in a URL segment that is not a customer link (a work order's label, a
    badge): `matches(endpoint, segment_name)` picks it; `find(session, value)` the row's id or None."""

    kind: str
    matches: Callable[[str, str], bool]
    find: Callable[[object, str], int | None]
    # The page a floor phone goes back to after a worker switch (auth/floor.py), kept in the session
    # by the row's id, never by the credential: its endpoint (the credential in its `token` segment)
    # and value(session, row_id), the row's credential (None when the row is gone).
    return_endpoint: str | None = None
    value: Callable[[object, int], str | None] | None = None


@dataclass(frozen=True)
class StoryPart:
    """What one domain tells in an order's whole story (orders/story.py), so that the orders domain
    reads none of the later stages' records itself:

    - `records(order)`: its records of the order, {audit entity type: {id: row}}, one query each;
    - `evidence(story)`: what its entries point at (photos, receipts), loaded once for the events
      in `story.events`, kept as `story.parts[domain name]`;
    - `describe(entry, event, data, story)`: the details, subject and link of an entry about one of
      its records, or of an event it recorded on the order itself (`order_events`);
    - `merge(previous, entry, data)`: whether entry was folded into the entry before it (a run of
      progress reports is one entry)."""

    records: Callable[[object], Mapping[str, Mapping[int, object]]] | None = None
    evidence: Callable[[object], object] | None = None
    describe: Callable[[object, object, dict, object], None] | None = None
    order_events: frozenset[str] = frozenset()
    merge: Callable[[object, object, dict], bool] | None = None


@dataclass
class Domain:
    """Everything one domain tells the central modules about itself."""

    name: str
    # Its state machines: each carries its state labels and named state groups.
    machines: tuple[StateMachine, ...] = ()
    # Plain actions (not "<machine>:<transition>") → the roles that may do them.
    actions: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Extra rules on the object for some of those actions (the role check comes first).
    state_rules: Mapping[str, Callable[[object], bool]] = field(default_factory=dict)
    # Actions answered by a function of their own: check(user, obj) -> bool (roles and settings).
    checks: Mapping[str, Callable[[object, object], bool]] = field(default_factory=dict)
    # Key sets whose stored keys pages show through label(key, kind): kind → {key: message id}.
    # A function returning them, so that a domain's forms are imported only when a page asks.
    labels: Callable[[], Mapping[str, Mapping]] | Mapping[str, Mapping] = field(default_factory=dict)
    # Customer-link purposes and their handlers.
    link_purposes: tuple[LinkPurpose, ...] = ()
    # Audit actions → what the timeline says happened (a transition's own label is a button's).
    events: Mapping[str, str] = field(default_factory=dict)
    # Audit actions whose words already say the state they lead to ("Work stopped").
    events_saying_state: frozenset[str] = frozenset()
    # Audit-action prefixes that name their machine differently ("return" → "return_case").
    event_prefixes: Mapping[str, str] = field(default_factory=dict)
    # Functions every template may call (e.g. firm_name), added when the app is made.
    template_globals: Mapping[str, Callable] = field(default_factory=dict)
    # Kinds of photos the domain keeps (photos.py serves them through one gate).
    photo_kinds: tuple[PhotoKind, ...] = ()
    # Credentials in URL segments the domain's routes take (capabilities.py keeps them out of logs).
    capability_tokens: tuple[CapabilityToken, ...] = ()
    # Object scope: visible(user, obj) says whether user may know of obj at all (the loader answers
    # 404 otherwise); scope(user, customer_id_column) the WHERE clause lists and My work add.
    visible: Callable[[object, object], bool] | None = None
    scope: Callable[[object, object], object] | None = None
    # Kinds of My work it hands out (work_items.WorkItemKind; a domain's work.py may also register
    # them with work_items.work_item()).
    work: tuple = ()
    # What it tells in an order's whole story (a function returning its StoryPart, so that its models
    # are imported only when a story is told).
    story: Callable[[], StoryPart] | None = None
    # What it adds to a lower domain's page: page name → function(obj) giving extra template names
    # (the orders domain lists the orders made from a requirement on the requirement's page).
    page_context: Mapping[str, Callable[[object], Mapping]] = field(default_factory=dict)
    # The pages a phone keeps for use without signal (sync's manifest): offline_pages(user, people,
    # room) gives up to room URLs for user and the people on the phone (ids).
    offline_pages: Callable[[object, set, int], list] | None = None


_domains: dict[str, Domain] = {}
# Every registered state machine by name (a live view: filled as domains register).
MACHINES: dict[str, StateMachine] = {}


def register(domain: Domain) -> Domain:
    """Add (or replace) a domain and everything it declares; returns it."""
    if domain.name in _domains:
        unregister(domain.name)
    for machine in domain.machines:
        owner = next((d.name for d in _domains.values() if machine.name in {m.name for m in d.machines}), None)
        assert owner is None, f"machine {machine.name} is already registered by {owner}"
        MACHINES[machine.name] = machine
    _domains[domain.name] = domain
    _label_cache.clear()
    return domain


def unregister(name: str) -> None:
    """Remove a domain (a test's toy domain, when the test ends)."""
    domain = _domains.pop(name, None)
    if domain is not None:
        for machine in domain.machines:
            MACHINES.pop(machine.name, None)
    _label_cache.clear()


def domains() -> Iterator[Domain]:
    """The registered domains, in the order they registered."""
    return iter(list(_domains.values()))


def machine(name: str) -> StateMachine | None:
    """The state machine called name, if a domain registered one."""
    return MACHINES.get(name)


def _first(attribute: str, key: str):
    for domain in _domains.values():
        mapping = getattr(domain, attribute)
        if key in mapping:
            return mapping[key]
    return None


def action_roles(action: str) -> frozenset[str] | None:
    """The roles that may do a plain action (None: no domain declared it)."""
    return _first("actions", action)


def state_rule(action: str) -> Callable[[object], bool] | None:
    """The rule an action's object must meet, if any."""
    return _first("state_rules", action)


def action_check(action: str) -> Callable[[object, object], bool] | None:
    """The function that answers action by itself, if a domain declared one."""
    return _first("checks", action)


def actions() -> dict[str, frozenset[str]]:
    """Every plain action and its roles."""
    out: dict[str, frozenset[str]] = {}
    for domain in _domains.values():
        out.update(domain.actions)
    return out


_label_cache: dict[str, Mapping] = {}


def label_tables() -> dict[str, Mapping]:
    """Every key set with its labels, by kind: each machine's state labels under the machine's name,
    then the key sets the domains declared."""
    if not _label_cache:
        tables: dict[str, Mapping] = {}
        for domain in _domains.values():
            for each in domain.machines:
                tables[each.name] = each.labels
            declared = domain.labels() if callable(domain.labels) else domain.labels
            tables.update(declared)
        _label_cache.update(tables)
    return _label_cache


def link_purpose(name: str) -> LinkPurpose | None:
    """The registered purpose called name."""
    for domain in _domains.values():
        for purpose in domain.link_purposes:
            if purpose.name == name:
                return purpose
    return None


def copy_purposes() -> tuple[str, ...]:
    """The purposes whose used links keep opening a copy of what was confirmed or signed."""
    return tuple(p.name for d in _domains.values() for p in d.link_purposes if p.copy is not None)


def link_purposes() -> tuple[str, ...]:
    """Every registered link purpose's name."""
    return tuple(p.name for d in _domains.values() for p in d.link_purposes)


def photo_kind(name: str) -> PhotoKind | None:
    """The registered photo kind called name."""
    return next((k for d in _domains.values() for k in d.photo_kinds if k.name == name), None)


def capability_tokens() -> list[CapabilityToken]:
    """Every registered URL credential that is not a customer link."""
    return [t for d in _domains.values() for t in d.capability_tokens]


def event_text(action: str) -> str | None:
    """The message id for an audit action a domain declared, or its transition's label."""
    text = _first("events", action)
    if text is not None:
        return text
    machine_name, _sep, name = action.partition(".")
    found = MACHINES.get(machine_name)
    if found and name in found.transitions and found.transitions[name].label:
        return found.transitions[name].label
    return None


def event_machine(prefix: str) -> str:
    """The machine an audit-action prefix names ("return" → "return_case")."""
    return _first("event_prefixes", prefix) or prefix


def event_says_state(action: str) -> bool:
    """Whether the words for action already say the state it leads to."""
    return any(action in d.events_saying_state for d in _domains.values())


def visible(user, obj) -> bool:
    """Whether every domain that limits who sees what lets user know of obj."""
    return all(domain.visible(user, obj) for domain in _domains.values() if domain.visible is not None)


def scope_clauses(user, customer_id_column) -> list:
    """The WHERE clauses the domains' scopes add to a query of rows that belong to a customer."""
    return [domain.scope(user, customer_id_column) for domain in _domains.values() if domain.scope is not None]


def work_kinds() -> list:
    """The kinds of My work the registered domains declared on their Domain record."""
    return [kind for domain in _domains.values() for kind in domain.work]


def story_parts() -> dict[str, StoryPart]:
    """What each domain tells in an order's story, by domain name, in the order they registered."""
    return {domain.name: domain.story() for domain in _domains.values() if domain.story is not None}


def page_context(page: str, obj) -> dict:
    """The extra template names the domains add to a page about obj. "sections" (template names
    the page includes in turn) add up across domains; other names are one domain's each."""
    out: dict = {}
    for domain in _domains.values():
        if page in domain.page_context:
            given = dict(domain.page_context[page](obj))
            sections = given.pop("sections", [])
            out.update(given)
            if sections:
                out["sections"] = [*out.get("sections", []), *sections]
    return out


def offline_pages(user, people: set, cap: int) -> list:
    """The pages the domains have a phone keep, in the order they registered, at most cap."""
    urls: list = []
    for domain in _domains.values():
        if domain.offline_pages is not None:
            urls += domain.offline_pages(user, people, max(0, cap - len(urls)))
    return urls[:cap]


def public_names(package: str, names: Mapping[str, str]) -> Callable[[str], object]:
    """A domain package's module __getattr__ (PEP 562): the names other domains may import from it
    (`from ..orders import Order, lifecycle`), each from the module that defines it ({name: module};
    a module's own name for the module), imported when first asked so that no package's import
    pulls in another domain. tests/test_architecture.py keeps domains to these names."""

    def __getattr__(name: str):
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        found = importlib.import_module(f"{package}.{module}")
        return found if name == module else getattr(found, name)

    return __getattr__
