"""A reusable permission suite: one declarative list of endpoints per admin resource, and every
authentication and authorization rule of contract §2 checked for each of them.

For every ``Endpoint`` the suite generates these tests:

* anonymous caller → 401 with ``WWW-Authenticate: Bearer``;
* an admin holding *every* admin permission except the endpoint's → 403
  ``Insufficient permissions. Required: <permission>``;
* an admin holding *only* the endpoint's permission → neither 401 nor 403 (and exactly
  ``expect`` when the endpoint gives one);
* for each ``{placeholder}`` in the path: an unknown UUID → 404, and malformed ids → 404 (never 500);
* the endpoint's permission is in the admin catalogue (``rbac.admin_roles``) and is the one its
  view declares in ``permission_map``;

and, once per suite, that every action in the ``permission_map`` of each listed viewset is covered
by some endpoint (so a new action cannot ship without its permission tests).

Usage — a test module per resource::

    import pytest

    from tests.permission_suite import Endpoint, PermissionSuite
    from clients.api.views import ClientViewSet

    class TestClientPermissions(PermissionSuite):
        viewsets = (ClientViewSet,)
        endpoints = (
            Endpoint("GET", "/api/admin/clients", "admin:client:read", expect=200),
            Endpoint("POST", "/api/admin/clients", "admin:client:create",
                     body=lambda ids: {"applicationId": ids["appId"], ...}, expect=201),
            Endpoint("GET", "/api/admin/clients/{id}", "admin:client:read", expect=200),
            Endpoint("POST", "/api/admin/clients/{id}/activate", "admin:client:update", expect=200,
                     prepare=lambda ids: Client.objects.filter(pk=ids["id"]).update(status="inactive")),
        )

        @pytest.fixture
        def path_params(self, initialized) -> dict[str, str]:
            # A fresh target for every test; keys are the placeholders the paths use, plus
            # anything a ``body`` or ``prepare`` callable needs.
            client = make_client()
            return {"id": str(client.id), "appId": str(client.application_id)}

``body`` is a dict or a callable ``(path_params) -> dict``; write methods without one send ``{}``.
``prepare(path_params)`` runs just before the request of the "only the required permission" test
(e.g. suspend the target before ``/activate``). Placeholders named in ``not_found_exempt`` (a
per-endpoint tuple) are skipped by the 404 tests — for ids that only appear in the body, say.
Paths may carry a query string (``/organizations/validate-slug?slug=x``).

``admin_client_with_permissions(perms)`` is usable on its own too: an ``ApiClient`` for a fresh
admin whose single ``porta-*`` role grants exactly ``perms``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from django.test import Client
from django.urls import resolve

from applications.models import Application
from organizations.models import Organization, User
from rbac.admin_roles import ADMIN_APP_SLUG, ALL_ADMIN_PERMISSIONS
from rbac.models import Permission, Role, RolePermission, UserRole
from tests.conftest import ApiClient, issue_token

PLACEHOLDER = re.compile(r"\{(\w+)\}")
#: Path segments that name nothing: none may reach the database as a 500. (A NUL byte is refused
#: for the whole request with a 400 by porta.api.middleware, so it is not an id case.)
MALFORMED_IDS = (
    "not-a-uuid",
    "12345",
    "0190f0a8-0000-7000-8000-00000000000",  # one hex digit short
    "0190f0a8-0000-7000-8000-0000000000000",  # one hex digit long
    "%20",  # a blank
    "..",
    "x" * 300,
)
_PASSWORD = "permission-suite-password"
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True, eq=False)
class Endpoint:
    method: str
    path: str
    permission: str
    body: dict[str, Any] | Callable[[dict[str, str]], dict[str, Any]] | None = None
    expect: int | None = None
    prepare: Callable[[dict[str, str]], Any] | None = None
    not_found_exempt: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.method} {self.path.removeprefix('/api/admin')}"

    @property
    def placeholders(self) -> list[str]:
        return [name for name in PLACEHOLDER.findall(self.path) if name not in self.not_found_exempt]

    def url(self, params: dict[str, str]) -> str:
        return PLACEHOLDER.sub(lambda m: params[m.group(1)], self.path)

    def payload(self, params: dict[str, str]) -> dict[str, Any] | None:
        body = self.body(params) if callable(self.body) else self.body
        if body is None and self.method in _WRITE_METHODS:
            return {}
        return body

    def send(self, api: ApiClient, params: dict[str, str], *, url: str | None = None):
        url = url or self.url(params)
        method = self.method.lower()
        if self.method in _WRITE_METHODS or self.body is not None:  # a DELETE may carry a body
            return getattr(api, method)(url, self.payload(params))
        return getattr(api, method)(url)


def admin_client_with_permissions(permissions: Sequence[str] | frozenset[str]) -> ApiClient:
    """A client authenticated (through the real token endpoint) as a new admin of the super-admin
    organization whose only admin role grants exactly ``permissions``."""
    application = Application.objects.get(slug=ADMIN_APP_SLUG)
    role = Role.objects.create(
        application=application, slug=f"porta-suite-{uuid.uuid4().hex[:12]}", name="Permission suite role"
    )
    granted = Permission.objects.filter(application=application, slug__in=permissions)
    RolePermission.objects.bulk_create([RolePermission(role=role, permission=p) for p in granted])
    assert role.permissions.count() == len(set(permissions)), "every permission must be seeded"
    user = User(
        organization=Organization.objects.get(is_super_admin=True),
        email=f"suite-{uuid.uuid4().hex[:12]}@example.com",
    )
    user.set_password(_PASSWORD)
    user.save()
    UserRole.objects.create(user=user, role=role)
    client = Client()
    return ApiClient(client, issue_token(client, user.email, _PASSWORD)["access_token"])


def _resolved_action(endpoint: Endpoint) -> tuple[type, str]:
    """The viewset class and action a path and method route to."""
    path = PLACEHOLDER.sub(lambda _: str(uuid.uuid4()), endpoint.path).split("?", 1)[0]
    match = resolve(path)
    cls = getattr(match.func, "cls", None)
    actions = getattr(match.func, "actions", None) or {}
    assert cls is not None, f"{endpoint.id} is not served by a viewset"
    assert endpoint.method.lower() in actions, f"{endpoint.id}: the route has no {endpoint.method} action"
    return cls, actions[endpoint.method.lower()]


def _cases(endpoints: Sequence[Endpoint]) -> Iterator[tuple[Endpoint, str]]:
    for endpoint in endpoints:
        for name in endpoint.placeholders:
            yield endpoint, name


class PermissionSuite:
    """Subclass as ``Test<Resource>Permissions`` with ``endpoints`` (and ``viewsets``) set."""

    endpoints: ClassVar[Sequence[Endpoint]] = ()
    viewsets: ClassVar[Sequence[type]] = ()

    def pytest_generate_tests(self, metafunc) -> None:
        if "placeholder" in metafunc.fixturenames:
            cases = list(_cases(self.endpoints))
            metafunc.parametrize(
                ("endpoint", "placeholder"), cases, ids=[f"{e.id} [{name}]" for e, name in cases]
            )
        elif "endpoint" in metafunc.fixturenames:
            metafunc.parametrize("endpoint", list(self.endpoints), ids=[e.id for e in self.endpoints])

    @pytest.fixture
    def path_params(self, initialized) -> dict[str, str]:
        """What the path placeholders name. Override to create the target of each test."""
        return {}

    # -- per endpoint ------------------------------------------------------------------------------

    def test_the_required_permission_is_in_the_admin_catalogue(self, endpoint: Endpoint):
        assert endpoint.permission in ALL_ADMIN_PERMISSIONS

    def test_the_view_declares_the_required_permission(self, endpoint: Endpoint):
        cls, action = _resolved_action(endpoint)
        declared = cls.permission_map.get(action)
        assert declared == endpoint.permission, f"{cls.__name__}.{action} requires {declared}"

    def test_anonymous_callers_get_401(self, endpoint: Endpoint, path_params, anonymous):
        response = endpoint.send(anonymous, path_params)
        assert response.status_code == 401, response.content
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert response.json()["error"] == "Unauthorized"

    def test_an_admin_lacking_only_the_required_permission_gets_403_naming_it(
        self, endpoint: Endpoint, path_params
    ):
        api = admin_client_with_permissions(ALL_ADMIN_PERMISSIONS - {endpoint.permission})
        response = endpoint.send(api, path_params)
        assert response.status_code == 403, response.content
        body = response.json()
        assert body["error"] == "Forbidden"
        assert body["message"] == f"Insufficient permissions. Required: {endpoint.permission}"

    def test_an_admin_holding_only_the_required_permission_is_let_through(
        self, endpoint: Endpoint, path_params
    ):
        api = admin_client_with_permissions([endpoint.permission])
        if endpoint.prepare is not None:
            endpoint.prepare(path_params)
        response = endpoint.send(api, path_params)
        assert response.status_code not in (401, 403), response.content
        if endpoint.expect is not None:
            assert response.status_code == endpoint.expect, response.content

    # -- per path placeholder ----------------------------------------------------------------------

    def test_an_unknown_id_gets_404(self, endpoint: Endpoint, placeholder: str, path_params, api):
        url = endpoint.url({**path_params, placeholder: str(uuid.uuid4())})
        response = endpoint.send(api, path_params, url=url)
        assert response.status_code == 404, response.content
        assert response.json()["error"] == "NotFound"

    def test_a_malformed_id_gets_404(self, endpoint: Endpoint, placeholder: str, path_params, api):
        for malformed in MALFORMED_IDS:
            url = endpoint.url({**path_params, placeholder: malformed})
            response = endpoint.send(api, path_params, url=url)
            assert response.status_code == 404, (malformed, response.content)
            assert response.json()["error"] == "NotFound", malformed

    # -- per suite ---------------------------------------------------------------------------------

    def test_every_action_of_the_viewsets_is_covered(self):
        covered = {_resolved_action(endpoint) for endpoint in self.endpoints}
        missing = [
            f"{cls.__name__}.{action}"
            for cls in self.viewsets
            for action in cls.permission_map
            if (cls, action) not in covered
        ]
        assert not missing, f"actions without permission tests: {missing}"
