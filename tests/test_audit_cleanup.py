"""Audit retention: ``POST /api/admin/audit/cleanup`` and the daily beat task, both driven by the
live ``audit_retention_days``."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from audit.models import AuditEntry
from systemconfig.tasks import audit_retention_cleanup
from tests.factories import AuditEntryFactory

CLEANUP = "/api/admin/audit/cleanup"


def _entries_aged(days: float, count: int = 1) -> list[str]:
    ids = [AuditEntryFactory(event_type="test.aged").id for _ in range(count)]
    AuditEntry.objects.filter(id__in=ids).update(created_at=timezone.now() - datetime.timedelta(days=days))
    return [str(i) for i in ids]


def _aged_left() -> int:
    return AuditEntry.objects.filter(event_type="test.aged").count()


def test_a_dry_run_counts_the_old_entries_and_deletes_nothing(api):
    _entries_aged(40, count=3)
    _entries_aged(5)
    response = api.post(CLEANUP, {"retentionDays": 30, "dryRun": True})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["dryRun"] is True
    assert body["entriesFound"] == 3
    assert body["deleted"] == 0
    assert _aged_left() == 4


def test_a_cleanup_deletes_the_entries_older_than_the_retention_and_keeps_the_rest(api):
    _entries_aged(40, count=3)
    kept = _entries_aged(5)
    body = api.post(CLEANUP, {"retentionDays": 30}).json()
    assert body["deleted"] == body["entriesFound"] == 3
    assert body["retentionDays"] == 30
    left = AuditEntry.objects.filter(event_type="test.aged").values_list("id", flat=True)
    assert [str(i) for i in left] == kept


def test_the_cutoff_date_is_the_retention_before_now(api):
    before = timezone.now()
    body = api.post(CLEANUP, {"retentionDays": 30}).json()
    cutoff = datetime.datetime.fromisoformat(body["cutoffDate"])
    expected = before - datetime.timedelta(days=30)
    assert expected <= cutoff <= timezone.now() - datetime.timedelta(days=30)


def test_without_retention_days_the_live_audit_retention_applies(api):
    _entries_aged(12)
    _entries_aged(8)
    api.put("/api/admin/config/audit_retention_days", {"value": 10})
    body = api.post(CLEANUP, {}).json()
    assert body["retentionDays"] == 10
    assert body["deleted"] == 1
    assert _aged_left() == 1


def test_without_a_body_the_environment_retention_applies(api):
    _entries_aged(settings.PORTA_AUDIT_RETENTION_DAYS + 1)
    _entries_aged(settings.PORTA_AUDIT_RETENTION_DAYS - 1)
    body = api.post(CLEANUP).json()
    assert body["retentionDays"] == settings.PORTA_AUDIT_RETENTION_DAYS
    assert body["deleted"] == 1


def test_a_cleanup_is_itself_audited_with_what_it_deleted(api):
    _entries_aged(40, count=2)
    api.post(CLEANUP, {"retentionDays": 30})
    entry = AuditEntry.objects.get(event_type="audit.cleanup")
    assert entry.metadata["deleted"] == 2
    assert entry.metadata["retentionDays"] == 30
    assert entry.actor_type == "user"


def test_a_dry_run_writes_no_audit_entry(api):
    api.post(CLEANUP, {"retentionDays": 30, "dryRun": True})
    assert not AuditEntry.objects.filter(event_type="audit.cleanup").exists()


def test_the_audit_list_total_follows_a_cleanup(api):
    _entries_aged(40, count=2)
    before = api.get("/api/admin/audit").json()["pagination"]["total"]
    api.post(CLEANUP, {"retentionDays": 30})
    # Two deleted, one audit.cleanup entry written.
    assert api.get("/api/admin/audit").json()["pagination"]["total"] == before - 2 + 1


@pytest.mark.parametrize(
    "body",
    [{"retentionDays": 0}, {"retentionDays": -1}, {"retentionDays": "30"}, {"retentionDays": 1.5},
     {"retentionDays": 40_000}, {"dryRun": "yes"}, {"days": 30}],
)  # fmt: skip
def test_an_invalid_body_is_400_and_deletes_nothing(api, body):
    _entries_aged(400)
    response = api.post(CLEANUP, body)
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "ValidationError"
    assert _aged_left() == 1


def test_the_beat_task_deletes_with_the_live_retention_as_the_system(api):
    _entries_aged(4)
    _entries_aged(2)
    api.put("/api/admin/config/audit_retention_days", {"value": 3})
    assert audit_retention_cleanup.delay().get() == 1
    assert _aged_left() == 1
    entry = AuditEntry.objects.get(event_type="audit.cleanup")
    assert (entry.actor_type, entry.actor_label) == ("system", "audit_retention")


def test_the_retention_task_is_scheduled_daily():
    schedule = settings.CELERY_BEAT_SCHEDULE["audit-retention"]
    assert schedule["task"] == "systemconfig.tasks.audit_retention_cleanup"
    assert schedule["schedule"] == 24 * 3600.0
