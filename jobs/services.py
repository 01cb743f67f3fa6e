"""Writes to jobs: enqueueing, the status moves of the transition engine, cancelling, the retention
of job files and re-queueing jobs the broker lost. Every write is audited as the job's starter
(the runner) or the caller (cancel)."""

from __future__ import annotations

import datetime
import logging
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from audit import services as audit
from audit.transitions import Change, StateMachine, Transition, transition
from audit.writes import Audited, wire_fields
from jobs import registry
from jobs.models import Job, JobStatus
from jobs.storage import job_storage
from porta.core.context import Actor, current_request_context

logger = logging.getLogger("porta.jobs")

AUDITED = Audited(
    target_type="job",
    fields=wire_fields("status"),
    organization=lambda job: job.organization_id,
    metadata=lambda job: {"kind": job.kind},
)

_LIVE = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})

TRANSITIONS = {
    "start": Transition(frozenset({JobStatus.QUEUED}), JobStatus.RUNNING, "job.started"),
    "succeed": Transition(frozenset({JobStatus.RUNNING}), JobStatus.SUCCEEDED, "job.succeeded"),
    "fail": Transition(_LIVE, JobStatus.FAILED, "job.failed"),
    "cancel": Transition(_LIVE, JobStatus.CANCELLED, "job.cancelled"),
}


def _timestamps(job: Job, change: Change) -> None:
    if change.action == "start":
        job.started_at = change.now
        job.attempts += 1
        change.save_fields += ["started_at", "attempts"]
    else:
        job.finished_at = change.now
        change.save_fields.append("finished_at")


STATUS = StateMachine(noun="job", table=TRANSITIONS, audited=AUDITED, effect=_timestamps)


def job_enqueue(
    *,
    kind: str,
    actor: Actor,
    organization_id: uuid.UUID | None,
    parameters: dict[str, Any] | None = None,
    total: int | None = None,
) -> Job:
    """Store a queued job and hand it to a worker once the surrounding transaction commits (at
    once, in-process, when no broker is configured). ``organization_id`` is the organization the
    job acts within (None: every organization, for global credentials only); the handler must
    keep to it. The current request id is kept so the job's audit entries carry it."""
    if registry.get(kind) is None:
        raise ValueError(f"unknown job kind {kind!r}; register it in an AppConfig.ready()")
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind,
            parameters=parameters or {},
            progress_total=total,
            actor_type=actor.type,
            actor_id=actor.id,
            actor_label=actor.label[:255],
            organization_id=organization_id,
            request_id=current_request_context().request_id[:200],
        )
        AUDITED.record_created("job.created", actor=actor, row=job, metadata={"parameters": job.parameters})
        job_id = str(job.id)
        transaction.on_commit(lambda: dispatch(job_id))
    return job


def dispatch(job_id: str) -> None:
    """Hand a committed job to a worker. With the broker down the job stays ``queued`` and the
    beat task that re-queues stranded jobs hands it on later."""
    from jobs.tasks import run_job

    try:
        run_job.delay(job_id)
    except BrokerUnavailable as exc:
        logger.error("Cannot queue job %s, the broker is unavailable: %s", job_id, exc)


def job_cancel(*, actor: Actor, job: Job) -> Job:
    """Cancel a queued or running job (409 once it has finished). A running job stops at its next
    chunk: the chunk in flight is rolled back (its progress update finds the job cancelled)."""
    return transition(STATUS, job, "cancel", actor=actor)


@transaction.atomic
def job_start(*, job_id: uuid.UUID | str) -> Job | None:
    """The runner's claim: a queued job moves to running; a running one (its worker died and the
    broker handed the task out again) is resumed from its checkpoint. None: nothing to run."""
    job = Job.objects.select_for_update().filter(pk=job_id).first()
    if job is None or job.is_finished:
        return None
    if registry.get(job.kind) is None:
        return job_fail(job=job, error=f"Unknown job kind '{job.kind}'")
    if job.status == JobStatus.QUEUED:
        return transition(STATUS, job, "start", actor=job.actor)
    job.attempts += 1
    job.save(update_fields=["attempts"])
    AUDITED.record("job.resumed", actor=job.actor, row=job, metadata={"attempt": job.attempts})
    return job


@transaction.atomic
def job_succeed(*, job: Job, result: Any) -> Job | None:
    """Finish with ``result``; None when the job was cancelled meanwhile (cancel wins)."""
    if not Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(result=result):
        return None
    return transition(STATUS, job, "succeed", actor=job.actor)


@transaction.atomic
def job_fail(*, job: Job, error: str) -> Job | None:
    """Finish with ``error``; None when the job had already finished (cancelled meanwhile)."""
    if not Job.objects.filter(pk=job.pk, status__in=_LIVE).update(error=error[:4000]):
        return None
    return transition(STATUS, job, "fail", actor=job.actor, metadata={"error": error[:4000]})


def file_retention() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.PORTA_JOB_FILE_RETENTION)


def jobs_purge_expired_files(*, now: datetime.datetime | None = None, limit: int = 1000) -> int:
    """Delete job files past their retention (PORTA_JOB_FILE_RETENTION) from the storage and
    forget them on their jobs, one audit entry per job. Returns how many were deleted."""
    now = now or timezone.now()
    expired = list(
        Job.objects.filter(file_expires_at__lte=now).exclude(file="").order_by("file_expires_at")[:limit]
    )
    storage = job_storage()
    purged: list[Job] = []
    for job in expired:
        try:
            storage.delete(job.file.name)
        except Exception:  # noqa: BLE001 - one unreachable file must not stop the others
            logger.exception("Cannot delete the file of job %s", job.id)
            continue
        purged.append(job)
    if purged:
        with transaction.atomic():
            Job.objects.filter(pk__in=[job.pk for job in purged]).update(
                file="", file_size=None, file_expires_at=None, updated_at=now
            )
            system = Actor.system("jobs retention")
            audit.record_many(
                audit.entry(
                    event_type="job.file_deleted",
                    actor=system,
                    organization_id=job.organization_id,
                    target_type="job",
                    target_id=job.pk,
                    metadata={"kind": job.kind, "fileName": job.file_name},
                )
                for job in purged
            )
    return len(purged)


def jobs_requeue_stranded(*, limit: int = 1000) -> int:
    """Hand again to a worker the jobs whose task the broker lost (Redis flushed or down when the
    job was queued, or a redelivered copy dropped while another worker held the job): queued or
    running, untouched for longer than the broker's visibility timeout. A second task for a job a
    worker is in fact running is harmless: the runner's lock lets one through."""
    stale = timezone.now() - datetime.timedelta(seconds=settings.PORTA_BROKER_VISIBILITY_TIMEOUT)
    ids = list(
        Job.objects.filter(status__in=_LIVE, updated_at__lt=stale)
        .order_by("updated_at")
        .values_list("id", flat=True)[:limit]
    )
    for job_id in ids:
        dispatch(str(job_id))
    if ids:
        logger.warning("Re-queued %d job(s) whose task the broker no longer held", len(ids))
    return len(ids)
