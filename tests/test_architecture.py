"""Each layer imports only the layers beneath it (STYLE.md, "Dependency direction")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "techbridge"
LAYERS = ("domain", "text", "store", "match", "ingest", "deals", "analytics", "services", "api", "web", "cli")
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "text": set(),
    "store": {"domain"},
    "match": {"domain", "text"},
    "ingest": {"domain", "text", "store"},
    "deals": {"domain", "store", "match"},
    "analytics": {"domain", "store"},
    "services": {"domain", "text", "store", "match", "ingest", "deals", "analytics"},
    "api": {"domain", "text", "store", "match", "ingest", "deals", "analytics", "services", "web"},
    "web": {"domain", "text", "store", "match", "ingest", "deals", "analytics", "services", "api"},
    "cli": {"domain", "text", "store", "match", "ingest", "deals", "analytics", "services", "api"},
}
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
