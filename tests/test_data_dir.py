"""The data directory and the .env file follow the working directory (or the variables naming
them), never the folder the code is in: an installed Porta must not write into site-packages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT


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
