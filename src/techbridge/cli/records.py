"""Commands for the records themselves: database set-up, import, export, demo."""

from __future__ import annotations

import typer

from . import app


@app.command("version")
def version() -> None:
    """Print the TechBridge version."""
    from .. import __version__

    typer.echo(__version__)
