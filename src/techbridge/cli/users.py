"""Commands for accounts and for serving the app: ``techbridge user create``, ``techbridge serve``."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from ..config import SECRET_FILE
from ..domain.accounts import ROLE_LABELS_ZH, Role
from . import app
from .records import database_url

user_app = typer.Typer(help="Manage accounts (账户管理).", no_args_is_help=True)
app.add_typer(user_app, name="user")

ROLE_HELP = "; ".join(f"{role.value} = {label}" for role, label in ROLE_LABELS_ZH.items())


@user_app.command("create")
def create_user_command(
    username: Annotated[str, typer.Option(help="Login name, 3–50 characters")],
    role: Annotated[Role, typer.Option(help=ROLE_HELP)],
    zone: Annotated[str | None, typer.Option(help="Zone code (every role except platform_admin)")] = None,
    org: Annotated[
        str | None, typer.Option(help="Organisation name (enterprise, university, expert)")
    ] = None,
    display_name: Annotated[str, typer.Option(help="Name shown in the UI; experts: their own name")] = "",
    password: Annotated[
        str,
        typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="Prompted when omitted"),
    ] = "",
) -> None:
    """Create an account, e.g. the first platform administrator."""
    from ..services.accounts import create_user
    from ..store.db import init_db, session_scope

    url = database_url()
    init_db(url)
    with session_scope(url) as session:
        user = create_user(
            session,
            username=username,
            password=password,
            role=role,
            zone_code=zone,
            organization=org,
            display_name=display_name,
        )
    where = f", 园区 {user.zone_code}" if user.zone_code else ""
    typer.echo(f"已创建{user.role_label} {user.username} (编号 {user.id}{where})")


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development)")] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Web worker processes; each builds the app from the environment's settings, and all "
            "share the match index's pages (docs/deployment.md)",
        ),
    ] = 1,
) -> None:
    """Serve the web app and the REST API (/api/v1, docs at /api/v1/docs)."""
    import uvicorn

    from ..app import SERVER_OPTIONS
    from ..config import get_settings, resolve_secret
    from ..store.db import init_db

    if reload and workers > 1:
        typer.secho("无法启动: --reload 与 --workers 不能同时使用", err=True, fg="red")
        raise typer.Exit(2)
    try:
        settings = resolve_secret(get_settings())
    except ValueError as exc:
        typer.secho(f"无法启动: {exc}", err=True, fg="red")
        raise typer.Exit(1) from None
    if not settings.is_production and not get_settings().secret_key:
        typer.secho(
            f"警告: 未设置 TECHBRIDGE_SECRET_KEY, 使用自动生成的密钥 {settings.data_dir / SECRET_FILE} "
            f"(仅供开发/演示; 上线请设置 TECHBRIDGE_ENVIRONMENT=production 和 TECHBRIDGE_SECRET_KEY)",
            err=True,
            fg="yellow",
            bold=True,
        )
    init_db(database_url())
    if not reload:  # --reload serves from a child process, which would load everything again
        from ..services.matching import one_malloc_arena, one_thread_per_request, warm_up

        one_malloc_arena()  # before the index loads and any request thread starts

        # One OpenMP thread before torch loads: a request per core already, and the workers forked below
        # then inherit no idle thread pool (an OpenMP pool does not survive a fork).
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        typer.echo("正在加载匹配模型与索引 (loading the matcher) ...")
        warm_up(database_url(), settings)
        one_thread_per_request()
    if workers > 1:
        _share_with_workers(database_url())
    typer.echo(f"TechBridge 正在运行: http://{host}:{port}/  (API 文档: http://{host}:{port}/api/v1/docs)")
    uvicorn.run(
        "techbridge.app:create_app",
        factory=True,
        host=host,
        port=port,
        reload=reload,
        workers=workers,
        **SERVER_OPTIONS,  # type: ignore[arg-type]
    )


def _share_with_workers(url: str) -> None:
    """Load here what every worker needs and nobody changes (the app's modules, jieba's dictionary), then
    fork the workers from this process instead of starting each afresh: those pages stay shared,
    copy-on-write, instead of every worker importing and loading its own copy (about 180 MB each;
    measured in benchmarks/bench_workers.py). The match index itself is shared through its mapped
    snapshot (``MatchEngine.load``)."""
    import gc
    import multiprocessing

    from uvicorn import _subprocess

    from ..app import create_app
    from ..store.db import get_engine
    from ..text import Analyzer

    create_app()  # imports every router and template helper
    Analyzer().tokenize("预热")  # loads jieba's dictionary
    get_engine(url).dispose()  # a pooled connection must not be shared by forked processes
    gc.collect()
    gc.freeze()  # the collector then never writes into the shared objects' headers
    # uvicorn starts its workers with the "spawn" method (a fresh interpreter each); "fork" keeps the
    # pages loaded above. Every worker still builds its own app (``create_app``) from the settings.
    _subprocess.spawn = multiprocessing.get_context("fork")  # type: ignore[assignment]
