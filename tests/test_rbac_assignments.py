"""Which users hold which roles: assignment through the API, the resolved permissions (and their
cache), the no-self-escalation guard on admin roles, and the last super-admin."""

from __future__ import annotations

import pytest
from django.test import Client

from applications.models import Application
from audit.models import AuditEntry
from organizations.models import Organization, User
from rbac.admin_roles import ADMIN_APP_SLUG
from rbac.models import Permission, Role, RolePermission, UserRole
from tests.conftest import ApiClient, issue_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(initialized) -> Application:
    return Application.objects.create(name="Shop", slug="shop")


@pytest.fixture
def viewer(app) -> Role:
    role = Role.objects.create(application=app, name="Viewer", slug="viewer")
    permission = Permission.objects.create(application=app, name="Read", slug="shop:orders:read")
    RolePermission.objects.create(role=role, permission=permission)
    return role


def user_roles_url(user: User, suffix: str = "") -> str:
    return f"/api/admin/organizations/{user.organization_id}/users/{user.id}/roles{suffix}"


def admin_role(slug: str) -> Role:
    return Role.objects.get(application__slug=ADMIN_APP_SLUG, slug=slug)


def resolved(api, user: User, app: Application) -> list[str]:
    response = api.get(user_roles_url(user, "/permissions"), {"applicationId": str(app.id)})
    assert response.status_code == 200, response.content
    return response.json()["permissions"]


# -- assigning and removing --------------------------------------------------------------------


def test_assigning_a_role_to_a_tenant_user_answers_204_and_lists_it(api, tenant_user, viewer):
    response = api.put(user_roles_url(tenant_user), {"roleIds": [str(viewer.id)]})

    assert response.status_code == 204
    listed = api.get(user_roles_url(tenant_user)).json()["data"]
    assert [r["slug"] for r in listed] == ["viewer"]


def test_a_role_of_any_application_can_go_to_a_user_of_any_organization(api, tenant_user, viewer):
    assert tenant_user.organization_id != viewer.application_id  # unrelated, per upstream
    api.put(user_roles_url(tenant_user), {"roleIds": [str(viewer.id)]})

    assert UserRole.objects.filter(user=tenant_user, role=viewer).exists()


def test_assigning_a_role_is_audited_against_the_user_and_organization(api, tenant_user, viewer):
    api.put(user_roles_url(tenant_user), {"roleIds": [str(viewer.id)]})

    entry = AuditEntry.objects.get(event_type="user.role.assigned", target_id=tenant_user.id)
    assert entry.organization_id == tenant_user.organization_id
    assert entry.metadata["roleSlug"] == "viewer"


def test_assigning_a_held_role_again_changes_nothing(api, tenant_user, viewer):
    api.put(user_roles_url(tenant_user), {"roleIds": [str(viewer.id)]})
    api.put(user_roles_url(tenant_user), {"roleIds": [str(viewer.id)]})

    assert UserRole.objects.filter(user=tenant_user).count() == 1
    assert AuditEntry.objects.filter(event_type="user.role.assigned", target_id=tenant_user.id).count() == 1


def test_an_unknown_role_id_is_a_400_and_assigns_nothing(api, tenant_user, viewer):
    body = {"roleIds": [str(viewer.id), "00000000-0000-7000-8000-000000000000"]}

    response = api.put(user_roles_url(tenant_user), body)

    assert response.status_code == 400
    assert "roleIds" in response.json()["details"]
    assert not UserRole.objects.filter(user=tenant_user).exists()


@pytest.mark.parametrize("body", [{}, {"roleIds": []}, {"roleIds": [1]}, {"roleIds": None}, {"roles": []}])
def test_a_malformed_role_id_list_is_a_400(api, tenant_user, body):
    assert api.put(user_roles_url(tenant_user), body).status_code == 400


def test_removing_a_role_answers_204_and_is_audited(api, tenant_user, viewer):
    UserRole.objects.create(user=tenant_user, role=viewer)

    response = api.delete(user_roles_url(tenant_user), {"roleIds": [str(viewer.id)]})

    assert response.status_code == 204
    assert not UserRole.objects.filter(user=tenant_user).exists()
    assert AuditEntry.objects.filter(event_type="user.role.removed", target_id=tenant_user.id).exists()


def test_the_user_must_belong_to_the_organization_in_the_path(api, tenant_user, super_admin_org, viewer):
    url = f"/api/admin/organizations/{super_admin_org.id}/users/{tenant_user.id}/roles"

    assert api.put(url, {"roleIds": [str(viewer.id)]}).status_code == 404
    assert not UserRole.objects.filter(user=tenant_user).exists()


def test_roles_can_be_listed_for_one_application(api, tenant_user, viewer):
    other = Role.objects.create(
        application=Application.objects.create(name="O", slug="other"), slug="x", name="X"
    )
    UserRole.objects.create(user=tenant_user, role=viewer)
    UserRole.objects.create(user=tenant_user, role=other)

    listed = api.get(user_roles_url(tenant_user), {"applicationId": str(viewer.application_id)}).json()[
        "data"
    ]

    assert [r["slug"] for r in listed] == ["viewer"]


# -- resolution --------------------------------------------------------------------------------


def test_resolved_permissions_name_the_roles_and_permission_slugs(api, tenant_user, viewer, app):
    UserRole.objects.create(user=tenant_user, role=viewer)

    body = api.get(user_roles_url(tenant_user, "/permissions"), {"applicationId": str(app.id)}).json()

    assert body == {
        "userId": str(tenant_user.id),
        "applicationId": str(app.id),
        "roles": ["viewer"],
        "permissions": ["shop:orders:read"],
    }


def test_resolved_permissions_without_an_application_span_all_of_them(api, tenant_user, viewer):
    UserRole.objects.create(user=tenant_user, role=viewer)

    body = api.get(user_roles_url(tenant_user, "/permissions")).json()

    assert (body["applicationId"], body["permissions"]) == (None, ["shop:orders:read"])


def test_resolved_permissions_change_at_once_after_an_assignment(api, tenant_user, viewer, app):
    assert resolved(api, tenant_user, app) == []  # now cached

    api.put(user_roles_url(tenant_user), {"roleIds": [str(viewer.id)]})

    assert resolved(api, tenant_user, app) == ["shop:orders:read"]


def test_resolved_permissions_change_at_once_after_a_removal(api, tenant_user, viewer, app):
    UserRole.objects.create(user=tenant_user, role=viewer)
    assert resolved(api, tenant_user, app) == ["shop:orders:read"]

    api.delete(user_roles_url(tenant_user), {"roleIds": [str(viewer.id)]})

    assert resolved(api, tenant_user, app) == []


def test_resolved_permissions_change_at_once_when_the_role_gains_a_permission(api, tenant_user, viewer, app):
    UserRole.objects.create(user=tenant_user, role=viewer)
    assert resolved(api, tenant_user, app) == ["shop:orders:read"]
    write = Permission.objects.create(application=app, name="Write", slug="shop:orders:write")

    api.put(
        f"/api/admin/applications/{app.id}/roles/{viewer.id}/permissions", {"permissionIds": [str(write.id)]}
    )

    assert resolved(api, tenant_user, app) == ["shop:orders:read", "shop:orders:write"]


def test_resolved_permissions_change_at_once_when_a_role_is_force_deleted(api, tenant_user, viewer, app):
    UserRole.objects.create(user=tenant_user, role=viewer)
    assert resolved(api, tenant_user, app) == ["shop:orders:read"]

    api.delete(f"/api/admin/applications/{app.id}/roles/{viewer.id}?force=true")

    assert resolved(api, tenant_user, app) == []


def test_a_malformed_application_filter_is_a_400(api, tenant_user):
    assert api.get(user_roles_url(tenant_user, "/permissions"), {"applicationId": "x"}).status_code == 400


# -- admin roles: the same endpoints, no self-escalation -----------------------------------------


def test_admin_roles_are_managed_through_the_same_endpoints(api, make_admin):
    newcomer = make_admin()

    response = api.put(user_roles_url(newcomer), {"roleIds": [str(admin_role("porta-auditor").id)]})

    assert response.status_code == 204
    assert UserRole.objects.filter(user=newcomer, role__slug="porta-auditor").exists()


def test_an_admin_cannot_grant_an_admin_role_carrying_permissions_they_lack(api_as, make_admin):
    user_admin = api_as("porta-user-admin")  # holds admin:role:assign, not admin:app:*
    target = make_admin()

    response = user_admin.put(user_roles_url(target), {"roleIds": [str(admin_role("porta-app-admin").id)]})

    assert response.status_code == 403
    assert "admin:app:create" in response.json()["details"]["missingPermissions"]
    assert not UserRole.objects.filter(user=target).exists()


def test_an_admin_cannot_grant_a_super_admin_role_without_being_one(api_as, make_admin):
    user_admin = api_as("porta-user-admin")
    target = make_admin()

    response = user_admin.put(user_roles_url(target), {"roleIds": [str(admin_role("porta-super-admin").id)]})

    assert response.status_code == 403
    assert not UserRole.objects.filter(user=target).exists()


def test_an_admin_can_grant_an_admin_role_within_their_own_permissions(api_as, make_admin):
    caller = api_as("porta-user-admin", "porta-org-admin")
    target = make_admin()

    response = caller.put(user_roles_url(target), {"roleIds": [str(admin_role("porta-org-admin").id)]})

    assert response.status_code == 204


def test_an_admin_cannot_add_a_permission_they_lack_to_an_admin_role(api_as, initialized):
    app_admin = api_as("porta-app-admin")  # holds admin:role:update, not admin:org:*
    role = admin_role("porta-app-admin")
    org_create = Permission.objects.get(application=role.application, slug="admin:org:create")

    response = app_admin.put(
        f"/api/admin/applications/{role.application_id}/roles/{role.id}/permissions",
        {"permissionIds": [str(org_create.id)]},
    )

    assert response.status_code == 403
    assert not RolePermission.objects.filter(role=role, permission=org_create).exists()


def test_an_admin_cannot_take_an_admin_role_they_could_not_grant(api_as, make_admin):
    user_admin = api_as("porta-user-admin")
    target = make_admin("porta-app-admin")

    response = user_admin.delete(user_roles_url(target), {"roleIds": [str(admin_role("porta-app-admin").id)]})

    assert response.status_code == 403
    assert UserRole.objects.filter(user=target, role__slug="porta-app-admin").exists()


def test_the_last_super_admin_cannot_lose_that_role(api, super_admin):
    response = api.delete(user_roles_url(super_admin), {"roleIds": [str(admin_role("porta-super-admin").id)]})

    assert response.status_code == 409
    assert UserRole.objects.filter(user=super_admin, role__slug="porta-super-admin").exists()


def test_a_super_admin_can_lose_the_role_while_another_active_one_remains(api, super_admin, make_admin):
    make_admin("porta-super-admin")

    response = api.delete(user_roles_url(super_admin), {"roleIds": [str(admin_role("porta-super-admin").id)]})

    assert response.status_code == 204


def test_a_suspended_super_admin_does_not_count_as_the_one_that_remains(api, super_admin, make_admin):
    other = make_admin("porta-super-admin")
    User.objects.filter(pk=other.pk).update(status="suspended")

    response = api.delete(user_roles_url(super_admin), {"roleIds": [str(admin_role("porta-super-admin").id)]})

    assert response.status_code == 409


def test_a_tenant_user_holding_porta_super_admin_does_not_count_as_the_one_that_remains(api, super_admin):
    """A tenant's administrator acts only on their own organization (tests/test_tenant_administrators.py)."""
    tenant = Organization.objects.create(name="Acme", slug="acme")
    tenant_admin = User.objects.create(organization=tenant, email="admin@acme.example")
    UserRole.objects.create(user=tenant_admin, role=admin_role("porta-super-admin"))

    response = api.delete(user_roles_url(super_admin), {"roleIds": [str(admin_role("porta-super-admin").id)]})

    assert response.status_code == 409


def test_a_removed_admin_role_takes_effect_on_the_next_request(api, make_admin):
    auditor = make_admin("porta-auditor")
    client = ApiClient(Client())
    client.token = issue_token(client.client, auditor.email, "admin-password-1")["access_token"]
    assert client.get("/api/admin/audit").status_code == 200

    api.delete(user_roles_url(auditor), {"roleIds": [str(admin_role("porta-auditor").id)]})

    assert client.get("/api/admin/audit").status_code == 403
