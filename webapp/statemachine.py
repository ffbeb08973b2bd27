"""A small transition-table engine used by every domain's lifecycle.py. Pure Python."""
from collections.abc import Callable
from dataclasses import dataclass, field


def N_(message: str) -> str:
    """Mark a message for translation without translating it here (this module stays pure)."""
    return message


def NP_(context: str, message: str) -> tuple[str, str]:
    """Mark a message with a context (pgettext) for translation without translating it here: a short
    word that means different things ("Planned" as a state, or as a date column) gets one each."""
    return (context, message)


class TransitionError(Exception):
    """A transition that may not happen: 403 (wrong role) or 409 (wrong state or a rule)."""

    def __init__(self, status: int, message: str, **params):
        super().__init__(message)
        self.status = status
        self.message = message
        # Values the message names (%(available)s ...): filled in after it is translated.
        self.params = params

    def translated(self) -> str:
        """The message in the reader's language, its values filled in."""
        from flask_babel import gettext
        return gettext(self.message, **self.params)


@dataclass(frozen=True)
class Transition:
    """One allowed move: from which states, to which (a state or a function of the object),
    who may make it, and what must be true (guard returns a message when it is not)."""

    name: str
    sources: tuple[str, ...]
    target: str | Callable[[object], str]
    roles: frozenset[str]
    guard: Callable[[object], str | None] | None = None
    label: str = ""

    def target_for(self, obj) -> str:
        """The state obj ends in."""
        return self.target(obj) if callable(self.target) else self.target


@dataclass
class StateMachine:
    """A named table of transitions over objects with a `status` attribute, with the words for its
    states (`labels`, message ids) and its named groups of states (`groups`, e.g. the order's
    "SHIPPABLE"): the one place a state set is written, so no module copies it."""

    name: str
    states: tuple[str, ...]
    transitions: dict[str, Transition] = field(default_factory=dict)
    # English message ids; the web layer translates them when it shows them.
    messages: dict[str, str] = field(default_factory=dict)
    labels: dict[str, object] = field(default_factory=dict)
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __init__(self, name, states, transitions, messages=None, labels=None, groups=None):
        self.name = name
        self.states = tuple(states)
        self.transitions = {t.name: t for t in transitions}
        self.messages = messages or {}
        self.labels = dict(labels or {})
        self.groups = {key: tuple(group) for key, group in (groups or {}).items()}
        for t in transitions:
            unknown = set(t.sources) - set(self.states)
            assert not unknown, (t.name, unknown)
            if not callable(t.target):
                assert t.target in self.states, (t.name, t.target)
        for key, group in self.groups.items():
            unknown = set(group) - set(self.states)
            assert not unknown, (key, unknown)
        assert not set(self.labels) - set(self.states), (name, set(self.labels) - set(self.states))

    def check(self, obj, name: str, roles, context: dict | None = None) -> Transition:
        """Return the transition if roles may make it on obj now, else raise TransitionError. What a
        guard needs besides obj (e.g. what keeps an order from closing) comes in context, passed to
        the guard as keyword arguments."""
        transition = self.transitions[name]
        if not (set(roles) & transition.roles):
            raise TransitionError(403, self.messages.get("role", "not allowed for your role"))
        if obj.status not in transition.sources:
            raise TransitionError(409, self.messages.get("state", "not possible in this state"))
        if transition.guard is not None:
            problem = transition.guard(obj, **context) if context else transition.guard(obj)
            if problem:
                raise TransitionError(409, problem)
        return transition

    def allowed(self, obj, name: str, roles) -> bool:
        """Whether check() would pass."""
        try:
            self.check(obj, name, roles)
        except TransitionError:
            return False
        return True
