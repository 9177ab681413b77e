"""The worker process: one loop claiming jobs, one loop per periodic task (app/worker/tasks.py).

``scms worker`` runs one; ``scms serve`` embeds one unless ``SCMS_EMBEDDED_WORKER=false``.
Any number share a PostgreSQL database: jobs are claimed ``FOR UPDATE SKIP LOCKED``
under a lease (``SCMS_WORKER_LEASE_SECONDS``) that the worker extends while it works; a
worker killed outright stops extending it, and once it has run out another takes the job
over (a bill run resumes where the killed one stopped).

:meth:`Worker.stop` (SIGTERM, the server shutting down) stops claiming, gives the job in
hand ``SHUTDOWN_GRACE`` seconds to finish, then cancels it (its open transaction rolls
back) and releases it to the queue at once, so another worker need not wait for the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta

from app.core import jobs
from app.core.clock import Clock
from app.core.database import Database
from app.core.outage import is_database_unavailable
from app.core.settings import Settings
from app.sandbox.clock import FollowingClock
from app.worker.tasks import HANDLERS, PERIODIC, Handler, Periodic

logger = logging.getLogger("scms.worker")

SHUTDOWN_GRACE = 5.0
MAX_ATTEMPTS = 5
# After a failed attempt: 5 s, 10 s, 20 s, … (a database away, a bug being fixed).
RETRY_BASE_SECONDS = 5


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        clock: Clock,
        *,
        handlers: Mapping[str, Handler] = HANDLERS,
        periodic: Sequence[Periodic] = PERIODIC,
        name: str | None = None,
    ) -> None:
        self.database, self.settings = database, settings
        # Issue 15: in a sandbox, the worker's today follows the stored offset, as the API's.
        self.following = FollowingClock(clock) if settings.sandbox else None
        self.clock: Clock = self.following or clock
        self.handlers = dict(handlers)
        self.periodic = tuple(periodic)
        self.name = name or worker_name()
        self.lease = timedelta(seconds=settings.worker_lease_seconds)
        self.stopping = asyncio.Event()

    def stop(self) -> None:
        self.stopping.set()

    async def run(self) -> None:
        """Work until :meth:`stop`."""
        logger.info("worker started", extra={"worker": self.name})
        if self.following is not None:
            await self.following.follow(self.database)
        async with asyncio.TaskGroup() as loops:
            if self.following is not None:
                loops.create_task(self._follow_sandbox_clock(self.following))
            loops.create_task(self._jobs_loop())
            for task in self.periodic:
                loops.create_task(self._periodic_loop(task))
        logger.info("worker stopped", extra={"worker": self.name})

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)

    async def _follow_sandbox_clock(self, clock: FollowingClock) -> None:
        while not self.stopping.is_set():
            try:
                await clock.follow(self.database)
            except Exception as exc:
                self._log_failure("reading the sandbox clock failed", exc)
            await self._sleep(self.settings.worker_poll_seconds)

    async def _jobs_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                worked = await self.run_one_job()
            except Exception as exc:
                self._log_failure("claiming a job failed", exc)
                worked = False
            if not worked:
                await self._sleep(self.settings.worker_poll_seconds)

    async def _periodic_loop(self, task: Periodic) -> None:
        async with task.open() as run:
            while not self.stopping.is_set():
                try:
                    done = await run(self.database, self.settings, self.clock)
                except Exception as exc:
                    self._log_failure(f"periodic task {task.name} failed", exc)
                    done = 0
                if done <= 0:
                    await self._sleep(task.every)

    async def run_one_job(self) -> bool:
        """Claim one job and carry it out; False when none was waiting."""
        async with self.database.sessionmaker.begin() as session:
            claimed = await jobs.claim(
                session,
                worker=self.name,
                now=self.clock.now(),
                lease=self.lease,
                kinds=tuple(self.handlers),
            )
        if claimed is None:
            return False
        logger.info(
            "job claimed",
            extra={
                "job_id": claimed.id,
                "kind": claimed.kind,
                "key": claimed.key,
                "attempt": claimed.attempts,
                "worker": self.name,
            },
        )
        handler = self.handlers[claimed.kind]
        work = asyncio.create_task(handler(self.database, self.settings, self.clock, claimed.key))
        beat = asyncio.create_task(self._heartbeat(claimed))
        try:
            finished = await self._until_done_or_stopped(work)
        except asyncio.CancelledError:  # the worker itself is being cancelled
            work.cancel()
            with contextlib.suppress(BaseException):
                await work
            await asyncio.shield(self._release(claimed))
            raise
        finally:
            beat.cancel()
            with contextlib.suppress(BaseException):
                await beat
        if not finished:
            await self._release(claimed)
            return True
        await self._settle(claimed, work.exception())
        return True

    async def _until_done_or_stopped(self, work: asyncio.Task[None]) -> bool:
        """True once ``work`` has ended; False when it was cancelled for a stop."""
        stop = asyncio.create_task(self.stopping.wait())
        try:
            await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if not work.done():
            await asyncio.wait({work}, timeout=SHUTDOWN_GRACE)
        if work.done():
            return True
        work.cancel()
        with contextlib.suppress(BaseException):
            await work
        return False

    async def _heartbeat(self, claimed: jobs.Claimed) -> None:
        interval = self.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            try:
                async with self.database.sessionmaker.begin() as session:
                    held = await jobs.extend(
                        session,
                        claimed.id,
                        worker=self.name,
                        now=self.clock.now(),
                        lease=self.lease,
                    )
            except Exception as exc:
                self._log_failure("job lease not extended", exc)
                continue
            if not held:
                logger.warning(
                    "job lease lost: another worker took the job over",
                    extra={"job_id": claimed.id, "worker": self.name},
                )
                return

    async def _settle(self, claimed: jobs.Claimed, error: BaseException | None) -> None:
        now = self.clock.now()
        async with self.database.sessionmaker.begin() as session:
            if error is None:
                await jobs.finish(session, claimed.id, worker=self.name, now=now)
                logger.info("job done", extra={"job_id": claimed.id, "kind": claimed.kind})
                return
            text = f"{type(error).__name__}: {error}"[:2000]
            self._log_failure(f"job {claimed.kind} failed", error)
            if claimed.attempts >= MAX_ATTEMPTS and not is_database_unavailable(error):
                await jobs.finish(session, claimed.id, worker=self.name, now=now, error=text)
                return
            delay = RETRY_BASE_SECONDS * 2 ** min(claimed.attempts - 1, 8)
            await jobs.retry_later(
                session,
                claimed.id,
                worker=self.name,
                run_after=now + timedelta(seconds=delay),
                error=text,
            )

    async def _release(self, claimed: jobs.Claimed) -> None:
        try:
            async with self.database.sessionmaker.begin() as session:
                await jobs.release(session, claimed.id, worker=self.name, now=self.clock.now())
            logger.info("job released", extra={"job_id": claimed.id, "worker": self.name})
        except Exception as exc:  # its lease runs out by itself
            self._log_failure("job not released", exc)

    def _log_failure(self, message: str, exc: BaseException) -> None:
        if is_database_unavailable(exc):  # an outage is one line, not a traceback
            logger.warning(
                f"{message}: the database is unavailable",
                extra={"worker": self.name, "error": str(exc)[:300]},
            )
        else:
            logger.error(message, exc_info=exc, extra={"worker": self.name})
