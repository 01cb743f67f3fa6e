"""Running a job: what a handler receives (:class:`JobContext`) and the one function the Celery
task calls (:func:`run`).

A job may be run more than once: the broker hands its task out again when the worker running it
dies (acks_late). The runner then resumes it: the handler sees ``ctx.attempt > 1`` and the
checkpoint (``ctx.state``) it committed with its last finished chunk, and carries on from there.
Because a chunk's writes, its progress and its checkpoint commit in one transaction, no item is
applied twice, and a cancel is honoured between chunks.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import uuid
from collections.abc import Iterator
from typing import IO, Any

from django.core.files import File
from django.db import DatabaseError, connection
from django.utils import timezone

from jobs import registry, services
from jobs.models import Job, JobStatus
from porta.core.context import Actor, RequestContext, reset_request_context, set_request_context
from porta.core.errors import ApiError

logger = logging.getLogger("porta.jobs")


class JobCancelled(Exception):  # noqa: N818 - a signal to stop, not an error
    """Raised by the context when the job is no longer running (cancelled); the runner stops
    quietly. Inside a chunk's transaction it rolls the chunk back."""


class JobContext:
    """What a handler receives: the job's parameters and scope, who started it, and the means to
    report progress, keep a checkpoint, notice a cancel and leave a file."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self._file_written = False

    @property
    def id(self) -> uuid.UUID:
        return self.job.id

    @property
    def kind(self) -> str:
        return self.job.kind

    @property
    def parameters(self) -> dict[str, Any]:
        return self.job.parameters

    @property
    def organization_id(self) -> uuid.UUID | None:
        """The organization the job may act within; None only for jobs started by a global
        credential. Handlers must keep every read and write inside it."""
        return self.job.organization_id

    @property
    def actor(self) -> Actor:
        """Who started the job: pass it to the services the handler calls, so the audit entries
        name them (the request id of the starting request is already set)."""
        return self.job.actor

    @property
    def attempt(self) -> int:
        """1 on the first run; more when a worker died and the job is resumed."""
        return self.job.attempts

    @property
    def state(self) -> dict[str, Any]:
        """The checkpoint last committed through :meth:`progress` (``{}`` at first)."""
        return self.job.state

    @property
    def done(self) -> int:
        return self.job.progress_done

    def set_total(self, total: int) -> None:
        """Say how many items the job has (progress ``total``)."""
        self._update(progress_total=total)
        self.job.progress_total = total

    def progress(
        self, *, done: int | None = None, advance: int = 0, state: dict[str, Any] | None = None
    ) -> None:
        """Record progress (``done`` absolute, or ``advance`` by a count) and, optionally, the new
        checkpoint. Call it inside the transaction of the chunk it reports, after the chunk's
        writes: the chunk, its progress and its checkpoint then commit together, and if the job
        was cancelled meanwhile this raises :class:`JobCancelled` and the chunk rolls back."""
        new_done = done if done is not None else self.job.progress_done + advance
        fields: dict[str, Any] = {"progress_done": new_done}
        if state is not None:
            fields["state"] = state
        self._update(**fields)
        self.job.progress_done = new_done
        if state is not None:
            self.job.state = state

    def check_cancelled(self) -> None:
        """Raise :class:`JobCancelled` if the job was cancelled; call it between chunks."""
        status = Job.objects.filter(pk=self.job.pk).values_list("status", flat=True).first()
        if status != JobStatus.RUNNING:
            raise JobCancelled

    @contextlib.contextmanager
    def write_file(self, filename: str, content_type: str) -> Iterator[IO[bytes]]:
        """A binary file to write the job's download into (a temporary file on local disk, so
        memory stays constant); when the block ends without an error it is stored through the
        ``jobs`` storage and recorded on the job. A rerun replaces the file. Wrap it in
        ``io.TextIOWrapper(f, encoding="utf-8", newline="")`` to write text (csv)."""
        with tempfile.TemporaryFile() as spool:
            yield spool
            spool.flush()
            size = spool.tell()
            spool.seek(0)
            self.check_cancelled()
            job = self.job
            old_name = Job.objects.filter(pk=job.pk).values_list("file", flat=True).first()
            job.file.save(os.path.basename(filename), File(spool), save=False)
            now = timezone.now()
            Job.objects.filter(pk=job.pk).update(
                file=job.file.name,
                file_name=filename,
                file_content_type=content_type,
                file_size=size,
                file_expires_at=now + services.file_retention(),
                updated_at=now,
            )
            if old_name and old_name != job.file.name:
                job.file.storage.delete(old_name)
            self._file_written = True

    def _update(self, **fields: Any) -> None:
        updated = Job.objects.filter(pk=self.job.pk, status=JobStatus.RUNNING).update(
            **fields, updated_at=timezone.now()
        )
        if not updated:
            raise JobCancelled


def run(job_id: str) -> None:
    """Run (or resume) one job to its end. Never raises for the job's own failures: they are
    recorded on the job (a failed job is not retried; a dead worker's job is, by redelivery)."""
    with _run_lock(job_id) as held:
        if not held:
            # Another process runs this job now (the broker handed its task out again while it
            # still ran). If that process dies, the stranded-job sweep hands the job on.
            logger.info("Job %s is being run by another worker; this copy of the task stops", job_id)
            return
        job = services.job_start(job_id=job_id)
        if job is None or job.is_finished:
            return
        kind = registry.get(job.kind)
        token = set_request_context(RequestContext(request_id=job.request_id))
        try:
            _execute(job, kind)
        finally:
            reset_request_context(token)


def _execute(job: Job, kind: registry.JobKind) -> None:
    context = JobContext(job)
    try:
        result = kind.handler(context)
    except JobCancelled:
        logger.info("Job %s (%s) stopped: cancelled", job.id, job.kind)
        return
    except ApiError as exc:
        services.job_fail(job=job, error=exc.message)
        return
    except Exception:
        logger.exception("Job %s (%s) failed", job.id, job.kind)
        services.job_fail(job=job, error=_internal_error(job))
        return
    try:
        services.job_succeed(job=job, result=result)
    except (TypeError, ValueError):  # a result that is not JSON
        logger.exception("Job %s (%s) returned a result that cannot be stored", job.id, job.kind)
        services.job_fail(job=job, error=_internal_error(job))


def _internal_error(job: Job) -> str:
    """What the caller reads of a failure nobody anticipated: the details are in the log only."""
    return f"Internal error while running the job (request id {job.request_id or '-'})"


@contextlib.contextmanager
def _run_lock(job_id: str) -> Iterator[bool]:
    """A session-level PostgreSQL advisory lock held while one process runs the job; released
    when the holder's connection closes, so a killed worker does not keep it. Without PostgreSQL
    (SQLite, eager, one at a time) there is nothing to exclude."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        # Inside a transaction (eager in a test's transaction) the lock would outlive nothing.
        yield True
        return
    key = (uuid.UUID(str(job_id)).int >> 1) & (2**63 - 1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
            except DatabaseError:  # the connection is gone, and the lock with it
                logger.warning("Job %s: the connection holding its lock was lost", job_id)
