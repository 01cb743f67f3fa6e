"""The wheel-install job of CI: Porta as an operator gets it from ``pip install``.

The wheel is built from a copy of the checkout, installed into a fresh virtual environment (the
dependencies come from the package index, through pip's cache), and run from a folder outside the
checkout, configured only by a ``.env`` file there, against this test run's PostgreSQL (a database
of its own) and Redis (a database number nobody else uses): ``check --deploy``, ``migrate``,
``porta_init``, ``collectstatic``, ``serve --with-worker``, then an invitation e-mail sent by the
Celery worker and the pages its link and a recovery link open.

These tests never skip: without PostgreSQL, Redis or the package index they fail.
"""

from __future__ import annotations

import base64
import email
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import requests
from django.conf import settings

from testing.servers import free_port, wait_for_port

pytestmark = pytest.mark.installed_wheel

REPO_ROOT = Path(__file__).resolve().parent.parent
# Only what a clean checkout holds is built: no virtualenv, data directory or earlier build output.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", ".porta", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".env"
)
# A Redis database number no test worker uses (workers take 1, 2, … from their xdist index).
REDIS_DB = 30
ADMIN_EMAIL = "ops@example.com"
ADMIN_PASSWORD = "an-operator-password"
STEP_TIMEOUT = 600  # seconds; installing from an empty pip cache downloads every dependency


def run(command: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a step; a failure shows its whole output."""
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=STEP_TIMEOUT, check=False
    )
    assert result.returncode == 0, (
        f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}{result.stderr}"
    )
    return result.stdout


def build_wheel(into: Path) -> Path:
    source = into / "source"
    shutil.copytree(REPO_ROOT, source, ignore=NOT_SOURCE)
    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(into), str(source)], cwd=into
    )
    (wheel,) = into.glob("porta-*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def local_apps() -> list[str]:
    """The project's own apps: those whose code lives in this checkout (outside the virtualenv,
    which `make` creates inside the checkout), less the test-only ones the test settings add
    (``testing/`` is checkout-only, like ``tests/``, and never shipped)."""
    from django.apps import apps

    venv = Path(sys.prefix).resolve()
    return sorted(
        config.name
        for config in apps.get_app_configs()
        if Path(config.path).resolve().is_relative_to(REPO_ROOT.resolve())
        and not Path(config.path).resolve().is_relative_to(venv)
        and config.name.split(".")[0] not in {"tests", "testing"}
    )


def test_the_wheel_ships_every_app_of_installed_apps(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    apps = local_apps()

    assert {"courier", "recovery", "apikeys", "oidc"} <= set(apps)  # the list is the real one
    assert [app for app in apps if f"{app.replace('.', '/')}/__init__.py" not in names] == []


def test_the_wheel_ships_every_file_of_every_app_with_its_migrations_templates_and_static_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    files = [
        str(path.relative_to(REPO_ROOT))
        for app in local_apps()
        for path in (REPO_ROOT / app.replace(".", "/")).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]

    assert any("/migrations/" in name for name in files)
    assert [name for name in files if name not in names] == []


def test_the_wheel_ships_every_template(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = [path.relative_to(REPO_ROOT / "templates") for path in (REPO_ROOT / "templates").rglob("*.*")]

    assert templates
    assert [str(t) for t in templates if f"porta/templates/{t}" not in names] == []


def test_the_wheel_ships_no_tests_or_benchmarks(wheel):
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}

    assert not tops & {"tests", "testing", "bench", "deploy", "templates"}


# -- the installed wheel, end to end -------------------------------------------------------------


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """A database of its own on the test run's PostgreSQL server; dropped afterwards."""
    server = urlsplit(os.environ["DATABASE_URL"])
    name = f"porta_wheel_{uuid.uuid4().hex[:12]}"
    admin_url = urlunsplit(server._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield urlunsplit(server._replace(path=f"/{name}"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_redis() -> Iterator[str]:
    """An unused database number on the test run's Redis server; emptied afterwards."""
    import redis

    url = f"{settings.REDIS_URL.rsplit('/', 1)[0]}/{REDIS_DB}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()


def mail_links(folder: Path, pattern: str, *, timeout: float = 60) -> str:
    """The first link matching ``pattern`` in the text part of a mail the worker wrote there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(folder.glob("*.log")):
            message = email.message_from_bytes(path.read_bytes())
            for part in message.walk():
                if part.get_content_type() == "text/plain":
                    found = re.search(pattern, part.get_payload(decode=True).decode())
                    if found:
                        return found.group(0)
        time.sleep(0.2)
    raise AssertionError(f"no mail with a link like {pattern} in {folder} after {timeout}s")


def test_an_installed_wheel_runs_porta_from_a_folder_outside_the_checkout(
    wheel, tmp_path, fresh_database, fresh_redis
):
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    run([str(venv / "bin/python"), "-m", "pip", "install", "--quiet", str(wheel)], cwd=tmp_path)

    workdir = tmp_path / "site"
    workdir.mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    mail = workdir / "mail"
    # Everything comes from the working directory's .env; the process environment has no PORTA_*.
    (workdir / ".env").write_text(
        "\n".join(
            [
                "PORTA_ENV=production",
                f"PORTA_SECRET_KEY={secrets.token_urlsafe(50)}",
                f"PORTA_KEY_ENCRYPTION_KEY={base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}",
                f"DATABASE_URL={fresh_database}",
                f"REDIS_URL={fresh_redis}",
                f"PORTA_PUBLIC_URL={base}",
                "EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend",
                f"EMAIL_FILE_PATH={mail}",
                "",
            ]
        )
    )
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    porta = str(venv / "bin/porta")
    run([porta, "check", "--deploy"], cwd=workdir, env=env)
    run([porta, "migrate", "--noinput"], cwd=workdir, env=env)
    run([porta, "porta_init", "--admin-email", ADMIN_EMAIL, "--admin-password", ADMIN_PASSWORD, "--no-input"],
        cwd=workdir, env=env)  # fmt: skip
    run([porta, "collectstatic", "--noinput"], cwd=workdir, env=env)

    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [porta, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--with-worker"],
        cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for_port(port, timeout=60)
        token = requests.post(
            f"{base}/porta-admin/auth/token",
            data={"grant_type": "password", "client_id": "porta-cli",
                  "username": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
            timeout=30,
        ).json()["access_token"]  # fmt: skip
        auth = {"Authorization": f"Bearer {token}"}
        org = requests.post(
            f"{base}/api/admin/organizations", json={"name": "Acme"}, headers=auth, timeout=30
        )
        assert org.status_code == 201, org.text
        invited = requests.post(
            f"{base}/api/admin/organizations/{org.json()['id']}/users/invite",
            json={"email": "new@acme.example"}, headers=auth, timeout=30,
        )  # fmt: skip
        assert invited.status_code == 201, invited.text

        invitation_page = requests.get(mail_links(mail, rf"{base}/acme/auth/accept-invite/\S+"), timeout=30)
        recovery = requests.post(
            f"{base}/api/admin/recovery/link",
            json={"userId": invited.json()["userId"]},
            headers=auth,
            timeout=30,
        )
        recovery_page = requests.get(recovery.json()["recoveryLink"], timeout=30)
        admin_login = requests.get(f"{base}/admin/login/", timeout=30)
        admin_css = requests.get(f"{base}/static/admin/css/base.css", timeout=30)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        log.close()
    output = (tmp_path / "serve.log").read_text()

    assert "Traceback" not in output  # the worker, its beat and gunicorn all started cleanly
    assert invitation_page.status_code == 200, output
    assert "new@acme.example" in invitation_page.text
    assert recovery_page.status_code == 200, output
    assert 'type="password"' in recovery_page.text
    assert "Porta admin" in admin_login.text  # templates/admin/base_site.html, not Django's own
    assert admin_css.status_code == 200
    site_packages = next((venv / "lib").glob("python3*/site-packages"))
    assert (workdir / ".porta/static/admin/css/base.css").is_file()
    assert not (site_packages / ".porta").exists()
