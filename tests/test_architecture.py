"""Each layer imports only the layers beneath it (STYLE.md, "Dependency direction")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "techbridge"
LAYERS = ("domain", "text", "store", "match", "ingest", "analytics", "services", "api", "web", "cli")
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "text": set(),
    "store": {"domain"},
    "match": {"domain", "text"},
    "ingest": {"domain", "text", "store"},
    "analytics": {"domain", "store"},
    "services": {"domain", "text", "store", "match", "ingest", "analytics"},
    "api": {"domain", "text", "store", "match", "ingest", "analytics", "services", "request_context"},
    "web": {"domain", "text", "store", "match", "ingest", "analytics", "services", "request_context"},
    "cli": {"domain", "text", "store", "match", "ingest", "analytics", "services", "api", "app"},
}
COMPOSITION_ROOT = "app"
"""``techbridge/app.py`` puts the API and the web pages together; nothing else imports both."""
SHARED = {"errors", "config", "__version__"}  # leaf modules anyone may use


def _imported_layers(path: Path) -> set[str]:
    layer_depth = len(path.relative_to(PACKAGE).parts) - 1
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = list(path.relative_to(PACKAGE).parts[:-1])[: max(0, layer_depth - node.level + 1)]
                target = [*parts, *(node.module or "").split(".")]
                target = [t for t in target if t]
                if not target and node.names:
                    target = [node.names[0].name]
                found.add(target[0] if target else "")
            elif node.module and node.module.startswith("techbridge."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("techbridge."))
    return found


@pytest.mark.parametrize("layer", LAYERS)
def test_layer_imports_only_what_is_beneath(layer: str) -> None:
    folder = PACKAGE / layer
    if not folder.exists():
        pytest.skip(f"{layer} not built yet")
    for path in folder.rglob("*.py"):
        bad = _imported_layers(path) - ALLOWED[layer] - SHARED - {layer, "", "__init__"}
        assert not bad, f"{path.relative_to(PACKAGE)} imports {sorted(bad)}"


def test_no_module_imports_another_modules_private_names() -> None:
    """A ``_helper`` is free to change; anything two modules share belongs in a public module."""
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (
                node.level or (node.module or "").startswith("techbridge")
            ):
                private = [
                    a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")
                ]
                assert not private, (
                    f"{path.relative_to(PACKAGE)} imports private {private} from {node.module}"
                )


def test_only_the_composition_root_imports_both_api_and_web() -> None:
    """The API and the pages are siblings on ``services``: neither loads the other, not even by name."""
    for path in PACKAGE.rglob("*.py"):
        layers = _imported_layers(path)
        text = path.read_text(encoding="utf-8")
        named = {layer for layer in ("api", "web") if f'"techbridge.{layer}' in text}
        if path == PACKAGE / f"{COMPOSITION_ROOT}.py":
            assert {"api", "web"} <= layers
            continue
        if path.is_relative_to(PACKAGE / "api"):
            assert "web" not in layers | named, f"{path.relative_to(PACKAGE)} reaches into web"
        if path.is_relative_to(PACKAGE / "web"):
            assert "api" not in layers | named, f"{path.relative_to(PACKAGE)} reaches into api"
        assert not {"api", "web"} <= layers, f"{path.relative_to(PACKAGE)} imports both api and web"


def test_no_module_loads_another_by_name() -> None:
    """Dependencies are imports the architecture test can see, not ``importlib`` strings
    (``"techbridge.app:create_app"``, uvicorn's entry point, names a function, not a module to load)."""
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                parts = node.value.split(".")
                module = PACKAGE.joinpath(*parts[1:])
                is_module = (
                    len(parts) > 1
                    and parts[0] == "techbridge"
                    and (module.with_suffix(".py").exists() or (module / "__init__.py").exists())
                )
                assert not is_module, f"{path.relative_to(PACKAGE)} names module {node.value!r}"


SERVICES = PACKAGE / "services"
OWN_UNIT_OF_WORK = {
    # Jobs and command-line loaders, not request services: each runs alone, long or in batches, and opens
    # (and commits) its own sessions from a database URL.
    "demo.ensure_demo_accounts",  # demo loaders (``techbridge demo``)
    "demo.create_sample_deals",
    "demo.load_demo",
    "jobs.cleanup",  # the worker's scheduled tidy-up
    "notifications.send_pending_emails",  # the worker's mail round
    "worker.run_pending",  # the worker itself
    "matching.run_batch",  # ``match --all`` and the batch job: commits batch by batch
    "matching.warm_up",  # before a server takes requests
    "matching.match_demand",  # the CLI's ``match demand ID``
    "matching.titles",  # the CLI's ``match demand ID`` listing
    "matching.index_dir",  # names the index directory after the URL; opens nothing
    "zone_registry.load_registry",  # ``techbridge zones load`` and the demo loader
    # Imports and exports stream a file through ``ingest`` in batches, each batch its own transaction.
    "transfer.import_upload",
    "transfer.export_visible",
}
"""``services`` functions that open their own unit of work instead of taking the caller's session."""
_URL_PARAMS = {"url", "database_url", "db_url"}


def _service_functions() -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    found = []
    for path in sorted(SERVICES.glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith("_"):
                found.append((f"{path.stem}.{node.name}", node))
    return found


def _called(call: ast.Call) -> str:
    return call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")


def _is_session(annotation: ast.expr | None) -> bool:
    if isinstance(annotation, ast.Constant):  # a quoted annotation
        return annotation.value == "Session"
    return (isinstance(annotation, ast.Name) and annotation.id == "Session") or (
        isinstance(annotation, ast.Attribute) and annotation.attr == "Session"
    )


def _opens_own_session(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    params = {a.arg for a in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]}
    calls = {_called(sub) for sub in ast.walk(node) if isinstance(sub, ast.Call)}
    return bool(params & _URL_PARAMS) or "session_scope" in calls


def _session_problem(name: str, node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """What breaks the convention in one public service function, or None."""
    if name in OWN_UNIT_OF_WORK:
        return (
            None if _opens_own_session(node) else f"{name} takes a session now: drop it from OWN_UNIT_OF_WORK"
        )
    if _opens_own_session(node):
        return f"services.{name} opens its own session: take the caller's as the first argument"
    args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
    typed = [a.arg for a in args if _is_session(a.annotation)]
    first = [a.arg for a in [*node.args.posonlyargs, *node.args.args][:1]]
    if typed and (typed != ["session"] or first != ["session"]):
        return (
            f"services.{name}: the caller's Session comes first, named session (has {typed}, first {first})"
        )
    return None


def test_request_services_take_the_callers_session_first() -> None:
    """A request's service calls share the one session its dependency opened (``api.deps.SessionDep``, a
    page's ``session_scope``): every public service function that reads or writes the database takes it
    as its first argument, named ``session``, and only the job entry points listed above open their own."""
    functions = _service_functions()
    missing = OWN_UNIT_OF_WORK - {name for name, _ in functions}
    assert not missing, f"OWN_UNIT_OF_WORK names functions that no longer exist: {sorted(missing)}"
    problems = [p for name, node in functions if (p := _session_problem(name, node))]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("source", "broken"),
    [
        ("def f(session: Session, deal_id: int, *, user: User) -> None: ...", False),
        ("def f(user: User) -> bool: ...", False),  # no database at all
        ("def f(url: str, deal_id: int, *, user: User) -> None: ...", True),
        ("def f(settings: Settings) -> None:\n    with session_scope(settings.url) as s: ...", True),
        ("def f(db: Session, *, user: User) -> None: ...", True),
        ("def f(deal_id: int, session: Session) -> None: ...", True),
        ("def f(session: 'Session') -> None: ...", False),
    ],
)
def test_the_session_rule_sees_what_it_should(source: str, broken: bool) -> None:
    """The check above would pass on an empty or misread tree; this keeps it honest."""
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.FunctionDef)
    assert (_session_problem("example.f", node) is not None) == broken
