"""The embedded default (SQLite, no Redis): exports stream through the ORM instead of COPY, and
hold exactly what the lists show, as on PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT
from tests.test_exports import TRICKY, as_cell

PASSWORD = "embedded-password-1"
SCRIPT = """
import json
from urllib.parse import urlencode
from django.test import Client
from django.test.utils import setup_test_environment
from organizations.models import Organization, User

setup_test_environment()  # the test client's host name
TRICKY = json.loads(%(tricky)r)
client = Client()
form = {"grant_type": "password", "client_id": "porta-cli", "username": "admin@example.com",
        "password": %(password)r}
token = client.post("/porta-admin/auth/token", urlencode(form),
                    content_type="application/x-www-form-urlencoded").json()["access_token"]
auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
org = Organization.objects.create(name='Acme, "Inc"', slug="acme")
for n, text in enumerate(TRICKY):
    User.objects.create(organization=org, email=f"user{n}@acme.example", given_name=text,
                        family_name=TRICKY[-1 - n], nickname=None if n %% 2 else text,
                        email_verified=n %% 2 == 0)

def export(fmt):
    response = client.get(f"/api/admin/export/users?format={fmt}&organizationId={org.id}", **auth)
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content).decode()

listed = client.get(f"/api/admin/organizations/{org.id}/users?pageSize=100", **auth).json()["data"]
print(json.dumps({"csv": export("csv"), "json": json.loads(export("json")), "list": listed}))
"""


@pytest.fixture(scope="module")
def embedded(tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("embedded")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTA_", "DATABASE_URL", "REDIS_URL"))}

    def manage(*arguments: str) -> str:
        result = subprocess.run(
            [sys.executable, str(REPO_ROOT / "manage.py"), *arguments],
            cwd=home, env=env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result.stdout

    manage("migrate", "--noinput", "-v", "0")
    manage("porta_init", "--admin-email", "admin@example.com", f"--admin-password={PASSWORD}")
    script = SCRIPT % {"tricky": json.dumps(TRICKY), "password": PASSWORD}
    outcome = json.loads(manage("shell", "-c", script).strip().splitlines()[-1])
    assert (home / ".porta" / "porta.sqlite3").is_file()
    return outcome


def _columns(rows: list[dict]) -> list[dict]:
    from exports.columns import USERS

    return [{name: row[name] for name in USERS.header} for row in rows]


@pytest.mark.servers
def test_on_sqlite_the_csv_export_holds_exactly_what_the_list_shows(embedded):
    rows = list(csv.DictReader(io.StringIO(embedded["csv"], newline="")))
    assert rows == [{k: as_cell(v) for k, v in row.items()} for row in _columns(embedded["list"])]
    assert embedded["csv"].startswith("id,organizationId,")
    assert embedded["csv"].endswith("\r\n")


@pytest.mark.servers
def test_on_sqlite_the_json_export_holds_exactly_what_the_list_shows(embedded):
    assert embedded["json"]["data"] == _columns(embedded["list"])
    assert embedded["json"]["total"] == len(TRICKY)
