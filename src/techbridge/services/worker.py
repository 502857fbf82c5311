"""The worker process (``techbridge worker``): runs queued jobs one at a time and tidies up on a schedule.

Each loop claims the next due job (atomically, so several workers may run side by side), runs its
handler, and records how it ended. Between jobs, and at most every ``HOUSEKEEPING_EVERY`` seconds, it
sends pending notification e-mails and runs ``jobs.cleanup`` (old jobs, abandoned uploads, expired login
attempts, jobs of a worker that died). While a job runs, a heartbeat thread touches the job's progress
file, so a long step that reports no progress is not mistaken for a dead worker.

A first SIGTERM or Ctrl-C asks the running job to stop at its next progress report; its work is rolled
back and it is queued again for the next worker start.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field

from ..config import Settings
from ..errors import TechBridgeError
from ..store import jobs as store
from ..store.db import session_scope
from ..store.jobs import CANCELLED, FAILED, SUCCEEDED, Job
from . import jobs, notifications
from .tasks import HANDLERS, JobCancelled, JobContext, JobFailed, WorkerStopping

log = logging.getLogger("techbridge.worker")

HOUSEKEEPING_EVERY = 60.0
HEARTBEAT_EVERY = 10.0
FINISH_ATTEMPTS = 5


@dataclass
class Worker:
    url: str
    settings: Settings
    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    stopping: threading.Event = field(default_factory=threading.Event)
    _housekept: float = 0.0

    def run(self, *, once: bool = False) -> int:
        """Work until ``stop()`` (or, with ``once``, until the queue is empty); returns jobs run."""
        ran = 0
        while not self.stopping.is_set():
            self.housekeeping()
            try:
                claimed = self.run_next()
            except Exception:  # the database is busy or away (SQLite locked, PostgreSQL restarting)
                log.exception("could not claim a job; retrying")
                self.stopping.wait(max(1.0, 5 * self.settings.worker_poll_seconds))
                continue
            if claimed:
                ran += 1
                continue
            if once:
                break
            self.stopping.wait(self.settings.worker_poll_seconds)
        return ran

    def stop(self) -> None:
        self.stopping.set()

    def housekeeping(self, *, force: bool = False) -> None:
        """Heartbeat, e-mail and cleanup, at most every ``HOUSEKEEPING_EVERY`` seconds (or now)."""
        marker = jobs.jobs_root(self.settings) / "worker.heartbeat"
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(self.name, encoding="utf-8")
        now = time.monotonic()
        if not force and now - self._housekept < HOUSEKEEPING_EVERY:
            return
        self._housekept = now
        try:
            mail = notifications.send_pending_emails(self.url, self.settings)
            tidy = jobs.cleanup(self.url, self.settings)
        except Exception:  # housekeeping must never stop the worker; the next round retries
            log.exception("housekeeping failed")
            return
        if mail.sent or mail.failed or tidy.jobs_removed or tidy.uploads_removed or tidy.jobs_requeued:
            log.info("housekeeping: %s; %s", mail, tidy)

    def run_next(self) -> bool:
        """Claim and run one due job; False when none is due."""
        with session_scope(self.url) as session:
            job = store.claim(session, worker=self.name)
        if job is None:
            return False
        self.run_job(job)
        return True

    def run_job(self, job: Job) -> None:
        ctx = JobContext(self.url, self.settings, job, stopping=self.stopping)
        ctx.files.write_progress(0, None, "开始")
        beating = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(ctx, beating), daemon=True)
        beat.start()
        state, result, error = SUCCEEDED, None, None
        log.info("job %s (%s) started: %s", job.id, job.kind, job.title)
        try:
            result = HANDLERS[job.kind](ctx)
        except JobCancelled:
            state, error = CANCELLED, "已取消, 未写入任何数据"
        except WorkerStopping:
            beating.set()
            with session_scope(self.url) as session:
                store.requeue(session, job.id, note="后台进程重启, 已重新排队")
            log.info("job %s requeued: worker stopping", job.id)
            return
        except JobFailed as exc:
            state, result, error = FAILED, exc.result, exc.message
        except TechBridgeError as exc:
            state, error = FAILED, exc.message
        except Exception as exc:  # a bug: keep the worker alive, tell the user, log the traceback
            log.exception("job %s failed", job.id)
            state, error = FAILED, f"任务执行出错: {type(exc).__name__}: {exc}"[:500]
        finally:
            beating.set()
        if state == SUCCEEDED and not ctx.last[1]:
            ctx.last = (1, 1, ctx.last[2])  # a job with nothing to count is simply done: a full bar
        for attempt in range(FINISH_ATTEMPTS):  # the database may be busy for a moment (SQLite)
            try:
                with session_scope(self.url) as session:
                    store.finish(session, job.id, state=state, result=result, error=error, progress=ctx.last)
                break
            except Exception:
                if attempt == FINISH_ATTEMPTS - 1:
                    raise  # left running: the stale-job check queues it again
                log.warning("could not record the end of job %s; retrying", job.id)
                time.sleep(2)
        log.info("job %s %s", job.id, state)

    def _heartbeat(self, ctx: JobContext, done: threading.Event) -> None:
        while not done.wait(HEARTBEAT_EVERY):
            ctx.files.write_progress(*ctx.last)


def run_pending(url: str, settings: Settings) -> int:
    """Run every job that is due now, in this process, and return how many ran (tests, ``--once``)."""
    return Worker(url, settings).run(once=True)
