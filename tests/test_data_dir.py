"""The data directory and the .env file follow the working directory (or the variables naming
them), never the folder the code is in: an installed Porta must not write into site-packages."""

from __future__ import annotations

import base64
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from testing.servers import free_port
from tests.conftest import REPO_ROOT

BEAT_REDIS_DB = 29  # a Redis database no test worker uses: this worker must find no one's tasks


def porta_check(cwd: Path, **extra: str) -> None:
    """``manage.py check`` of this checkout, run from ``cwd`` in the embedded default (no secrets,
    no services configured)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTA_", "DATABASE_URL", "REDIS_URL"))}
    command = [sys.executable, str(REPO_ROOT / "manage.py"), "check"]
    result = subprocess.run(
        command, cwd=cwd, env={**env, **extra}, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


def test_the_embedded_default_keeps_its_secrets_in_dot_porta_of_the_working_directory(tmp_path):
    porta_check(tmp_path)

    assert (tmp_path / ".porta/secrets.json").is_file()


def test_a_relative_data_dir_is_taken_from_the_working_directory(tmp_path):
    porta_check(tmp_path, PORTA_DATA_DIR="state")

    assert (tmp_path / "state/secrets.json").is_file()


def test_the_dot_env_of_the_working_directory_is_read(tmp_path):
    (tmp_path / ".env").write_text("PORTA_DATA_DIR=from-dot-env\n")

    porta_check(tmp_path)

    assert (tmp_path / "from-dot-env/secrets.json").is_file()


def test_porta_env_file_names_another_file_to_read(tmp_path):
    (tmp_path / ".env").write_text("PORTA_DATA_DIR=from-dot-env\n")
    (tmp_path / "porta.env").write_text("PORTA_DATA_DIR=from-porta-env\n")

    porta_check(tmp_path, PORTA_ENV_FILE="porta.env")

    assert (tmp_path / "from-porta-env/secrets.json").is_file()
    assert not (tmp_path / "from-dot-env").exists()


def test_serve_with_worker_makes_the_data_directory_its_beat_schedule_lives_in(tmp_path):
    """Production keeps nothing else in the data directory, so nothing made it before."""
    redis_url = f"{os.environ['REDIS_URL'].rsplit('/', 1)[0]}/{BEAT_REDIS_DB}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTA_", "DATABASE_URL", "REDIS_URL"))}
    env.update(
        PORTA_ENV="production",
        PORTA_SECRET_KEY=secrets.token_urlsafe(50),
        PORTA_KEY_ENCRYPTION_KEY=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        DATABASE_URL=os.environ["DATABASE_URL"],
        REDIS_URL=redis_url,
        PORTA_PUBLIC_URL="https://porta.example",
        PYTHONPATH=str(REPO_ROOT),  # the worker imports this checkout, not the venv's install
    )
    env.pop("PYTEST_XDIST_WORKER", None)
    port = free_port()
    command = [sys.executable, str(REPO_ROOT / "manage.py"), "serve", "--bind", f"127.0.0.1:{port}",
               "--workers", "1", "--with-worker"]  # fmt: skip
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        server = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while not list(tmp_path.glob(".porta/celerybeat-schedule*")) and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)

    assert list(tmp_path.glob(".porta/celerybeat-schedule*")), log.read_text()[-3000:]
