"""The embedded default (SQLite, no Redis, so no broker): a job runs in-process right after the
transaction that enqueued it commits, and its file lands under the data directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

SCRIPT = """
import json
from jobs.models import Job
from jobs.services import job_enqueue
from porta.core.context import Actor

job = job_enqueue(kind="testing.file", actor=Actor.system(), organization_id=None,
                  parameters={"content": "id\\n1\\n", "name": "out.csv"})
job = Job.objects.get(pk=job.pk)
print(json.dumps({"status": job.status, "path": job.file.path, "content": open(job.file.path).read()}))
"""


@pytest.mark.servers
def test_without_a_broker_a_job_runs_in_process_on_sqlite_and_keeps_its_file_in_the_data_dir(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTA_", "DATABASE_URL", "REDIS_URL"))}
    env["PORTA_ENV"] = "test"  # for the test job kinds; the database and broker stay the defaults

    def manage(*arguments: str) -> str:
        result = subprocess.run(
            [sys.executable, str(REPO_ROOT / "manage.py"), *arguments],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result.stdout

    manage("migrate", "--noinput", "-v", "0")
    outcome = json.loads(manage("shell", "-c", SCRIPT).strip().splitlines()[-1])
    assert outcome["status"] == "succeeded"
    assert outcome["content"] == "id\n1\n"
    assert outcome["path"].startswith(str(tmp_path / ".porta" / "job-files"))
    assert (tmp_path / ".porta" / "porta.sqlite3").is_file()
