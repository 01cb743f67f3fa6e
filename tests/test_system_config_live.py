"""A config change made through one server process takes effect in another real server process
within PORTA_CONFIG_CHECK_INTERVAL seconds (the documented bound), Redis or no Redis; and a real
Celery worker process runs the retention task with the retention set through the API."""

from __future__ import annotations

import time

import pytest
import requests

from porta.core.redis import get_redis
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

#: The bound each server is started with (the default of PORTA_CONFIG_CHECK_INTERVAL).
CHECK_INTERVAL = 1.0
#: A second past the bound: the tests show the bound holds, they do not time it.
PAST_THE_BOUND = CHECK_INTERVAL + 0.1

pytestmark = pytest.mark.servers


def _token(server) -> dict:
    form = {"grant_type": "password", "client_id": "porta-cli", "username": ADMIN_EMAIL}
    form["password"] = ADMIN_PASSWORD
    response = requests.post(f"{server.base_url}/porta-admin/auth/token", data=form, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def _set(server, key: str, value) -> None:
    headers = {"Authorization": f"Bearer {_token(server)['access_token']}"}
    response = requests.put(
        f"{server.base_url}/api/admin/config/{key}", json={"value": value}, headers=headers, timeout=10
    )
    assert response.status_code == 200, response.text


@pytest.fixture
def two_servers(porta_server, initialized):
    env = {"PORTA_CONFIG_CHECK_INTERVAL": str(CHECK_INTERVAL)}
    return porta_server(**env), porta_server(**env)


def test_a_token_lifetime_set_through_one_process_applies_in_another_within_the_bound(two_servers):
    writer, reader = two_servers
    assert _token(reader)["expires_in"] != 321  # the reader holds the old value in memory
    _set(writer, "access_token_ttl", 321)
    time.sleep(PAST_THE_BOUND)
    assert _token(reader)["expires_in"] == 321


def test_a_change_applies_in_another_process_even_after_redis_lost_its_data(two_servers):
    writer, reader = two_servers
    assert _token(reader)["expires_in"] != 654
    _set(writer, "access_token_ttl", 654)
    get_redis().flushdb()  # the version stamp the bump wrote is gone
    time.sleep(PAST_THE_BOUND)
    assert _token(reader)["expires_in"] == 654


def test_a_lockout_threshold_set_through_one_process_locks_through_another(two_servers, tenant_user):
    from tests.conftest import TENANT_PASSWORD

    writer, reader = two_servers
    form = {"grant_type": "password", "client_id": "tenant-cli", "username": tenant_user.email}
    url = f"{reader.base_url}/{tenant_user.organization.slug}/auth/token"
    assert requests.post(url, data={**form, "password": TENANT_PASSWORD}, timeout=10).status_code == 200
    _set(writer, "max_failed_logins", 1)
    time.sleep(PAST_THE_BOUND)
    requests.post(url, data={**form, "password": "wrong-password"}, timeout=10)
    tenant_user.refresh_from_db()
    assert tenant_user.status == "locked"


@pytest.fixture
def real_worker(transactional_db):
    """A real `celery worker` process on the test database, with Redis as its broker."""
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT, server_env

    command = [sys.executable, "-m", "celery", "-A", "porta", "worker", "--pool", "solo", "--loglevel",
               "WARNING", "--without-heartbeat", "--without-mingle", "--without-gossip"]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=server_env(PORTA_CELERY_EAGER="false"))
    yield process
    process.terminate()
    process.wait(timeout=30)


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_the_retention_task_in_a_real_worker_uses_the_retention_set_through_the_api(real_worker, api):
    import datetime

    from django.utils import timezone

    from audit.models import AuditEntry
    from porta.celery import app as celery_app
    from tests.factories import AuditEntryFactory

    aged = [AuditEntryFactory(event_type="test.aged").id for _ in range(3)]
    AuditEntry.objects.filter(id__in=aged[:2]).update(created_at=timezone.now() - datetime.timedelta(days=6))
    AuditEntry.objects.filter(id=aged[2]).update(created_at=timezone.now() - datetime.timedelta(days=4))
    assert api.put("/api/admin/config/audit_retention_days", {"value": 5}).status_code == 200
    # send_task always goes through the broker, whatever the test settings say about eager runs.
    celery_app.send_task("systemconfig.tasks.audit_retention_cleanup")
    deadline = time.monotonic() + 60
    while not AuditEntry.objects.filter(event_type="audit.cleanup").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    cleanup = AuditEntry.objects.get(event_type="audit.cleanup")
    assert cleanup.metadata["retentionDays"] == 5
    assert cleanup.metadata["deleted"] == 2
    assert list(AuditEntry.objects.filter(event_type="test.aged").values_list("id", flat=True)) == [aged[2]]
