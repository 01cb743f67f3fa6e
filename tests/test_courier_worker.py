"""The courier with a real Celery worker process and Redis as the broker, not eager mode."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from audit.context import Actor
from courier.models import Message
from courier.services import message_enqueue
from porta.celery import app as celery_app
from tests.conftest import REPO_ROOT, _database_url


@pytest.fixture
def celery_worker(transactional_db, tmp_path):
    """A `celery worker` process on the test database and Redis, writing e-mail to files."""
    mail_dir = tmp_path / "mail"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": django_settings.REDIS_URL,
        "PORTA_SECRET_KEY": django_settings.SECRET_KEY,
        "PORTA_KEY_ENCRYPTION_KEY": ",".join(django_settings.PORTA_KEY_ENCRYPTION_KEYS),
        "PORTA_ENV": "test",
        "PORTA_CELERY_EAGER": "false",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
    }
    env.pop("PYTEST_XDIST_WORKER", None)  # the worker must use exactly this Redis database
    quiet = ["--loglevel", "WARNING", "--without-heartbeat", "--without-mingle", "--without-gossip"]
    command = [sys.executable, "-m", "celery", "-A", "porta", "worker", "--pool", "solo", *quiet]
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env)
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False  # this process publishes to the broker instead
    try:
        yield mail_dir
    finally:
        celery_app.conf.task_always_eager = eager
        process.terminate()
        process.wait(timeout=30)


def _wait_for_status(message: Message, status: str, seconds: float = 60.0) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        message.refresh_from_db()
        if message.status == status:
            break
        time.sleep(0.2)
    return message.status


@pytest.mark.servers
def test_a_real_worker_delivers_a_queued_message(celery_worker: Path):
    message = message_enqueue(
        actor=Actor.system(),
        organization_id=None,
        recipient="someone@example.com",
        template="verification",
        context={"verification_link": "https://example.com/verify", "organization_name": "Acme"},
    )
    assert _wait_for_status(message, "sent") == "sent"
    delivered = "".join(path.read_text() for path in celery_worker.glob("*.log"))
    assert "someone@example.com" in delivered
