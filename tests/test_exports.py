"""Streaming exports (``GET /export/{entity}``): the bytes match the database exactly, in CSV
(RFC 4180) and JSON, with the lists' filters, order and tenancy."""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
import time

import orjson
import pytest
import requests
from django.db import connection
from django.test import Client

from applications.models import ClientSecret
from audit.models import AuditEntry
from exports import streaming
from exports.columns import SPECS
from organizations.models import Organization, User
from rbac.models import Role
from tests.client_factories import make_application, make_client
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ApiClient
from tests.factories import OrganizationFactory

EXPORT = "/api/admin/export"
TRICKY = [
    'Ann, "The" Hacker',
    "two\nlines",
    "carriage\r\nreturn",
    "Ünïcødé 日本語 🚀",
    '"',
    ",",
    "",
    "  padded  ",
    "\\.",
    "back\\slash\ttab",
]


@pytest.fixture
def org(initialized) -> Organization:
    return OrganizationFactory(name='Acme, "Inc"', slug="acme")


@pytest.fixture
def tricky_users(org) -> list[User]:
    users = []
    for n, text in enumerate(TRICKY):
        users.append(
            User.objects.create(
                organization=org,
                email=f"user{n}@acme.example",
                given_name=text,
                family_name=TRICKY[-1 - n],
                nickname=None if n % 2 else text,
                locale="fr-CA" if n % 3 == 0 else None,
                email_verified=n % 2 == 0,
                external_id=f"ext-{n}" if n % 2 else None,
                last_login=datetime.datetime(2024, 1, 15, 10, 30, n, 123456, tzinfo=datetime.UTC)
                if n % 2
                else None,
            )
        )
    return users


def body(response) -> bytes:
    assert response.streaming
    return b"".join(response.streaming_content)


def export(api: ApiClient, entity: str, **params: str):
    response = api.get(f"{EXPORT}/{entity}", params)
    assert response.status_code == 200, response.content if not response.streaming else ""
    return response


def csv_rows(raw: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))


def as_cell(value) -> str:
    """A value of the API's JSON as the export writes it in a CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def listed(api: ApiClient, path: str, **params: str) -> list[dict]:
    """Every row of a list endpoint, in its order, following its cursor."""
    rows, cursor = [], None
    while True:
        query = {**params, "limit": "1000", **({"cursor": cursor} if cursor else {})}
        response = api.get(path, query)
        assert response.status_code == 200, response.content
        rows += response.json()["data"]
        cursor = response.json()["pagination"]["nextCursor"]
        if not cursor:
            return rows


def columns_of(entity: str, rows: list[dict]) -> list[dict]:
    names = SPECS[entity].header
    return [{name: row[name] for name in names} for row in rows]


# -- CSV ---------------------------------------------------------------------------------------


def test_the_users_csv_holds_exactly_what_the_users_list_shows(api, org, tricky_users):
    raw = body(export(api, "users", format="csv", organizationId=str(org.id)))
    expected = columns_of("users", listed(api, f"/api/admin/organizations/{org.id}/users"))
    assert csv_rows(raw) == [{k: as_cell(v) for k, v in row.items()} for row in expected]


def test_quotes_commas_and_line_breaks_round_trip_through_the_csv(api, org, tricky_users):
    raw = body(export(api, "users", format="csv", organizationId=str(org.id), sort="email", order="asc"))
    given = [row["givenName"] for row in csv_rows(raw)]
    assert given == [u.given_name for u in sorted(tricky_users, key=lambda u: u.email)]


def test_csv_records_end_with_crlf_and_quote_as_rfc_4180_says(api, org, tricky_users):
    raw = body(export(api, "users", format="csv", organizationId=str(org.id), search="user0@"))
    header, record = raw.split(b"\r\n", 1)
    assert header == b",".join(name.encode() for name in SPECS["users"].header)
    assert record.endswith(b"\r\n")
    assert record.count(b"\r\n") == 1
    assert b'"Ann, ""The"" Hacker"' in record


def test_an_empty_string_and_a_null_are_told_apart_in_the_csv(api, org, tricky_users):
    user = next(u for u in tricky_users if u.given_name == "")  # nickname "", externalId null
    raw = body(export(api, "users", format="csv", organizationId=str(org.id), search=user.email))
    record = raw.split(b"\r\n")[1].split(b",")
    header = SPECS["users"].header
    assert record[header.index("nickname")] == b'""'
    assert record[header.index("externalId")] == b""


def test_the_csv_is_utf_8(api, org, tricky_users):
    raw = body(export(api, "users", format="csv", organizationId=str(org.id)))
    assert "Ünïcødé 日本語 🚀".encode() in raw


# -- JSON --------------------------------------------------------------------------------------


def test_the_users_json_holds_exactly_what_the_users_list_shows(api, org, tricky_users):
    document = orjson.loads(body(export(api, "users", format="json", organizationId=str(org.id))))
    expected = columns_of("users", listed(api, f"/api/admin/organizations/{org.id}/users"))
    assert document["data"] == expected
    assert document["total"] == len(tricky_users)


def test_the_json_envelope_is_data_exported_at_and_total(api, org, tricky_users):
    document = orjson.loads(body(export(api, "users", organizationId=str(org.id))))
    assert list(document) == ["data", "exportedAt", "total"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", document["exportedAt"])


def test_an_export_with_no_rows_is_an_empty_envelope(api, org):
    document = orjson.loads(body(export(api, "users", organizationId=str(org.id))))
    assert document["data"] == []
    assert document["total"] == 0


# -- the other entities --------------------------------------------------------------------------


def test_the_organizations_export_matches_the_organizations_list(api, org):
    OrganizationFactory(name='Line\nbreak, and "quotes"', slug="weird")
    document = orjson.loads(body(export(api, "organizations")))
    assert document["data"] == columns_of("organizations", listed(api, "/api/admin/organizations"))
    raw = body(export(api, "organizations", format="csv"))
    assert csv_rows(raw) == [{k: as_cell(v) for k, v in row.items()} for row in document["data"]]


def test_the_clients_export_matches_the_clients_list_and_holds_no_secret(api, org):
    application = make_application()
    client, secret = make_client(org, application, client_name='Portal, "main"')
    make_client(org, application, client_type="public", application_type="spa")
    document = orjson.loads(body(export(api, "clients", organizationId=str(org.id))))
    assert document["data"] == columns_of(
        "clients", listed(api, "/api/admin/clients", organizationId=str(org.id))
    )
    raw = body(export(api, "clients", format="csv", organizationId=str(org.id)))
    assert csv_rows(raw) == [{k: as_cell(v) for k, v in row.items()} for row in document["data"]]
    for stored in ClientSecret.objects.filter(client=client).values_list("secret_hash", flat=True):
        assert stored.encode() not in raw
    assert secret.encode() not in raw


def test_the_roles_export_matches_the_roles_list_of_an_application(api, initialized):
    application = make_application()
    Role.objects.create(application=application, name='Reader, "all"', slug="reader", description="a\nb")
    Role.objects.create(application=application, name="Writer", slug="writer")
    document = orjson.loads(body(export(api, "roles", applicationId=str(application.id))))
    assert document["data"] == columns_of(
        "roles", listed(api, f"/api/admin/applications/{application.id}/roles")
    )
    assert len(document["data"]) == 2


def test_the_audit_export_matches_the_audit_list(api, org):
    AuditEntry.objects.create(
        event_type="test.event", actor_type="system", organization_id=org.id, target_type="user",
        target_id="x", metadata={"note": 'comma, "quote"\nline', "n": [1, 2, {"ü": None}]},
        ip_address="2001:db8::1", user_agent="agent, 1.0",
    )  # fmt: skip
    AuditEntry.objects.create(
        event_type="test.other", actor_type="system", organization_id=org.id, target_type="user",
        ip_address="192.0.2.7",
    )  # fmt: skip
    # (Each export is itself audited: eventType keeps those entries out of the comparison.)
    chosen = {"organizationId": str(org.id), "eventType": "test.*"}
    document = orjson.loads(body(export(api, "audit", **chosen)))
    expected = columns_of("audit", listed(api, "/api/admin/audit", **chosen))
    assert document["data"] == expected
    assert len(expected) == 2
    rows = csv_rows(body(export(api, "audit", format="csv", **chosen)))
    assert [json.loads(row["metadata"]) for row in rows] == [row["metadata"] for row in expected]
    assert [row["ipAddress"] for row in rows] == [row["ipAddress"] for row in expected]


# -- filters, order, headers, errors ----------------------------------------------------------------


def test_the_lists_filters_choose_the_rows(api, org, tricky_users):
    tricky_users[1].status = "suspended"
    tricky_users[1].save()
    document = orjson.loads(body(export(api, "users", organizationId=str(org.id), status="suspended")))
    assert [row["id"] for row in document["data"]] == [str(tricky_users[1].id)]
    document = orjson.loads(body(export(api, "users", organizationId=str(org.id), search="user1")))
    assert {row["email"] for row in document["data"]} == {"user1@acme.example"}


def test_the_audit_export_takes_the_audit_lists_event_type_prefix(api, org):
    for event in ("org.created", "org.updated", "user.created"):
        AuditEntry.objects.create(
            event_type=event, actor_type="system", organization_id=org.id, target_type="x"
        )
    document = orjson.loads(body(export(api, "audit", organizationId=str(org.id), eventType="org.*")))
    assert sorted(row["eventType"] for row in document["data"]) == ["org.created", "org.updated"]


def test_the_export_follows_the_lists_sort_and_order(api, org, tricky_users):
    document = orjson.loads(
        body(export(api, "users", organizationId=str(org.id), sort="email", order="desc"))
    )
    assert [row["email"] for row in document["data"]] == sorted((u.email for u in tricky_users), reverse=True)


def test_the_download_is_named_after_the_entity_and_the_time(api, org):
    response = export(api, "organizations", format="csv")
    assert re.fullmatch(
        r'attachment; filename="organizations-export-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.csv"',
        response["Content-Disposition"],
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"


@pytest.mark.parametrize(
    ("params", "field"),
    [({"format": "xml"}, "format"), ({"sort": "password"}, "sort"), ({"status": "bogus"}, "status"),
     ({"organizationId": "not-a-uuid"}, "organizationId")],
)  # fmt: skip
def test_a_bad_query_value_is_a_400_naming_it(api, org, params, field):
    response = api.get(f"{EXPORT}/users", params)
    assert response.status_code == 400
    assert field in response.json()["details"]


def test_an_unknown_entity_is_a_404(api):
    assert api.get(f"{EXPORT}/passwords").status_code == 404


def test_each_export_is_audited_with_its_filters(api, org):
    export(api, "users", format="csv", organizationId=str(org.id), status="active")
    entry = AuditEntry.objects.get(event_type="export.downloaded")
    assert entry.organization_id == org.id
    assert entry.metadata == {
        "entity": "users", "format": "csv", "filters": {"organizationId": str(org.id), "status": "active"}
    }  # fmt: skip


def test_an_export_needs_the_export_permission(api_as):
    response = api_as("porta-org-admin").get(f"{EXPORT}/organizations")
    assert response.status_code == 403
    assert response.json()["message"] == "Insufficient permissions. Required: admin:export:read"


def test_an_export_needs_the_entitys_read_permission_too(api_as, initialized):
    from applications.models import Application
    from rbac.models import Permission, RolePermission

    role = Role.objects.create(
        application=Application.objects.get(slug="porta-admin"), name="Exporter", slug="exporter"
    )
    RolePermission.objects.create(role=role, permission=Permission.objects.get(slug="admin:export:read"))
    response = api_as("porta-org-admin", "exporter").get(f"{EXPORT}/users")
    assert response.status_code == 403
    assert response.json()["message"] == "Insufficient permissions. Required: admin:user:read"


# -- tenancy -------------------------------------------------------------------------------------


@pytest.fixture
def scoped(api, org) -> ApiClient:
    """An admin API key scoped to ``org``."""
    response = api.post(
        "/api/admin/api-keys",
        {"name": "Acme key", "organizationId": str(org.id), "roles": ["porta-super-admin"]},
    )
    assert response.status_code == 201, response.content
    return ApiClient(Client(), response.json()["secret"])


def test_an_organization_scoped_key_exports_only_its_organizations_users(scoped, org, tricky_users):
    other = OrganizationFactory()
    User.objects.create(organization=other, email="stranger@other.example")
    document = orjson.loads(body(export(scoped, "users")))
    assert {row["organizationId"] for row in document["data"]} == {str(org.id)}
    assert document["total"] == len(tricky_users)


def test_naming_another_organization_is_a_404(scoped, org):
    other = OrganizationFactory()
    User.objects.create(organization=other, email="stranger@other.example")
    response = scoped.get(f"{EXPORT}/users", {"format": "csv", "organizationId": str(other.id)})
    assert response.status_code == 404
    assert response.json()["message"] == "Organization not found"


def test_an_organization_scoped_key_exports_only_its_organizations_audit_entries(scoped, org):
    other = OrganizationFactory()
    AuditEntry.objects.create(
        event_type="x.y", actor_type="system", organization_id=other.id, target_type="x"
    )
    AuditEntry.objects.create(event_type="x.y", actor_type="system", organization_id=None, target_type="x")
    document = orjson.loads(body(export(scoped, "audit")))
    assert document["data"]
    assert {row["organizationId"] for row in document["data"]} == {str(org.id)}


def test_an_organization_scoped_key_exports_only_its_organizations_clients(scoped, org):
    application = make_application()
    mine, _ = make_client(org, application)
    make_client(OrganizationFactory(), application)
    document = orjson.loads(body(export(scoped, "clients")))
    assert [row["id"] for row in document["data"]] == [str(mine.id)]


@pytest.mark.parametrize("entity", ["organizations", "roles"])
def test_global_exports_are_forbidden_to_an_organization_scoped_key(scoped, entity):
    response = scoped.get(f"{EXPORT}/{entity}")
    assert response.status_code == 403


# -- the fallback path ---------------------------------------------------------------------------


def test_the_fallback_path_writes_the_same_csv_bytes_as_copy(api, org, tricky_users, monkeypatch):
    params = {"format": "csv", "organizationId": str(org.id)}
    with_copy = body(export(api, "users", **params))
    monkeypatch.setattr(streaming, "uses_copy", lambda queryset: False)
    assert body(export(api, "users", **params)) == with_copy


def test_the_fallback_path_writes_the_same_json_as_copy(api, org, monkeypatch):
    AuditEntry.objects.create(
        event_type="t.e", actor_type="system", organization_id=org.id, target_type="t",
        metadata={"a": 'x,"y"\n'}, ip_address="2001:db8::5",
    )  # fmt: skip
    chosen = {"organizationId": str(org.id), "eventType": "t.e"}
    with_copy = orjson.loads(body(export(api, "audit", **chosen)))
    monkeypatch.setattr(streaming, "uses_copy", lambda queryset: False)
    without = orjson.loads(body(export(api, "audit", **chosen)))
    assert without["data"] == with_copy["data"]
    assert len(without["data"]) == 1


def _copies_running() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY (%%' AND state = 'active' "
            "AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@pytest.mark.servers
def test_a_client_that_goes_away_mid_export_cancels_the_copy(porta_server, initialized):
    organization = OrganizationFactory()
    # ~50 MB of CSV: more than the socket buffers between PostgreSQL, the server and the client
    # can hold, so the COPY is still running while the client has read only the first bytes.
    long = "x" * 255
    User.objects.bulk_create(
        (
            User(organization=organization, email=f"bulk{n:05d}@acme.example", given_name=long,
                 family_name=long, nickname=long)
            for n in range(60_000)
        ),
        batch_size=5000,
    )  # fmt: skip
    server = porta_server()
    form = {
        "grant_type": "password",
        "client_id": "porta-cli",
        "username": ADMIN_EMAIL,
        "password": ADMIN_PASSWORD,
    }
    token = requests.post(f"{server.base_url}/porta-admin/auth/token", data=form, timeout=10).json()[
        "access_token"
    ]
    url = f"{server.base_url}{EXPORT}/users?format=csv&organizationId={organization.id}"
    headers = {"Authorization": f"Bearer {token}"}
    with requests.get(url, headers=headers, stream=True, timeout=30) as response:
        assert response.status_code == 200
        assert len(response.raw.read(256 * 1024)) == 256 * 1024  # past the header: the COPY runs
        assert _copies_running() == 1  # held up by the unread stream
    # The server notices when its writes fail, closes the stream, and psycopg cancels the COPY.
    deadline = time.monotonic() + 30
    while _copies_running() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _copies_running() == 0
    complete = requests.get(url, headers=headers, timeout=60)
    assert complete.content.count(b"\r\n") == 60_001
