"""Jobs on real Celery worker processes with Redis as the broker: a worker killed by PID mid-job
is replaced and the job resumes from its checkpoint with no item applied twice; a cancel stops a
running job between chunks; a job whose task the broker lost is handed on again."""

from __future__ import annotations

import datetime
import time
import uuid

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from jobs.models import Job
from jobs.services import dispatch, job_enqueue, jobs_requeue_stranded
from porta.core.context import Actor
from tests.conftest import ApiClient, wait_for_job
from tests.factories import JobFactory

#: Seconds after which the broker hands a task of a dead worker to another (short for the test).
VISIBILITY_TIMEOUT = "5"
STARTER = Actor(type="user", id=uuid.uuid4(), label="starter@example.com")
pytestmark = pytest.mark.servers


def _count_job(**parameters) -> Job:
    return job_enqueue(kind="testing.count", actor=STARTER, organization_id=None, parameters=parameters)


def _wait_for_progress(job: Job, done: int, seconds: float = 60.0) -> Job:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.progress_done >= done:
            break
        time.sleep(0.05)
    return job


def _counted(job: Job) -> list[str]:
    return list(
        AuditEntry.objects.filter(event_type="testing.counted", metadata__jobId=str(job.id)).values_list(
            "target_id", flat=True
        )
    )


def test_a_real_worker_runs_a_queued_job_to_the_end(start_worker):
    start_worker()
    job = wait_for_job(_count_job(items=30, chunk=7).id)
    assert job.status == "succeeded"
    assert (job.progress_done, job.progress_total) == (30, 30)
    assert sorted(map(int, _counted(job))) == list(range(30))


def test_a_job_whose_worker_is_killed_mid_job_resumes_on_a_new_worker_and_applies_no_item_twice(start_worker):
    worker = start_worker(PORTA_BROKER_VISIBILITY_TIMEOUT=VISIBILITY_TIMEOUT)
    job = _count_job(items=60, chunk=5, pause=0.4)
    assert _wait_for_progress(job, 10).progress_done >= 10, "the worker never got going"
    worker.kill()  # SIGKILL by PID, mid-job
    worker.wait(timeout=30)
    interrupted_at = Job.objects.get(pk=job.pk).progress_done
    assert interrupted_at < 60
    start_worker(PORTA_BROKER_VISIBILITY_TIMEOUT=VISIBILITY_TIMEOUT)

    job = wait_for_job(job.id, seconds=120)
    assert job.status == "succeeded"
    assert job.attempts == 2
    counted = _counted(job)
    assert sorted(map(int, counted)) == list(range(60)), "every item exactly once"
    resumed = AuditEntry.objects.filter(event_type="testing.counted", metadata__attempt=2).count()
    assert resumed == 60 - interrupted_at
    assert AuditEntry.objects.filter(event_type="job.resumed", target_id=str(job.id)).count() == 1


def test_cancelling_a_running_job_stops_it_between_chunks(start_worker, api: ApiClient):
    start_worker()
    job = _count_job(items=500, chunk=5, pause=0.2)
    assert _wait_for_progress(job, 10).status == "running"
    response = api.post(f"/api/admin/jobs/{job.id}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    # The solo worker runs one task at a time: once the next job is done, the cancelled one's
    # task has returned.
    assert wait_for_job(_count_job(items=1).id).status == "succeeded"

    job.refresh_from_db()
    assert job.status == "cancelled"
    counted = _counted(job)
    assert len(counted) == job.progress_done < 500, "what was counted is what progress says"
    assert sorted(map(int, counted)) == list(range(len(counted)))


def test_a_job_whose_task_the_broker_lost_is_handed_on_by_the_stranded_sweep(start_worker):
    start_worker()
    lost = JobFactory(parameters={"items": 3})  # a queued row whose task never reached Redis
    Job.objects.filter(pk=lost.pk).update(updated_at=timezone.now() - datetime.timedelta(hours=1))
    assert jobs_requeue_stranded() == 1
    assert wait_for_job(lost.id).status == "succeeded"


def test_a_second_copy_of_a_running_jobs_task_on_another_worker_does_nothing(start_worker):
    start_worker()
    start_worker()
    job = _count_job(items=30, chunk=5, pause=0.3)
    assert _wait_for_progress(job, 5).status == "running"
    dispatch(str(job.id))  # as the broker does when the job outlives the visibility timeout
    assert wait_for_job(_count_job(items=1).id).status == "succeeded"  # the idle worker took both

    job = wait_for_job(job.id)
    assert job.status == "succeeded"
    assert job.attempts == 1
    assert sorted(map(int, _counted(job))) == list(range(30))
