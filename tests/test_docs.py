"""Docs that cannot drift: every setting documented, every command has help."""

from __future__ import annotations

from pathlib import Path

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
