"""``manage.py createsuperuser``, as a Django user tries it first: a super-admin made as
``porta_init`` makes one, who signs in through the token endpoint like any admin."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys

from django.conf import settings
from django.test import Client

from audit.models import AuditEntry
from organizations.models import User
from tests.conftest import ADMIN_EMAIL, REPO_ROOT, ApiClient, _database_url, issue_token

EMAIL = "second@example.com"
PASSWORD = "another-admin-password"


def command_env(**extra: str) -> dict[str, str]:
    """The environment of a manage.py process working on this test's database and Redis."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "PORTA_SECRET_KEY": settings.SECRET_KEY,
        "PORTA_KEY_ENCRYPTION_KEY": ",".join(settings.PORTA_KEY_ENCRYPTION_KEYS),
        "PORTA_TOKEN_PEPPER": settings.PORTA_TOKEN_PEPPER,
        **extra,
    }
    env.pop("PYTEST_XDIST_WORKER", None)  # exactly the Redis URL given
    return env


def createsuperuser(*args: str, password: str | None = PASSWORD) -> subprocess.CompletedProcess:
    extra = {"DJANGO_SUPERUSER_PASSWORD": password} if password else {}
    return subprocess.run(
        [sys.executable, "manage.py", "createsuperuser", *args],
        cwd=REPO_ROOT, env=command_env(**extra), stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def on_a_terminal(args: list[str], answers: list[tuple[str, str]]) -> tuple[int, str]:
    """Run manage.py ``args`` on a pseudo-terminal, typing each answer after its prompt."""
    env = command_env()
    pid, fd = pty.fork()
    if pid == 0:  # the child: manage.py, its controlling terminal the pty
        os.chdir(REPO_ROOT)
        os.execve(sys.executable, [sys.executable, "manage.py", *args], env)
    output, seen = b"", 0
    pending = list(answers)
    while True:
        ready, _, _ = select.select([fd], [], [], 60)
        if not ready:
            os.kill(pid, signal.SIGKILL)
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the child is gone
            break
        if not chunk:
            break
        output += chunk
        if pending and pending[0][0].encode() in output[seen:]:
            seen = len(output)
            os.write(fd, pending.pop(0)[1].encode() + b"\n")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def can_administer(email: str, password: str) -> bool:
    client = Client()
    api = ApiClient(client, issue_token(client, email, password)["access_token"])
    return api.get("/api/admin/organizations").status_code == 200


def test_createsuperuser_without_input_makes_a_super_admin_who_can_sign_in(initialized, transactional_db):
    result = createsuperuser("--noinput", "--email", EMAIL)

    assert result.returncode == 0, result.stderr
    assert can_administer(EMAIL, PASSWORD)


def test_createsuperuser_takes_the_email_from_django_superuser_email(initialized, transactional_db):
    result = subprocess.run(
        [sys.executable, "manage.py", "createsuperuser", "--noinput"],
        cwd=REPO_ROOT, env=command_env(DJANGO_SUPERUSER_EMAIL=EMAIL, DJANGO_SUPERUSER_PASSWORD=PASSWORD),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert can_administer(EMAIL, PASSWORD)


def test_createsuperuser_on_a_fresh_database_initializes_porta_first(transactional_db):
    result = createsuperuser("--noinput", "--email", EMAIL)

    assert result.returncode == 0, result.stderr
    assert can_administer(EMAIL, PASSWORD)  # through porta-cli, which porta_init made


def test_createsuperuser_asks_for_the_email_and_the_password_twice_on_a_terminal(
    initialized, transactional_db
):
    code, output = on_a_terminal(
        ["createsuperuser"],
        [("E-mail: ", EMAIL), ("Password: ", PASSWORD), ("Password (again): ", PASSWORD)],
    )

    assert code == 0, output
    assert can_administer(EMAIL, PASSWORD)


def test_createsuperuser_asks_again_when_the_passwords_differ(initialized, transactional_db):
    code, output = on_a_terminal(
        ["createsuperuser", "--email", EMAIL],
        [("Password: ", PASSWORD), ("Password (again): ", "something-else"),
         ("Password: ", PASSWORD), ("Password (again): ", PASSWORD)],
    )  # fmt: skip

    assert code == 0, output
    assert "didn't match" in output
    assert can_administer(EMAIL, PASSWORD)


def test_the_super_admin_made_by_createsuperuser_is_audited(initialized, transactional_db):
    createsuperuser("--noinput", "--email", EMAIL)

    user = User.objects.get(email=EMAIL)
    entries = AuditEntry.objects.filter(target_id=user.id, actor_label="createsuperuser")
    assert set(entries.values_list("event_type", flat=True)) == {"user.created", "user.role.assigned"}


def test_createsuperuser_refuses_an_email_already_in_the_super_admin_organization(
    initialized, transactional_db
):
    result = createsuperuser("--noinput", "--email", ADMIN_EMAIL)

    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"CommandError: A user with the e-mail {ADMIN_EMAIL} already exists in the super-admin organization"
    )


def test_createsuperuser_without_input_or_password_says_what_to_set(initialized, transactional_db):
    result = createsuperuser("--noinput", "--email", EMAIL, password=None)

    assert result.returncode == 1
    assert "DJANGO_SUPERUSER_PASSWORD" in result.stderr
    assert not User.objects.filter(email=EMAIL).exists()


def test_createsuperuser_refuses_a_short_password(initialized, transactional_db):
    result = createsuperuser("--noinput", "--email", EMAIL, password="short")

    assert result.returncode == 1
    assert "at least 8 characters" in result.stderr
    assert not User.objects.filter(email=EMAIL).exists()
