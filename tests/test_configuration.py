"""Configuration fails fast: a bad variable stops every entry point with one line naming it.

Each test runs a real command (``manage.py``, the ``porta`` console script, gunicorn on the WSGI
module) in a subprocess with a clean environment plus the variable under test."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from testing.servers import free_port, wait_for_port
from tests.conftest import REPO_ROOT, ServerProcess

EXAMPLE_ENV = REPO_ROOT / "deploy" / "porta.env.example"
PORTA_SCRIPT = "import sys; from porta.cli import main; sys.argv[0] = 'porta'; main()"
ERROR_PREFIX = "porta: configuration error: "


def _kek(length: int = 32) -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(length)).decode()


def _clean_env(data_dir: Path, **variables: str) -> dict[str, str]:
    """The embedded default (development, SQLite and secrets in ``data_dir``) plus ``variables``."""
    names = ("PORTA_", "DATABASE_URL", "REDIS_URL", "EMAIL_", "DJANGO_", "PYTEST_")
    env = {name: value for name, value in os.environ.items() if not name.startswith(names)}
    return {**env, "PORTA_ENV_FILE": os.devnull, "PORTA_DATA_DIR": str(data_dir), **variables}


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60)


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return _run([sys.executable, "manage.py", *args], env)


def _porta(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return _run([sys.executable, "-c", PORTA_SCRIPT, *args], env)


def _single_error_line(result: subprocess.CompletedProcess) -> str:
    """The one line the command printed about its configuration; nothing else on stderr."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(ERROR_PREFIX), lines[0]
    return lines[0].removeprefix(ERROR_PREFIX)


def _check_deploy_error(tmp_path: Path, **variables: str) -> str:
    return _single_error_line(_manage("check", "--deploy", env=_clean_env(tmp_path, **variables)))


def test_a_valid_environment_passes_check_deploy(tmp_path):
    result = _manage("check", "--deploy", env=_clean_env(tmp_path, PORTA_KEY_ENCRYPTION_KEY=_kek()))
    assert result.returncode == 0, result.stderr
    assert "configuration error" not in result.stderr


def test_a_key_encryption_key_of_the_wrong_length_stops_check_deploy(tmp_path):
    error = _check_deploy_error(tmp_path, PORTA_KEY_ENCRYPTION_KEY=_kek(24))
    assert error == "PORTA_KEY_ENCRYPTION_KEY: must be 32 bytes of URL-safe base64 (got 24 bytes)"


def test_a_key_encryption_key_that_is_not_base64_is_refused(tmp_path):
    error = _check_deploy_error(tmp_path, PORTA_KEY_ENCRYPTION_KEY="not a key at all!")
    assert error.startswith("PORTA_KEY_ENCRYPTION_KEY: must be 32 bytes of URL-safe base64")


def test_a_bad_item_in_the_key_encryption_key_list_is_named_by_position(tmp_path):
    error = _check_deploy_error(tmp_path, PORTA_KEY_ENCRYPTION_KEY=f"{_kek()},{_kek(16)}")
    assert error == "PORTA_KEY_ENCRYPTION_KEY: item 2 of 2 must be 32 bytes of URL-safe base64 (got 16 bytes)"


def test_the_former_example_placeholder_key_is_refused(tmp_path):
    error = _check_deploy_error(tmp_path, PORTA_KEY_ENCRYPTION_KEY="change-me-32-random-bytes-urlsafe-base64")
    assert error.startswith("PORTA_KEY_ENCRYPTION_KEY: still holds a placeholder")


def test_a_short_secret_key_is_refused(tmp_path):
    error = _check_deploy_error(tmp_path, PORTA_SECRET_KEY="too-short")
    assert error == "PORTA_SECRET_KEY: must be at least 50 random characters (got 9)"


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("DATABASE_URL", "mysql://porta@db/porta", "must be a postgres:// (or sqlite://) URL (scheme mysql)"),
        ("DATABASE_URL", "postgres://porta@db:port/porta", "is not a valid URL"),
        (
            "REDIS_URL",
            "http://127.0.0.1:6379/0",
            "must start with redis://, rediss:// or unix:// (scheme http)",
        ),
        ("REDIS_URL", "redis://127.0.0.1:6379/cache", "the database after the host must be a number"),
        ("PORTA_PUBLIC_URL", "id.example.com", "must start with http:// or https:// (scheme none)"),
        ("PORTA_PUBLIC_URL", "https://id.example.com/porta", "must be a bare base URL"),
    ],
)
def test_a_url_with_the_wrong_scheme_or_shape_is_refused(tmp_path, name, value, problem):
    assert _check_deploy_error(tmp_path, **{name: value}).startswith(f"{name}: {problem}")


def test_an_integer_that_is_not_a_number_is_refused(tmp_path):
    error = _check_deploy_error(tmp_path, PORTA_LOGIN_IP_LIMIT="thirty")
    assert error == "PORTA_LOGIN_IP_LIMIT: must be a whole number, got 'thirty'"


def test_an_integer_out_of_its_range_is_refused(tmp_path):
    error = _check_deploy_error(tmp_path, EMAIL_PORT="70000")
    assert error == "EMAIL_PORT: must be at most 65535 (got 70000)"


def test_a_boolean_that_is_neither_true_nor_false_is_refused(tmp_path):
    error = _check_deploy_error(tmp_path, PORTA_DEBUG="maybe")
    assert error == "PORTA_DEBUG: must be true or false (or 1/0, yes/no, on/off), got 'maybe'"


def test_a_malformed_duration_is_refused(tmp_path):
    error = _check_deploy_error(tmp_path, PORTA_KEY_ROTATION_PERIOD="90 days")
    assert error == "PORTA_KEY_ROTATION_PERIOD: must be a duration like 90d, 2160h or 1h30m, got '90 days'"


def test_a_lifetime_is_seconds_or_a_duration(tmp_path):
    error = _check_deploy_error(tmp_path, PORTA_ACCESS_TOKEN_TTL="15 minutes")
    assert error.startswith("PORTA_ACCESS_TOKEN_TTL: must be seconds or a duration like 90s, 15m")


def test_a_zero_lifetime_is_refused(tmp_path):
    error = _check_deploy_error(tmp_path, PORTA_SESSION_LIFESPAN="0")
    assert error == "PORTA_SESSION_LIFESPAN: must be at least 1 seconds (got 0)"


def test_an_unknown_environment_name_is_refused(tmp_path):
    error = _check_deploy_error(tmp_path, PORTA_ENV="prod")
    assert error == "PORTA_ENV: must be one of development, production, test (got 'prod')"


def test_an_unknown_log_level_is_refused(tmp_path):
    error = _check_deploy_error(tmp_path, PORTA_LOG_LEVEL="verbose")
    assert error.startswith("PORTA_LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")


def test_a_trusted_proxy_that_is_not_an_ip_or_cidr_is_refused(tmp_path):
    error = _check_deploy_error(tmp_path, PORTA_TRUSTED_PROXIES="10.0.0.0/8,10.1.0.0/33")
    assert error == "PORTA_TRUSTED_PROXIES: '10.1.0.0/33' is not an IP address or CIDR network"


def test_a_bind_address_without_a_port_is_refused(tmp_path):
    error = _check_deploy_error(tmp_path, PORTA_BIND="localhost")
    assert error == "PORTA_BIND: must be HOST:PORT, [IPv6]:PORT or unix:PATH (got 'localhost')"


def test_an_allowed_host_given_as_a_url_is_refused(tmp_path):
    error = _check_deploy_error(tmp_path, PORTA_ALLOWED_HOSTS="https://id.example.com")
    assert (
        error == "PORTA_ALLOWED_HOSTS: 'https://id.example.com' is not a host name (no scheme, port or path)"
    )


def test_a_sender_that_is_not_an_email_address_is_refused(tmp_path):
    error = _check_deploy_error(tmp_path, PORTA_EMAIL_FROM="Porta")
    assert error == "PORTA_EMAIL_FROM: must be an e-mail address or Name <address>, got 'Porta'"


def test_an_email_backend_that_cannot_be_imported_is_refused(tmp_path):
    error = _check_deploy_error(tmp_path, EMAIL_BACKEND="django.core.mail.backends.smpt.EmailBackend")
    assert error == "EMAIL_BACKEND: module 'django.core.mail.backends.smpt' cannot be imported"


def test_production_names_every_missing_required_variable_in_one_line(tmp_path):
    error = _check_deploy_error(tmp_path, PORTA_ENV="production")
    missing = "PORTA_SECRET_KEY, PORTA_KEY_ENCRYPTION_KEY, DATABASE_URL, REDIS_URL, PORTA_PUBLIC_URL"
    assert error == f"{missing}: required with PORTA_ENV=production but not set"


def _example_variables() -> dict[str, str]:
    lines = EXAMPLE_ENV.read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if line.strip() and not line.lstrip().startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}


def test_the_deploy_example_as_shipped_is_refused_with_one_line(tmp_path):
    error = _check_deploy_error(tmp_path, **_example_variables())
    assert "still holds a placeholder from deploy/porta.env.example" in error


@pytest.mark.parametrize(
    "name", [name for name, value in _example_variables().items() if "CHANGE-ME" in value]
)
def test_every_placeholder_of_the_deploy_example_is_refused_by_name(tmp_path, name):
    error = _check_deploy_error(tmp_path, **{name: _example_variables()[name]})
    assert (
        error
        == f"{name}: still holds a placeholder from deploy/porta.env.example (CHANGE-ME); set a real value"
    )


def test_any_manage_py_command_stops_on_a_bad_variable(tmp_path):
    result = _manage("migrate", "--noinput", env=_clean_env(tmp_path, PORTA_KEY_ENCRYPTION_KEY=_kek(24)))
    assert _single_error_line(result).startswith("PORTA_KEY_ENCRYPTION_KEY: ")
    assert not (tmp_path / "porta.sqlite3").exists()


def test_manage_py_help_stops_on_a_bad_variable(tmp_path):
    result = _manage("help", env=_clean_env(tmp_path, PORTA_DEBUG="maybe"))
    assert _single_error_line(result).startswith("PORTA_DEBUG: ")


def test_manage_py_still_honours_a_settings_option(tmp_path):
    (tmp_path / "site_settings.py").write_text('from porta.settings import *\nSITE_MARK = "chosen"\n')
    code = "from django.conf import settings; print(settings.SITE_MARK)"
    options = ["--settings", "site_settings", "--pythonpath", str(tmp_path), "--verbosity", "0"]
    result = _manage("shell", *options, "--command", code, env=_clean_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "chosen"


def test_porta_check_deploy_stops_on_a_bad_variable(tmp_path):
    result = _porta("check", "--deploy", env=_clean_env(tmp_path, PORTA_KEY_ENCRYPTION_KEY=_kek(24)))
    assert _single_error_line(result).startswith("PORTA_KEY_ENCRYPTION_KEY: ")


def test_porta_serve_stops_before_listening_on_a_bad_variable(tmp_path):
    port = free_port()
    env = _clean_env(tmp_path, PORTA_BIND=f"127.0.0.1:{port}", REDIS_URL="redis://127.0.0.1:6379/zero")
    assert _single_error_line(_porta("serve", env=env)).startswith("REDIS_URL: ")


def test_gunicorn_on_the_wsgi_module_stops_with_the_one_line_and_no_traceback(tmp_path):
    env = _clean_env(tmp_path, PORTA_KEY_ENCRYPTION_KEY=_kek(24))
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "porta.wsgi:application",
        "--bind",
        f"127.0.0.1:{free_port()}",
    ]
    result = _run(command, env)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "configuration error" in line]
    assert errors == [
        f"{ERROR_PREFIX}PORTA_KEY_ENCRYPTION_KEY: must be 32 bytes of URL-safe base64 (got 24 bytes)"
    ]


def test_a_celery_worker_stops_with_the_one_line(tmp_path):
    env = _clean_env(tmp_path, PORTA_COURIER_MAX_ATTEMPTS="0")
    result = _run([sys.executable, "-m", "celery", "-A", "porta", "worker"], env)
    assert _single_error_line(result) == "PORTA_COURIER_MAX_ATTEMPTS: must be at least 1 (got 0)"


# The public URL follows the bind address in development.


def _serve(env: dict[str, str], port: int) -> ServerProcess:
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--workers", "1"], cwd=REPO_ROOT, env=env
    )
    server = ServerProcess(f"http://127.0.0.1:{port}", process)
    try:
        wait_for_port(port, timeout=30)
    except TimeoutError:
        server.stop()
        raise
    return server


def _development_env(tmp_path: Path, database_url: str, **variables: str) -> dict[str, str]:
    from django.conf import settings

    return _clean_env(
        tmp_path,
        PORTA_ENV="development",
        DATABASE_URL=database_url,
        PORTA_SECRET_KEY=settings.SECRET_KEY,
        PORTA_KEY_ENCRYPTION_KEY=",".join(settings.PORTA_KEY_ENCRYPTION_KEYS),
        **variables,
    )


def test_in_development_the_issuer_follows_the_bind_address(tmp_path, transactional_db, initialized):
    from tests.conftest import _database_url

    port = free_port()
    server = _serve(_development_env(tmp_path, _database_url(), PORTA_BIND=f"127.0.0.1:{port}"), port)
    try:
        metadata = requests.get(f"{server.base_url}/api/admin/metadata", timeout=10).json()
    finally:
        server.stop()
    assert metadata["issuer"] == f"http://127.0.0.1:{port}/porta-admin"


def _issuer(env: dict[str, str]) -> str:
    code = "from oidc.issuers import issuer_for; print(issuer_for('porta-admin'))"
    result = _manage("shell", "--verbosity", "0", "--command", code, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_wildcard_bind_address_gives_a_localhost_issuer(tmp_path):
    env = _clean_env(tmp_path, PORTA_ENV="development", PORTA_BIND="0.0.0.0:8123")
    assert _issuer(env) == "http://localhost:8123/porta-admin"


def test_an_explicit_public_url_wins_over_the_bind_address(tmp_path):
    env = _clean_env(tmp_path, PORTA_BIND="0.0.0.0:8123", PORTA_PUBLIC_URL="https://id.example.com/")
    assert _issuer(env) == "https://id.example.com/porta-admin"


# Readiness without Redis.


def test_ready_reports_redis_as_not_configured_without_redis_url(porta_server):
    server = porta_server(REDIS_URL="")
    response = requests.get(f"{server.base_url}/health/ready", timeout=10)
    assert response.status_code == 200
    assert response.json()["checks"]["redis"] == "not configured"
