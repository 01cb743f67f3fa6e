"""Shared fixtures: an initialised Porta, admins with chosen roles, and HTTP clients holding real
tokens from the real token endpoint. Tests run against the PostgreSQL and Redis servers that
``make test`` starts (testing/runtests.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client

from organizations.models import Organization, User
from porta.bootstrap import porta_init
from porta.core import ratelimit
from porta.core.redis import get_redis
from rbac.admin_roles import ADMIN_APP_SLUG
from rbac.models import Role, UserRole
from testing.servers import free_port, wait_for_port

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct-horse-battery"
REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _fresh_shared_state() -> Iterator[None]:
    """Each test starts with empty Redis (rate-limit windows, key versions) and process caches."""
    from django.core.cache import cache

    import keys.keyring
    import keys.tokens
    from authn.authentication import forget_authorizations
    from porta.api import pagination
    from porta.core import liveconfig, versions

    client = get_redis()
    if client is not None:
        client.flushdb()
    cache.clear()
    ratelimit._local_windows.clear()
    ratelimit._redis_down_until = 0.0
    keys.keyring._keyring = None
    keys.tokens._verified.clear()
    pagination._counts.clear()
    versions._local.clear()
    versions._down_until = 0.0
    liveconfig.forget()
    versions._unsent.clear()
    forget_authorizations()
    yield
    keys.keyring._keyring = None
    forget_authorizations()


@dataclass
class ApiClient:
    """A JSON client for /api/admin with an optional bearer token."""

    client: Client
    token: str | None = None

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        merged = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}
        for name, value in (headers or {}).items():
            merged["HTTP_" + name.upper().replace("-", "_")] = value
        return merged

    def get(self, path: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None):
        return self.client.get(path, params or {}, **self._headers(headers))

    def _send(self, method: str, path: str, body: Any, headers: dict[str, str] | None):
        kwargs = self._headers(headers)
        if body is None:  # no body at all, as `curl -X POST` sends
            return getattr(self.client, method)(path, b"", content_type="", **kwargs)
        return getattr(self.client, method)(
            path, orjson.dumps(body), content_type="application/json", **kwargs
        )

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None):
        return self._send("post", path, body, headers)

    def put(self, path: str, body: Any = None, headers: dict[str, str] | None = None):
        return self._send("put", path, body, headers)

    def patch(self, path: str, body: Any = None, headers: dict[str, str] | None = None):
        return self._send("patch", path, body, headers)

    def delete(self, path: str, body: Any = None, headers: dict[str, str] | None = None):
        return self._send("delete", path, body, headers)


def post_form(client: Client, path: str, form: dict[str, str], **headers: str):
    """POST ``form`` as application/x-www-form-urlencoded, as OAuth 2 requires."""
    return client.post(path, urlencode(form), content_type="application/x-www-form-urlencoded", **headers)


def issue_token(client: Client, email: str, password: str, org_slug: str = "porta-admin") -> dict[str, Any]:
    response = post_form(
        client,
        f"/{org_slug}/auth/token",
        {"grant_type": "password", "client_id": "porta-cli", "username": email, "password": password},
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def initialized(db):
    """Porta after ``porta_init``: super-admin org, admin app and roles, porta-cli, a key, an admin."""
    return porta_init(admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)


@pytest.fixture
def super_admin_org(initialized) -> Organization:
    return Organization.objects.get(is_super_admin=True)


@pytest.fixture
def super_admin(initialized) -> User:
    return User.objects.get(email=ADMIN_EMAIL)


@pytest.fixture
def anonymous() -> ApiClient:
    return ApiClient(Client())


@pytest.fixture
def api(initialized) -> ApiClient:
    """Authenticated as the super-admin (porta-super-admin) through the real token endpoint."""
    client = Client()
    return ApiClient(client, issue_token(client, ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"])


@pytest.fixture
def make_admin(super_admin_org) -> Callable[..., User]:
    """An admin of the super-admin organization holding the given ``porta-*`` roles (maybe none)."""
    counter = iter(range(1, 10_000))

    def make(*roles: str, email: str | None = None, password: str = "admin-password-1") -> User:
        user = User(organization=super_admin_org, email=email or f"admin{next(counter)}@example.com")
        user.set_password(password)
        user.save()
        for slug in roles:
            UserRole.objects.create(
                user=user, role=Role.objects.get(application__slug=ADMIN_APP_SLUG, slug=slug)
            )
        return user

    return make


@pytest.fixture
def api_as(make_admin) -> Callable[..., ApiClient]:
    """``api_as("porta-auditor")``: a client authenticated as a new admin with those roles."""

    def make(*roles: str) -> ApiClient:
        user = make_admin(*roles)
        client = Client()
        return ApiClient(client, issue_token(client, user.email, "admin-password-1")["access_token"])

    return make


@dataclass
class ServerProcess:
    base_url: str
    process: subprocess.Popen

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


def server_env(**env_overrides: str) -> dict[str, str]:
    """The environment of a Porta process (server or command) sharing this test run's secrets,
    on the test database and Redis unless DATABASE_URL and REDIS_URL say otherwise."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": django_settings.REDIS_URL,
        "PORTA_SECRET_KEY": django_settings.SECRET_KEY,
        "PORTA_KEY_ENCRYPTION_KEY": ",".join(django_settings.PORTA_KEY_ENCRYPTION_KEYS),
        "PORTA_TOKEN_PEPPER": django_settings.PORTA_TOKEN_PEPPER,
        "PORTA_PUBLIC_URL": django_settings.PORTA_PUBLIC_URL,
        "PORTA_ENV": "test",
        **env_overrides,
    }
    env.pop("PYTEST_XDIST_WORKER", None)  # the server must use exactly the Redis URL given
    return env


def start_server(*, log_path: Path | None = None, **env_overrides: str) -> ServerProcess:
    """A real Porta server process (gunicorn) on the test database, or on the DATABASE_URL and
    REDIS_URL given; its stderr goes to ``log_path`` when given. The caller stops it."""
    port = free_port()
    env = server_env(**env_overrides)
    stderr = open(log_path, "ab") if log_path else None  # noqa: SIM115 - the child holds it
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "porta.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--threads", "4", "--graceful-timeout", "5", "--log-level", "warning"],
            cwd=REPO_ROOT,
            env=env,
            stderr=stderr,
        )  # fmt: skip
    finally:
        if stderr is not None:
            stderr.close()
    server = ServerProcess(f"http://127.0.0.1:{port}", process)
    try:
        wait_for_port(port, timeout=30)
    except TimeoutError:
        server.stop()
        raise
    return server


@pytest.fixture
def porta_server(transactional_db) -> Iterator[Callable[..., ServerProcess]]:
    """Starts real Porta server processes (gunicorn) on the test database; stops them after."""
    started: list[ServerProcess] = []

    def start(**env_overrides: str) -> ServerProcess:
        server = start_server(**env_overrides)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@dataclass
class ServeProcess:
    """A running `porta serve`; its output (gunicorn's and the Celery worker's) goes to ``log_path``."""

    base_url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def porta_serve(transactional_db, tmp_path) -> Iterator[Callable[..., ServeProcess]]:
    """Starts real `porta serve` processes (gunicorn, optionally a Celery worker) on the test
    database and Redis; SIGTERMs whatever is still running after the test."""
    started: list[ServeProcess] = []

    def start(*arguments: str, **env_overrides: str) -> ServeProcess:
        port = free_port()
        log_path = tmp_path / f"serve-{port}.log"
        env = server_env(
            **{"PORTA_DATA_DIR": str(tmp_path / "data"), "PORTA_SHUTDOWN_GRACE": "1", **env_overrides}
        )
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "manage.py", "serve", "--bind", f"127.0.0.1:{port}", *arguments],
                cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        server = ServeProcess(f"http://127.0.0.1:{port}", process, log_path)
        started.append(server)
        wait_for_port(port, timeout=60)
        return server

    yield start
    for server in started:
        server.stop()


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def start_worker(transactional_db, tmp_path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Starts real `celery -A porta worker` processes (solo pool, Redis as the broker) on the test
    database, sharing this process's secrets and job-file directory and writing e-mail to files
    under ``tmp_path/mail``; while the fixture is active this process publishes tasks to the broker
    instead of running them eagerly. ``start_worker(**env)`` returns the worker's Popen (kill it by
    PID to simulate a crash); those still running are stopped after the test."""
    from porta.celery import app as celery_app

    started: list[subprocess.Popen] = []

    def start(**env_overrides: str) -> subprocess.Popen:
        env = server_env(
            **{
                "PORTA_CELERY_EAGER": "false",
                "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "EMAIL_FILE_PATH": str(tmp_path / "mail"),
                "PORTA_JOB_FILES_DIR": str(django_settings.PORTA_JOB_FILES_DIR),
                **env_overrides,
            }
        )
        quiet = ["--loglevel", "WARNING", "--without-heartbeat", "--without-mingle", "--without-gossip"]
        command = [sys.executable, "-m", "celery", "-A", "porta", "worker", "--pool", "solo", *quiet]
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env)
        started.append(process)
        return process

    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False  # this process publishes to the broker instead
    try:
        yield start
    finally:
        celery_app.conf.task_always_eager = eager
        for process in started:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def wait_for_job(job_id: Any, *statuses: str, seconds: float = 60.0):
    """The job, re-read until its status is one of ``statuses`` (default: any finished one) or
    ``seconds`` have passed (then as it is: the caller's assertion on its status fails)."""
    from jobs.models import FINISHED, Job

    wanted = set(statuses) or set(FINISHED)
    deadline = time.monotonic() + seconds
    while True:
        job = Job.objects.get(pk=job_id)
        if job.status in wanted or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


TENANT_PASSWORD = "admin-password-1"


@pytest.fixture
def tenant_user(initialized) -> User:
    """A user of tenant organization ``tenant-org``, whose public client ``tenant-cli`` may use
    the password grant."""
    from applications.models import Application
    from applications.models import Client as OAuthClient

    organization = Organization.objects.create(name="Tenant", slug="tenant-org")
    application = Application.objects.create(name="Tenant app", slug="tenant-app")
    OAuthClient.objects.create(
        organization=organization,
        application=application,
        client_id="tenant-cli",
        client_name="Tenant CLI",
        client_type="public",
        application_type="native",
        grant_types=["password", "refresh_token"],
        token_endpoint_auth_method="none",
    )
    user = User(organization=organization, email="someone@tenant.example")
    user.set_password(TENANT_PASSWORD)
    user.save()
    return user
