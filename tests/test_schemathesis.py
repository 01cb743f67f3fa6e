"""Contract §1 "OpenAPI": schemathesis runs over the whole admin schema against the real app
(Django through its WSGI handler, on the test PostgreSQL and Redis) and finds no server error, no
undeclared status, no undeclared content type and no body that breaks its declared schema.

How it stays bounded, deterministic and meaningful:

- Each operation is one test: the schema's examples, its coverage cases (boundary and invalid
  values for every parameter and body field) and a few fuzzed cases, all derived from a fixed
  seed, with no example database.
- A world of real rows (an organization with a user, a login session and an invitation, an
  application with a module, a claim, a permission and a role, a client with a secret, an API key,
  a signing key) is built once per module and committed. Each test runs in a transaction that is
  rolled back, so every operation starts from the same world whatever ran before it.
- Two of three generated ids in paths and bodies (decided by a hash of the generated value, so
  deterministic) are replaced by the world's row of that kind, so the fuzzer reaches validation,
  state transitions and writes instead of stopping at 404.
- The fuzzer authenticates as the super-admin with a global admin API key. The world's ids never
  name the super-admin, its organization, the admin application, its own key or a signing key
  in use, so no operation can cut the fuzzer off (an API key does not depend on the signing keys
  that ``POST /keys/{id}/revoke`` and ``/keys/rotate`` act on). Each test ends by checking that
  the credential still works, so a run cannot pass by answering 401 to everything.
"""

from __future__ import annotations

import base64
import contextlib
import uuid
import zlib
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client, override_settings
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from jobs.services import job_enqueue
from porta.bootstrap import porta_init
from porta.core.context import Actor
from porta.wsgi import application
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ApiClient, issue_token, post_form

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SEED = 20261129
MAX_EXAMPLES = 10  # fuzzed cases per operation, besides its examples and coverage cases

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
        # Valid and invalid inputs alike; the same cases on every run.
        "generation": {"mode": "all", "deterministic": True},
    }
)

schema = schemathesis.openapi.from_wsgi("/api/admin/schema?format=json", application, config=CONFIG)

WORLD_PASSWORD = "world-password-1"


@contextlib.contextmanager
def keeping_the_test_connection() -> Iterator[None]:
    """Django closes its database connection when a WSGI request finishes; the test's own
    connection (its test database, its transaction) must outlive each call, as Django's test
    client arranges for its own requests."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _created(response, *keys: str) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.content
    body = response.json()
    for key in keys:
        body = body[key]
    return body


def _build_world() -> tuple[str, dict[str, str]]:
    """Real rows of every kind a path or body can name, made through the API as an operator
    would. Returns the fuzzer's credential and the world's ids by kind."""
    porta_init(admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)
    client = Client()
    api = ApiClient(client, issue_token(client, ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"])
    admin = "/api/admin"
    org = _created(api.post(f"{admin}/organizations", {"name": "Fuzz Org", "slug": "fuzz-org"}))["id"]
    user = _created(
        api.post(
            f"{admin}/organizations/{org}/users", {"email": "fuzz@example.com", "password": WORLD_PASSWORD}
        )
    )["id"]
    app = _created(api.post(f"{admin}/applications", {"name": "Fuzz App", "slug": "fuzz-app"}))["id"]
    apps = f"{admin}/applications/{app}"
    module = _created(api.post(f"{apps}/modules", {"name": "Billing"}))["id"]
    claim = _created(api.post(f"{apps}/claims", {"claimName": "department", "claimType": "string"}))["id"]
    permission = _created(api.post(f"{apps}/permissions", {"name": "Read", "slug": "billing:invoice:read"}))[
        "id"
    ]
    role = _created(api.post(f"{apps}/roles", {"name": "Reader", "slug": "reader"}))["id"]
    oauth_client = _created(
        api.post(
            f"{admin}/clients",
            {
                "organizationId": org,
                "applicationId": app,
                "clientName": "Fuzz CLI",
                "clientType": "public",
                "applicationType": "native",
                "redirectUris": ["http://127.0.0.1:8765/callback"],
                "grantTypes": ["password", "refresh_token"],
                "tokenEndpointAuthMethod": "none",
            },
        ),
        "client",
    )
    confidential = _created(
        api.post(
            f"{admin}/clients",
            {
                "organizationId": org,
                "applicationId": app,
                "clientName": "Fuzz web",
                "clientType": "confidential",
                "applicationType": "web",
                "redirectUris": ["https://fuzz.example.com/callback"],
            },
        ),
        "client",
    )["id"]
    secret = _created(
        api.post(f"{admin}/clients/{confidential}/secrets", {"label": "second"}), "clientSecret"
    )
    login = post_form(
        client,
        "/fuzz-org/auth/token",
        {
            "grant_type": "password",
            "client_id": oauth_client["clientId"],
            "username": "fuzz@example.com",
            "password": WORLD_PASSWORD,
        },
    )
    assert login.status_code == 200, login.content
    session = _created(api.get(f"{admin}/sessions", {"userId": user}), "data")[0]["id"]
    _created(api.post(f"{admin}/organizations/{org}/users/invite", {"email": "invitee@example.com"}))
    message = _created(api.get(f"{admin}/courier/messages"), "data")[0]["id"]
    other_key = _created(
        api.post(f"{admin}/api-keys", {"name": "other", "organizationId": org, "roles": ["porta-org-admin"]}),
        "apiKey",
    )["id"]
    signing_key = _created(api.post(f"{admin}/keys", {}))["id"]
    audit_entry = _created(api.get(f"{admin}/audit"), "data")[0]["id"]
    job = job_enqueue(  # runs eagerly at once (no transaction is open here): a job with a file
        kind="testing.file", actor=Actor.system(), organization_id=org, parameters={"content": "a,b\n"}
    )
    logo = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(24)).decode()  # served as image/png
    _created(api.put(f"{admin}/organizations/{org}/branding/logo", {"data": logo}))
    credential = _created(
        api.post(
            f"{admin}/api-keys", {"name": "fuzzer", "organizationId": None, "roles": ["porta-super-admin"]}
        )
    )["secret"]
    ids = {
        "organizations": org,
        "organization_id": org,
        "organizationId": org,
        "users": user,
        "user_id": user,
        "userId": user,
        "applications": app,
        "application_id": app,
        "applicationId": app,
        "modules": module,
        "claims": claim,
        "permissions": permission,
        "roles": role,
        "clients": confidential,
        "clientId": confidential,
        "secret_id": secret,
        "sessions": session,
        "messages": message,
        "api-keys": other_key,
        "keys": signing_key,
        "audit": audit_entry,
        "jobs": str(job.id),
    }
    return credential, ids


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[tuple[str, dict[str, str]]]:
    # Built before the per-test reset of the rate-limit windows (a module fixture comes first), so
    # the writes of the tests before it may have used up the window: lift the limit while building.
    with django_db_blocker.unblock():
        try:
            with override_settings(PORTA_RATE_LIMIT_WRITES=1_000_000):
                world = _build_world()
            yield world
        finally:
            # The world was committed: it must not outlive this module.
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def fuzz_settings(settings) -> None:
    # Hundreds of writes per operation: the write rate limit (tested on its own) would answer
    # 429 to all but the first 60 and hide everything behind it.
    settings.PORTA_RATE_LIMIT_WRITES = 1_000_000


def _aims_at_the_world(case) -> bool:
    """Two of three cases name real rows: decided by a hash of what was generated, so it is as
    deterministic as the generation itself."""
    generated = f"{case.path_parameters!r}|{case.query!r}|{case.body!r}"
    return zlib.crc32(generated.encode()) % 3 != 0


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def aim_at_the_world(case, ids: dict[str, str]) -> None:
    """Replace generated ids by the world's rows of the same kind (see the module docstring):
    path parameters by the collection they follow (``/clients/{id}``) or their name
    (``{application_id}``), body fields by their name (``organizationId``)."""
    if not _aims_at_the_world(case):
        return
    segments = case.operation.path.strip("/").split("/")
    for index, segment in enumerate(segments):
        if segment.startswith("{") and segment.endswith("}"):
            name = segment[1:-1]
            kind = segments[index - 1] if name == "id" else name
            if kind in ids:
                case.path_parameters[name] = ids[kind]
    if isinstance(case.body, dict):
        for name, value in list(case.body.items()):
            if name in ids and _is_uuid(value):
                case.body[name] = ids[name]


@schema.parametrize()
@hypothesis_settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_conforms_to_its_schema(case, world, db, fuzz_settings):
    credential, ids = world
    aim_at_the_world(case, ids)
    headers = {"Authorization": f"Bearer {credential}"}
    with keeping_the_test_connection():
        response = case.call(headers=headers)
    case.validate_response(response, checks=CHECKS)


@pytest.fixture(autouse=True)
def _the_credential_survives(world, db) -> Iterator[None]:
    """After each operation's cases the fuzzer's credential still works (see the module
    docstring): an operation that cut it off would turn every later case into a 401."""
    yield
    credential, _ = world
    response = Client().get("/api/admin/organizations", HTTP_AUTHORIZATION=f"Bearer {credential}")
    assert response.status_code == 200, orjson.loads(response.content)
