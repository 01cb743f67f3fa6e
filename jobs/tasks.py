"""Celery adapters for jobs: take ids, call the runner or a service, idempotent (DESIGN.md)."""

from __future__ import annotations

from celery import shared_task

from jobs import runner, services


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_job(job_id: str) -> None:
    """Run one job. Acknowledged late: if the worker dies mid-job the broker hands the task out
    again after PORTA_BROKER_VISIBILITY_TIMEOUT and the job resumes from its checkpoint."""
    runner.run(job_id)


@shared_task(ignore_result=True)
def purge_expired_job_files() -> int:
    """Beat: delete job files past PORTA_JOB_FILE_RETENTION."""
    return services.jobs_purge_expired_files()


@shared_task(ignore_result=True)
def requeue_stranded_jobs() -> int:
    """Beat: hand on jobs whose task the broker lost (see services.jobs_requeue_stranded)."""
    return services.jobs_requeue_stranded()
