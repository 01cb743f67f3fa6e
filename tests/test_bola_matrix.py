"""The BOLA matrix: a real ``porta_pat_`` key of organization A against every route of the admin
API, with nothing but the key's organization standing between it and organization B.

The routes come from the admin URL router itself, so an endpoint added later is in the matrix the
day it is registered:

* every route of a viewset whose ``organization_field`` is set (organization-scoped), each HTTP
  method it serves, with every path id naming a row of organization B (and, for nested routes,
  A's own organization in the path with B's row under it) → 404, and the database unchanged;
* collection routes of those viewsets: a list never shows a row of B; a POST naming B in its
  body → 404 (such bodies are declared in ``FOREIGN_BODIES``; a new one without an entry fails);
* every route of a global viewset (``organization_field = None``) and every global action of an
  organization-scoped one (``global_actions``) → 403, and the database unchanged.

"Unchanged" compares a digest of every row of every Porta table before and after the request.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.apps import apps
from django.test import Client

from applications.models import Application, ClientSecret
from applications.models import Client as OAuthClient
from audit.models import AuditEntry
from courier.models import Message
from organizations.models import Organization, User
from porta.api_urls import router
from porta.core.tokens import keyed_hash
from tests.conftest import ApiClient, post_form
from tests.factories import JobFactory, OrganizationFactory

REPO = Path(__file__).resolve().parent.parent
PREFIX = "/api/admin/"
_KWARG = re.compile(r"\(\?P<(\w+)>[^)]*\)")
_PASSWORD = "bola-password-1"
_WRITE_METHODS = frozenset({"post", "put", "patch"})


@dataclass(frozen=True)
class Route:
    regex: str
    viewset: type
    method: str
    action: str

    @property
    def kwargs(self) -> list[str]:
        return _KWARG.findall(self.regex)

    @property
    def is_global(self) -> bool:
        return self.viewset.organization_field is None or self.action in self.viewset.global_actions

    def path(self, values: dict[str, str]) -> str:
        body = self.regex.removeprefix("^").removesuffix("$").removesuffix("/?")
        return PREFIX + _KWARG.sub(lambda m: values[m.group(1)], body)

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.path({k: '{' + k + '}' for k in self.kwargs})} ({self.action})"


def admin_routes() -> list[Route]:
    routes = []
    for pattern in router.urls:
        viewset = getattr(pattern.callback, "cls", None)
        actions = getattr(pattern.callback, "actions", None) or {}
        if viewset is None:
            continue
        for method, action in sorted(actions.items()):
            routes.append(Route(str(pattern.pattern), viewset, method, action))
    return routes


ROUTES = admin_routes()
SCOPED = [r for r in ROUTES if not r.is_global and r.kwargs]
COLLECTION_READS = [r for r in ROUTES if not r.is_global and not r.kwargs and r.method == "get"]
COLLECTION_WRITES = [r for r in ROUTES if not r.is_global and not r.kwargs and r.method != "get"]
GLOBAL = [r for r in ROUTES if r.is_global]
NESTED = [r for r in SCOPED if "organization_id" in r.kwargs and len(r.kwargs) > 1]


# -- the world: organizations A and B, each with a user, clients, a session, mail and audit --------


@dataclass
class World:
    home: Organization
    foreign: Organization
    key: ApiClient
    foreign_user: User
    foreign_client: OAuthClient
    foreign_secret: ClientSecret

    def foreign_ids(self) -> set[str]:
        """Every id of organization B's rows: none may show up in A's responses."""
        ids = {str(self.foreign.id)}
        for model, field in _scoped_models():
            ids |= {
                str(pk)
                for pk in model.objects.filter(**{field: self.foreign.id}).values_list("pk", flat=True)
            }
        return ids


def _scoped_models() -> list[tuple[type, str]]:
    seen: dict[type, str] = {}
    for route in ROUTES:
        model = getattr(getattr(route.viewset, "queryset", None), "model", None)
        if model is not None and route.viewset.organization_field is not None:
            seen[model] = route.viewset.organization_field
    return list(seen.items())


def _populate(organization: Organization, application: Application, super_api: ApiClient) -> dict[str, Any]:
    """A user (through the API, so B has audit entries), a public client allowed the password
    grant, a confidential client with a secret, a login session, and an e-mail message."""
    email = f"member@{organization.slug}.example"
    response = super_api.post(
        f"{PREFIX}organizations/{organization.id}/users", {"email": email, "password": _PASSWORD}
    )
    assert response.status_code == 201, response.content
    user = User.objects.get(pk=response.json()["id"])
    cli = OAuthClient.objects.create(
        organization=organization, application=application, client_id=f"cli-{organization.slug}",
        client_name="CLI", client_type="public", application_type="native",
        grant_types=["password", "refresh_token"], token_endpoint_auth_method="none",
    )  # fmt: skip
    confidential = OAuthClient.objects.create(
        organization=organization, application=application, client_id=f"web-{organization.slug}",
        client_name="Web", client_type="confidential", application_type="web",
        redirect_uris=["https://app.example/callback"], token_endpoint_auth_method="client_secret_basic",
    )  # fmt: skip
    secret = ClientSecret.objects.create(
        client=confidential, label="initial", secret_hash=keyed_hash(uuid.uuid4().hex)
    )
    client = Client()
    issue_token_for(client, organization.slug, cli.client_id, email)  # a login → a session
    Message.objects.create(
        organization_id=organization.id, recipient=email, template="invitation", subject="Hi", body_text="Hi"
    )
    JobFactory(organization_id=organization.id)
    assert (
        super_api.put(
            f"{PREFIX}organizations/{organization.id}", {"name": f"{organization.name}!"}
        ).status_code
        == 200
    )
    logo = {"data": base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(24)).decode()}
    assert super_api.put(f"{PREFIX}organizations/{organization.id}/branding/logo", logo).status_code == 201
    issued = super_api.post(f"{PREFIX}organizations/{organization.id}/api-keys", {"name": "Issued key"})
    assert issued.status_code == 201, issued.content
    return {"user": user, "client": confidential, "secret": secret}


def issue_token_for(client: Client, org_slug: str, client_id: str, email: str) -> None:
    response = post_form(
        client,
        f"/{org_slug}/auth/token",
        {"grant_type": "password", "client_id": client_id, "username": email, "password": _PASSWORD},
    )
    assert response.status_code == 200, response.content


@pytest.fixture
def world(api) -> World:
    home, foreign = OrganizationFactory(slug="org-home"), OrganizationFactory(slug="org-foreign")
    application = Application.objects.create(name="Shop", slug="shop")
    _populate(home, application, api)
    b = _populate(foreign, application, api)
    response = api.post(
        f"{PREFIX}api-keys",
        {"name": "Home key", "organizationId": str(home.id), "roles": ["porta-super-admin"]},
    )
    assert response.status_code == 201, response.content
    secret = response.json()["secret"]
    assert secret.startswith("porta_pat_")
    return World(home, foreign, ApiClient(Client(), secret), b["user"], b["client"], b["secret"])


def _foreign_row(viewset: type, world: World) -> str:
    model = viewset.queryset.model
    row = (
        model.objects.filter(**{viewset.organization_field: world.foreign.id})
        .values_list("pk", flat=True)
        .first()
    )
    assert row is not None, f"seed a {model.__name__} of the foreign organization for {viewset.__name__}"
    return str(row)


def foreign_values(route: Route, world: World, *, own_parent: bool = False) -> dict[str, str]:
    known: dict[str, Callable[[], str]] = {
        "organization_id": lambda: str(world.home.id if own_parent else world.foreign.id),
        "pk": lambda: _foreign_row(route.viewset, world),
        "user_id": lambda: str(world.foreign_user.id),
        "secret_id": lambda: str(world.foreign_secret.id),
        "asset_type": lambda: "logo",
    }
    return {name: known.get(name, lambda: str(uuid.uuid4()))() for name in route.kwargs}


#: Bodies for collection writes that name the foreign organization's rows in the body.
FOREIGN_BODIES: dict[tuple[str, str], Callable[[World], dict[str, Any]]] = {
    ("ClientViewSet", "create"): lambda w: {
        "organizationId": str(w.foreign.id),
        "applicationId": str(w.foreign_client.application_id),
        "clientName": "Planted",
        "clientType": "confidential",
        "applicationType": "web",
        "redirectUris": ["https://planted.example/cb"],
    },
    ("UserExportViewSet", "create"): lambda w: {"organizationId": str(w.foreign.id)},
    ("ClientExportViewSet", "create"): lambda w: {"organizationId": str(w.foreign.id)},
    ("AuditExportViewSet", "create"): lambda w: {"organizationId": str(w.foreign.id)},
    ("RecoveryViewSet", "link"): lambda w: {"userId": str(w.foreign_user.id)},
    ("RecoveryViewSet", "code"): lambda w: {"userId": str(w.foreign_user.id)},
    ("BulkUserViewSet", "change_status"): lambda w: {
        "organizationId": str(w.foreign.id),
        "ids": [str(w.foreign_user.id)],
        "action": "suspend",
    },
    ("ImportViewSet", "create"): lambda w: {
        "mode": "overwrite",
        "manifest": {"version": "1.0", "organizations": [{"slug": w.foreign.slug, "name": "Planted"}]},
    },
}


# -- the database, before and after -----------------------------------------------------------------


def database_digest() -> dict[str, str]:
    """Per Porta table: a digest of every row (so counts, updated_at and every value count)."""
    digests = {}
    for model in apps.get_models():
        if not Path(apps.get_app_config(model._meta.app_label).path).is_relative_to(REPO):
            continue
        rows = list(model.objects.order_by("pk").values_list())
        digests[model._meta.db_table] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


def send(api: ApiClient, method: str, path: str, body: dict[str, Any] | None = None):
    if method in _WRITE_METHODS:
        return getattr(api, method)(path, body or {})
    return getattr(api, method)(path)


def assert_unchanged(before: dict[str, str]) -> None:
    after = database_digest()
    changed = sorted(table for table in before if before[table] != after.get(table))
    assert not changed, f"tables changed: {changed}"


# -- the matrix ----------------------------------------------------------------------------------


def test_the_matrix_covers_every_organization_scoped_viewset():
    assert SCOPED
    assert GLOBAL
    assert NESTED
    registered = {viewset for _, viewset, _ in router.registry if viewset.organization_field is not None}
    covered = {r.viewset for r in SCOPED + COLLECTION_READS + COLLECTION_WRITES}
    assert registered
    assert registered <= covered
    from audit.api.views import AuditViewSet
    from organizations.api.user_views import OrganizationUserViewSet, UserViewSet
    from organizations.api.views import OrganizationViewSet

    assert {OrganizationViewSet, OrganizationUserViewSet, UserViewSet, AuditViewSet} <= covered


def test_every_organization_scoped_collection_write_has_a_foreign_body():
    missing = [r.id for r in COLLECTION_WRITES if (r.viewset.__name__, r.action) not in FOREIGN_BODIES]
    assert not missing, f"declare a body naming organization B in FOREIGN_BODIES for: {missing}"


@pytest.mark.parametrize("route", SCOPED, ids=lambda r: r.id)
def test_a_foreign_id_is_404_and_changes_nothing(route: Route, world: World):
    path = route.path(foreign_values(route, world))
    before = database_digest()
    response = send(world.key, route.method, path)
    assert response.status_code == 404, (path, response.content)
    assert response.json()["error"] == "NotFound"
    assert_unchanged(before)


@pytest.mark.parametrize("route", NESTED, ids=lambda r: r.id)
def test_a_foreign_row_under_the_own_organization_is_404_and_changes_nothing(route: Route, world: World):
    path = route.path(foreign_values(route, world, own_parent=True))
    before = database_digest()
    response = send(world.key, route.method, path)
    assert response.status_code == 404, (path, response.content)
    assert_unchanged(before)


@pytest.mark.parametrize("route", COLLECTION_READS, ids=lambda r: r.id)
def test_a_list_shows_no_foreign_row(route: Route, world: World):
    response = world.key.get(route.path({}), {"pageSize": 100})
    content = b"".join(response.streaming_content) if response.streaming else response.content  # exports
    assert response.status_code == 200, content
    assert orjson.loads(content)["data"], "the organization's own rows are listed"
    text = content.decode()
    leaked = [pk for pk in world.foreign_ids() if pk in text]
    assert not leaked, f"{route.id} shows rows of another organization: {leaked}"


@pytest.mark.parametrize("route", COLLECTION_WRITES, ids=lambda r: r.id)
def test_a_write_naming_a_foreign_row_is_404_and_changes_nothing(route: Route, world: World):
    body = FOREIGN_BODIES[(route.viewset.__name__, route.action)](world)
    before = database_digest()
    response = send(world.key, route.method, route.path({}), body)
    assert response.status_code == 404, response.content
    assert_unchanged(before)


@pytest.mark.parametrize("route", GLOBAL, ids=lambda r: r.id)
def test_a_global_resource_is_403_and_changes_nothing(route: Route, world: World):
    values = {
        name: str(world.home.id) if name == "organization_id" else str(uuid.uuid4()) for name in route.kwargs
    }
    before = database_digest()
    response = send(world.key, route.method, route.path(values), {"name": "x", "slug": "planted"})
    assert response.status_code == 403, response.content
    assert response.json()["error"] == "Forbidden"
    assert_unchanged(before)


def test_the_key_reads_its_own_organization(world: World):
    assert world.key.get(f"{PREFIX}organizations/{world.home.id}").status_code == 200
    assert world.key.get(f"{PREFIX}organizations/{world.foreign.id}").status_code == 404
    assert AuditEntry.objects.filter(organization_id=world.foreign.id).exists()
