"""The application permissions API: slugs, duplicates, immutable slugs, forced deletion."""

from __future__ import annotations

import pytest

from applications.models import Application
from audit.models import AuditEntry
from rbac.models import Permission, Role, RolePermission

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(initialized) -> Application:
    return Application.objects.create(name="Shop", slug="shop")


def _url(app: Application, suffix: str = "") -> str:
    return f"/api/admin/applications/{app.id}/permissions{suffix}"


def test_creating_a_permission_answers_201_with_its_location(api, app):
    response = api.post(_url(app), {"name": "Read orders", "slug": "shop:orders:read"})

    assert response.status_code == 201, response.content
    assert response["Location"] == _url(app, f"/{response.json()['id']}")


def test_creating_a_permission_is_audited(api, app):
    permission_id = api.post(_url(app), {"name": "Read orders", "slug": "shop:orders:read"}).json()["id"]

    assert AuditEntry.objects.filter(event_type="permission.created", target_id=permission_id).exists()


def test_a_permission_slug_with_fewer_than_three_segments_is_a_400(api, app):
    response = api.post(_url(app), {"name": "Read orders", "slug": "orders:read"})

    assert response.status_code == 400
    assert "slug" in response.json()["details"]


def test_a_duplicate_permission_slug_in_the_application_is_a_409(api, app):
    api.post(_url(app), {"name": "Read orders", "slug": "shop:orders:read"})

    response = api.post(_url(app), {"name": "Again", "slug": "shop:orders:read"})

    assert response.status_code == 409


def test_the_same_permission_slug_in_another_application_is_allowed(api, app):
    other = Application.objects.create(name="Other", slug="other")
    api.post(_url(app), {"name": "Read orders", "slug": "shop:orders:read"})

    response = api.post(_url(other), {"name": "Read orders", "slug": "shop:orders:read"})

    assert response.status_code == 201


def test_the_slug_of_a_permission_cannot_be_changed(api, app):
    permission = Permission.objects.create(application=app, name="Read", slug="shop:orders:read")

    response = api.put(_url(app, f"/{permission.id}"), {"slug": "shop:orders:list"})

    assert response.status_code == 400


def test_permissions_of_an_unknown_application_are_a_404(api, initialized):
    response = api.get("/api/admin/applications/00000000-0000-0000-0000-000000000000/permissions")

    assert response.status_code == 404


def _assigned_permission(app: Application) -> Permission:
    permission = Permission.objects.create(application=app, name="Read", slug="shop:orders:read")
    role = Role.objects.create(application=app, name="Viewer", slug="viewer")
    RolePermission.objects.create(role=role, permission=permission)
    return permission


def test_deleting_an_assigned_permission_without_force_is_a_409(api, app):
    permission = _assigned_permission(app)

    response = api.delete(_url(app, f"/{permission.id}"))

    assert response.status_code == 409
    assert Permission.objects.filter(pk=permission.pk).exists()


def test_deleting_an_assigned_permission_with_force_removes_it_and_its_assignments(api, app):
    permission = _assigned_permission(app)

    response = api.delete(_url(app, f"/{permission.id}?force=true"))

    assert response.status_code == 204
    assert not RolePermission.objects.filter(permission_id=permission.pk).exists()
