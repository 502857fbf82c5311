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
