"""``techbridge worker``: the background-job worker (imports, exports, matching, e-mail, cleanup)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from typing import Annotated

import typer

from . import app
from .records import console, database_url


@app.command("worker")
def worker_command(
    once: Annotated[bool, typer.Option(help="Run the jobs that are due, then exit")] = False,
) -> None:
    """Run queued background jobs until stopped (Ctrl-C or SIGTERM finish or requeue the current job).

    Start one next to the web server with the same TECHBRIDGE_DATABASE_URL and TECHBRIDGE_DATA_DIR.
    """
    from ..config import get_settings
    from ..services.worker import Worker
    from ..store.db import init_db

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    url = database_url()
    init_db(url)
    worker = Worker(url, get_settings())

    def stop(_signum: int, _frame: object) -> None:
        worker.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    console.print(f"后台任务进程已启动 ({worker.name}), 数据库: {url}")
    ran = worker.run(once=once)
    console.print(f"后台任务进程已停止, 共运行 {ran} 个任务")


def start_worker_process() -> subprocess.Popen[bytes]:
    """A worker in a child process with this process's settings (``demo --serve`` runs one beside the
    web server)."""
    command = [sys.executable, "-c", "from techbridge.cli import main; main()", "worker"]
    return subprocess.Popen(command, env=dict(os.environ))
