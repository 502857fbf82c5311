"""The ``techbridge`` command: a thin shell over the library; each area registers its own commands."""

from __future__ import annotations

import typer
from pydantic import ValidationError

from ..domain.validation import describe_errors
from ..errors import TechBridgeError

app = typer.Typer(
    name="techbridge",
    help="TechBridge 科技成果转化撮合平台: import, match, track deals, serve the web app.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """TechBridge 科技成果转化撮合平台."""


def _register() -> None:
    # Imported here so that `techbridge --help` lists every area and each module stays independent.
    from . import (
        catalogue,  # noqa: F401
        demo,  # noqa: F401
        match,  # noqa: F401
        records,  # noqa: F401
        stats,  # noqa: F401
        users,  # noqa: F401
        worker,  # noqa: F401
        zones,  # noqa: F401
    )


def main() -> None:
    _register()
    try:
        app()
    except TechBridgeError as exc:
        typer.secho(f"错误: {exc.message}", err=True, fg="red")
        raise SystemExit(1) from exc
    except ValidationError as exc:  # a record built from command-line values
        for problem in describe_errors(exc):
            typer.secho(f"错误: {problem.field}: {problem.reason}", err=True, fg="red")
        raise SystemExit(1) from exc
