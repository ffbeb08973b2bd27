"""Seams between the domains: a domain reaches another only through the names that domain's package
exports (`from ..orders import Order, lifecycle`, listed in its `__all__`), never into its modules
(`from ..orders.models import Order`). Which domain may import which is the layers contract in
pyproject.toml (`lint-imports`, run by .ci/run); this test holds the other half: the public names."""
import ast
import importlib
import re
from pathlib import Path

import pytest

WEBAPP = Path(__file__).resolve().parent.parent / "webapp"
# Shared services that have a blueprint but are no domain: any module may import their modules.
SHARED = {"public"}


def _domains() -> list[str]:
    """The domain packages: every package of webapp that registers pages (webapp.domains()) and
    documents, less the shared services."""
    from webapp import domains
    names = {module.__name__.rpartition(".")[2] for module in domains()} | {"documents"}
    return sorted(names - SHARED)


DOMAINS = _domains()


def _target(module: Path, node: ast.ImportFrom) -> str:
    """The absolute module a `from … import` names."""
    if node.level == 0:
        return node.module or ""
    package = ["webapp", *module.relative_to(WEBAPP).parent.parts]
    base = package[:len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _reaches(module: Path, source: str) -> list[tuple[int, str, tuple[str, ...]]]:
    """Each import in module (its source) of another domain: (line, the module named, the names
    taken from it)."""
    own = module.relative_to(WEBAPP).parts[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "webapp" and len(parts) > 1 and parts[1] in DOMAINS and parts[1] != own:
                    found.append((node.lineno, alias.name, ("<the module>",)))
        elif isinstance(node, ast.ImportFrom):
            target, names = _target(module, node), tuple(alias.name for alias in node.names)
            parts = target.split(".")
            if target == "webapp":  # `from .. import orders` takes a whole domain: not a public name
                found += [(node.lineno, f"webapp.{name}", ("<the package>",))
                          for name in names if name in DOMAINS and name != own]
            elif parts[0] == "webapp" and len(parts) > 1 and parts[1] in DOMAINS and parts[1] != own:
                found.append((node.lineno, target, names))
    return found


def problems(module: Path, source: str) -> list[str]:
    """Every reach of module into another domain past that domain's public names."""
    out = []
    for line, target, names in _reaches(module, source):
        where = f"{module.relative_to(WEBAPP.parent)}:{line}"
        package = ".".join(target.split(".")[:2])
        if target != package or names[0].startswith("<"):
            out.append(f"{where}: imports {target} (import the names {package} exports instead)")
            continue
        exported = set(getattr(importlib.import_module(package), "__all__", ()))
        out += [f"{where}: {package} does not export {name} (add it to its __all__, or ask the registry)"
                for name in names if name not in exported]
    return out


def test_domains_reach_each_other_only_through_public_names():
    """No domain imports another domain's modules or a name its package does not export."""
    found = []
    for domain in DOMAINS:
        for module in sorted((WEBAPP / domain).rglob("*.py")):
            found += problems(module, module.read_text(encoding="utf-8"))
    assert found == []


def test_each_public_name_is_importable():
    """What a domain exports is there: each name of __all__ resolves (lazily, from its module)."""
    for domain in DOMAINS:
        package = importlib.import_module(f"webapp.{domain}")
        for name in getattr(package, "__all__", ()):
            assert getattr(package, name) is not None, f"webapp.{domain}.{name}"


PROBE = WEBAPP / "costing" / "probe.py"  # a module of the costing domain, as the check sees it


@pytest.mark.parametrize("statement", [
    "from ..orders.models import Order",
    "from ..orders import models",
    "from ..orders import OrderForm",
    "from webapp.shipping.services import is_problem",
    "import webapp.orders.models",
    "from .. import orders",
    "def f():\n    from ..shipping.models import Shipment",
])
def test_a_reach_into_another_domain_is_refused(statement):
    """The check itself: each way into another domain's insides is reported, in a function too."""
    assert problems(PROBE, statement + "\n"), statement


@pytest.mark.parametrize("statement", [
    "from ..orders import Order, lifecycle",
    "from ..orders import lifecycle as order_lifecycle",
    "from .models import CostSheet",
    "from ..links import AccessLink",
    "from ..public.copies import within_retention",
])
def test_public_names_own_modules_and_shared_services_pass(statement):
    """Another domain's public names, the domain's own modules and the shared services are the way in."""
    assert problems(PROBE, statement + "\n") == []


def test_no_two_views_claim_the_same_address(app):
    """Two domains registering one rule (the projects' /c/<token>/files/<id> once shadowed the
    requirements' own, and every customer's requirement file answered 404): each rule and method once."""
    seen: dict = {}
    clashes = []
    for rule in app.url_map.iter_rules():
        shape = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", "<>", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            key = (shape, method)
            if key in seen and seen[key] != rule.endpoint:
                clashes.append(f"{method} {rule.rule}: {seen[key]} and {rule.endpoint}")
            seen.setdefault(key, rule.endpoint)
    assert clashes == []
