"""Docs that cannot drift: every setting documented, every command has help."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import typer

from techbridge.cli import _register, app
from techbridge.config import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs"
_register()


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    assert f"TECHBRIDGE_{name.upper()}" in (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert Settings.model_fields[name].description


def _commands(typer_app: typer.Typer) -> list[tuple[str, object]]:
    found = [(c.name or c.callback.__name__, c.callback) for c in typer_app.registered_commands]  # type: ignore[union-attr]
    for group in typer_app.registered_groups:
        found += _commands(group.typer_instance)  # type: ignore[arg-type]
    return found


def test_every_command_has_help() -> None:
    commands = _commands(app)
    assert len(commands) >= 6
    for name, callback in commands:
        assert callback.__doc__, f"command {name} has no help text"  # type: ignore[attr-defined]


def test_import_doc_lists_every_field() -> None:
    from techbridge.domain.records import RECORD_TYPES

    text = (DOCS / "import-formats.md").read_text(encoding="utf-8")
    for kind, record_type in RECORD_TYPES.items():
        for field in record_type.model_fields:
            assert f"`{field}`" in text, f"{kind}.{field} missing from docs/import-formats.md"


def _cli_docs_script() -> ModuleType:
    path = DOCS.parent / "scripts" / "cli_docs.py"
    spec = importlib.util.spec_from_file_location("cli_docs", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_docs_are_current() -> None:
    script = _cli_docs_script()
    fresh = script.render()
    assert (DOCS / "cli.md").read_text(encoding="utf-8") == fresh, (
        "docs/cli.md is stale: run .venv/bin/python scripts/cli_docs.py"
    )
    # Every command and subcommand has its own section, so nothing is left out of the reference.
    for name, _callback in _commands(app):
        assert f" {name}`\n" in fresh, f"command {name} missing from docs/cli.md"


@pytest.mark.parametrize(
    "use",
    [
        "-X POST http://127.0.0.1:8000/api/v1/login",
        "--data-urlencode 'q=",
        "http://127.0.0.1:8000/api/v1/demands \\",
        "/api/v1/demands/1/matches",
        '-X POST -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8000/api/v1/demands/1/match',
        "/api/v1/imports/demands?dry_run=true",
        "/api/v1/imports/demands?dry_run=false",
        "/api/v1/exports/achievements?format=xlsx",
        "http://127.0.0.1:8000/api/v1/deals \\",
        "/api/v1/deals/$DEAL/transitions",
        "/api/v1/analytics/funnel",
    ],
)
def test_api_doc_has_a_curl_example_per_main_use(use: str) -> None:
    examples = (DOCS / "api.md").read_text(encoding="utf-8").split("```bash")[1:]
    assert any(use in block.split("```")[0] for block in examples), f"no curl example with {use!r}"


def test_api_doc_names_every_analytics_metric() -> None:
    from techbridge.services.analytics import METRICS

    text = (DOCS / "api.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in text for name in METRICS)
