"""An organization in a path is found by its id or its slug, on every route that has one.

The routes are enumerated from the URL resolver, so a route added under ``/organizations/{…}``
is covered without touching this file. Each call runs in a transaction that is rolled back, so
the call by id and the call by slug meet the same state and must give the same answer."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from organizations.models import Organization, User
from tests.conftest import ApiClient

API_PREFIX = "/api/admin/"
_ORGANIZATION_KWARG = re.compile(r"organizations/\(\?P<(\w+)>")
_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z| UTC)?")


def _patterns(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in resolver.url_patterns:
        pattern = prefix + str(entry.pattern).lstrip("^").removesuffix("$").removesuffix("/?")
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, pattern)
        else:
            yield pattern, entry


def organization_routes() -> list[tuple[str, str, str]]:
    """(route name, method, path template) for every admin API route naming an organization."""
    routes = []
    for pattern, entry in _patterns(get_resolver()):
        if not pattern.startswith(API_PREFIX.lstrip("/")) or not _ORGANIZATION_KWARG.search(pattern):
            continue
        for method in sorted(getattr(entry.callback, "actions", {})):
            routes.append((entry.name, method.upper(), "/" + pattern))
    return routes


ROUTES = organization_routes()


def test_the_enumeration_finds_the_nested_organization_routes():
    names = {name for name, _, _ in ROUTES}
    assert {"organization-detail", "org-user-list", "org-user-detail", "org-user-roles"} <= names


@pytest.fixture
def org(initialized) -> Organization:
    return Organization.objects.create(name="Acme", slug="acme")


@pytest.fixture
def member(org) -> User:
    return User.objects.create(organization=org, email="member@acme.example")


@pytest.fixture
def scoped_key(api, org, settings) -> ApiClient:
    """An admin API key scoped to ``org``, whose tests call every route (more writes than the
    per-IP rate limit allows in a window)."""
    settings.PORTA_RATE_LIMIT_WRITES = 10_000
    body = {"name": "acme bot", "organizationId": str(org.id), "roles": ["porta-super-admin"]}
    response = api.post("/api/admin/api-keys", body)
    assert response.status_code == 201, response.content
    return ApiClient(Client(), response.json()["secret"])


def url(template: str, organization: str, user: User) -> str:
    """The path with the organization (id or slug) and any other id filled in. Another kwarg than
    the organization's and a user's fails loudly: add it here with a row it can name."""
    organization_kwarg = _ORGANIZATION_KWARG.search(template).group(1)
    values = {"pk": str(user.id), "asset_type": "logo", organization_kwarg: organization}
    return _GROUP.sub(lambda m: values[m.group(1)], template)


def answer(api: ApiClient, method: str, path: str, known_ids: set[str]) -> tuple[int, Any]:
    """Status and body of one call, rolled back afterwards; ids it created and times are masked."""
    with transaction.atomic():
        if method in ("GET", "HEAD"):
            response = api.client.generic(method, path, **api._headers(None))
        else:
            response = api.client.generic(
                method, path, orjson.dumps({}), content_type="application/json", **api._headers(None)
            )
        transaction.set_rollback(True)
    body = (
        response.json()
        if response.content and response["Content-Type"].startswith("application/json")
        else None
    )
    text = orjson.dumps(_without_request_ids(body)).decode()
    text = _UUID.sub(lambda m: m.group(0) if m.group(0) in known_ids else "<new id>", text)
    return response.status_code, orjson.loads(_TIMESTAMP.sub("<time>", text))


def _without_request_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_request_ids(v) for k, v in value.items() if k != "requestId"}
    if isinstance(value, list):
        return [_without_request_ids(v) for v in value]
    return value


def _known_ids(*rows) -> set[str]:
    return {str(row.id) for row in rows} | {
        str(pk) for pk in Organization.objects.values_list("id", flat=True)
    }


def assert_found(status_and_body: tuple[int, Any]) -> None:
    status, body = status_and_body
    assert not (status == 404 and body["message"] == "Organization not found"), body


@pytest.mark.parametrize(("name", "method", "template"), ROUTES, ids=[f"{m} {n}" for n, m, _ in ROUTES])
def test_the_slug_and_the_id_of_an_organization_give_the_same_answer(
    api, org, member, name, method, template
):
    known = _known_ids(org, member)

    by_id = answer(api, method, url(template, str(org.id), member), known)
    by_slug = answer(api, method, url(template, org.slug, member), known)

    assert_found(by_id)
    assert by_slug == by_id


def test_an_organization_scoped_caller_finds_its_organization_by_slug_as_by_id(scoped_key, org, member):
    """Every route in one test (one fixture set-up): a route whose answers differ is named."""
    known = _known_ids(org, member)
    differing = []
    for name, method, template in ROUTES:
        by_id = answer(scoped_key, method, url(template, str(org.id), member), known)
        by_slug = answer(scoped_key, method, url(template, org.slug, member), known)
        assert_found(by_id)
        if by_slug != by_id:
            differing.append((method, name, by_id, by_slug))
    assert not differing


def test_the_slug_of_another_organization_is_404_for_an_organization_scoped_caller(scoped_key, org):
    other = Organization.objects.create(name="Other", slug="other")
    stranger = User.objects.create(organization=other, email="stranger@other.example")
    known = _known_ids(org, other, stranger)
    answered = []
    for name, method, template in ROUTES:
        for reference in (other.slug, str(other.id)):
            status, body = answer(scoped_key, method, url(template, reference, stranger), known)
            if status != 404 or body["error"] != "NotFound":
                answered.append((method, name, reference, status, body))
    assert not answered
    assert Organization.objects.get(pk=other.id).status == "active"


def test_an_unknown_slug_is_404_naming_the_organization(api):
    response = api.get("/api/admin/organizations/no-such-org/users")

    assert response.status_code == 404
    assert response.json()["message"] == "Organization not found"


def test_a_user_created_under_the_slug_joins_the_organization_it_names(api, org):
    response = api.post("/api/admin/organizations/acme/users", {"email": "new@acme.example"})

    assert response.status_code == 201, response.content
    assert User.objects.get(pk=response.json()["id"]).organization_id == org.id
    assert response["Location"] == f"/api/admin/organizations/{org.id}/users/{response.json()['id']}"


def test_an_id_and_a_slug_of_two_organizations_never_mix(api, org, member):
    Organization.objects.create(name="Other", slug="other")

    response = api.get(f"/api/admin/organizations/other/users/{member.id}")

    assert response.status_code == 404
    assert response.json()["message"] == "User not found"


def test_routes_under_an_application_accept_its_slug_too(api):
    created = api.post("/api/admin/applications", {"name": "Shop", "slug": "shop"})
    assert created.status_code == 201, created.content

    by_id = api.get(f"/api/admin/applications/{created.json()['id']}/roles")
    by_slug = api.get("/api/admin/applications/shop/roles")

    assert by_slug.status_code == by_id.status_code == 200
    assert by_slug.json()["pagination"] == by_id.json()["pagination"]


def test_a_uuid_that_names_nothing_is_not_taken_for_a_slug(api):
    response = api.get(f"/api/admin/organizations/{uuid.uuid4()}/users")

    assert response.status_code == 404


def test_a_slug_that_spells_a_uuid_still_finds_its_organization(api):
    hexadecimal = Organization.objects.create(name="Hex", slug="c0ffee00c0ffee00c0ffee00c0ffee00")
    User.objects.create(organization=hexadecimal, email="hex@hex.example")

    response = api.get("/api/admin/organizations/c0ffee00c0ffee00c0ffee00c0ffee00/users")

    assert response.status_code == 200, response.content
    assert [row["email"] for row in response.json()["data"]] == ["hex@hex.example"]
