"""The roles API of an application: slugs, duplicates, built-in roles, forced deletion, and the
permissions a role grants."""

from __future__ import annotations

import pytest
from django.test import Client

from applications.models import Application
from audit.models import AuditEntry
from rbac.admin_roles import ADMIN_APP_SLUG
from rbac.models import Permission, Role, RolePermission, UserRole

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(initialized) -> Application:
    return Application.objects.create(name="Shop", slug="shop")


def roles_url(app: Application, suffix: str = "") -> str:
    return f"/api/admin/applications/{app.id}/roles{suffix}"


def make_role(app: Application, slug: str = "viewer") -> Role:
    return Role.objects.create(application=app, name=slug.title(), slug=slug)


def make_permission(app: Application, slug: str) -> Permission:
    return Permission.objects.create(application=app, name=slug, slug=slug)


# -- create ------------------------------------------------------------------------------------


def test_creating_a_role_answers_201_with_its_representation_and_location(api, app):
    response = api.post(
        roles_url(app), {"name": "Order viewer", "slug": "order-viewer", "description": "Reads"}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == roles_url(app, f"/{body['id']}")
    assert (body["applicationId"], body["name"], body["slug"], body["description"], body["isSystem"]) == (
        str(app.id),
        "Order viewer",
        "order-viewer",
        "Reads",
        False,
    )


def test_a_role_without_a_slug_gets_one_from_its_name(api, app):
    response = api.post(roles_url(app), {"name": "Order Viewer"})

    assert response.json()["slug"] == "order-viewer"


def test_a_generated_slug_that_is_taken_gets_a_suffix(api, app):
    make_role(app, "order-viewer")

    response = api.post(roles_url(app), {"name": "Order Viewer"})

    assert response.json()["slug"] == "order-viewer-2"


def test_a_duplicate_role_slug_in_the_application_is_a_409(api, app):
    make_role(app, "viewer")

    response = api.post(roles_url(app), {"name": "Viewer", "slug": "viewer"})

    assert response.status_code == 409
    assert response.json()["error"] == "Conflict"


def test_the_same_role_slug_in_another_application_is_allowed(api, app):
    make_role(app, "viewer")
    other = Application.objects.create(name="Other", slug="other")

    assert api.post(roles_url(other), {"name": "Viewer", "slug": "viewer"}).status_code == 201


@pytest.mark.parametrize("slug", ["Viewer", "-viewer", "viewer-", "view_er", "v" * 101, ""])
def test_a_malformed_role_slug_is_a_400_naming_the_slug(api, app, slug):
    response = api.post(roles_url(app), {"name": "Viewer", "slug": slug})

    assert response.status_code == 400
    assert "slug" in response.json()["details"]


def test_a_one_character_role_slug_is_allowed(api, app):
    assert api.post(roles_url(app), {"name": "A", "slug": "a"}).status_code == 201


def test_creating_a_role_is_audited_as_role_created(api, app):
    role_id = api.post(roles_url(app), {"name": "Viewer"}).json()["id"]

    entry = AuditEntry.objects.get(event_type="role.created", target_id=role_id)
    assert entry.metadata["applicationId"] == str(app.id)


def test_roles_of_an_unknown_application_are_a_404(api, initialized):
    response = api.get("/api/admin/applications/00000000-0000-7000-8000-000000000000/roles")

    assert response.status_code == 404


# -- read and list -----------------------------------------------------------------------------


def test_listing_roles_shows_only_the_applications_roles_in_the_envelope(api, app):
    make_role(app, "viewer")
    make_role(Application.objects.create(name="Other", slug="other"), "editor")

    body = api.get(roles_url(app)).json()

    assert [r["slug"] for r in body["data"]] == ["viewer"]
    assert body["pagination"]["total"] == 1


def test_listing_roles_can_search_by_name_or_slug(api, app):
    make_role(app, "viewer")
    make_role(app, "editor")

    body = api.get(roles_url(app), {"search": "edit"}).json()

    assert [r["slug"] for r in body["data"]] == ["editor"]


def test_a_role_of_another_application_is_a_404_through_this_one(api, app):
    foreign = make_role(Application.objects.create(name="Other", slug="other"), "editor")

    assert api.get(roles_url(app, f"/{foreign.id}")).status_code == 404


# -- update ------------------------------------------------------------------------------------


def test_updating_a_role_changes_name_slug_and_description_and_is_audited(api, app):
    role = make_role(app, "viewer")

    response = api.put(
        roles_url(app, f"/{role.id}"), {"name": "Reader", "slug": "reader", "description": "R"}
    )

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["slug"]) == ("Reader", "reader")
    entry = AuditEntry.objects.get(event_type="role.updated", target_id=role.id)
    assert entry.metadata["changes"]["slug"] == {"before": "viewer", "after": "reader"}


def test_renaming_a_role_to_a_taken_slug_is_a_409_and_changes_nothing(api, app):
    make_role(app, "editor")
    role = make_role(app, "viewer")

    response = api.put(roles_url(app, f"/{role.id}"), {"slug": "editor"})

    assert response.status_code == 409
    role.refresh_from_db()
    assert role.slug == "viewer"


def test_the_slug_of_a_built_in_admin_role_cannot_be_changed(api, initialized):
    role = Role.objects.get(application__slug=ADMIN_APP_SLUG, slug="porta-auditor")

    response = api.put(f"/api/admin/applications/{role.application_id}/roles/{role.id}", {"slug": "auditor"})

    assert response.status_code == 403
    role.refresh_from_db()
    assert role.slug == "porta-auditor"


# -- delete ------------------------------------------------------------------------------------


def test_deleting_an_unassigned_role_answers_204(api, app):
    role = make_role(app)

    assert api.delete(roles_url(app, f"/{role.id}")).status_code == 204
    assert not Role.objects.filter(pk=role.pk).exists()


def test_deleting_an_assigned_role_without_force_is_a_409_and_keeps_it(api, app, tenant_user):
    role = make_role(app)
    UserRole.objects.create(user=tenant_user, role=role)

    response = api.delete(roles_url(app, f"/{role.id}"))

    assert response.status_code == 409
    assert "force=true" in response.json()["message"]
    assert UserRole.objects.filter(role=role).exists()


def test_deleting_an_assigned_role_with_force_answers_204_and_removes_the_assignment(api, app, tenant_user):
    role = make_role(app)
    UserRole.objects.create(user=tenant_user, role=role)

    response = api.delete(roles_url(app, f"/{role.id}?force=true"))

    assert response.status_code == 204
    assert not UserRole.objects.filter(user=tenant_user).exists()
    entry = AuditEntry.objects.get(event_type="role.deleted", target_id=role.id)
    assert entry.metadata["removedFromUsers"] == 1


def test_a_malformed_force_value_is_a_400(api, app):
    role = make_role(app)

    assert api.delete(roles_url(app, f"/{role.id}?force=maybe")).status_code == 400


def test_a_built_in_admin_role_cannot_be_deleted_even_with_force(api, initialized):
    role = Role.objects.get(application__slug=ADMIN_APP_SLUG, slug="porta-super-admin")

    response = api.delete(f"/api/admin/applications/{role.application_id}/roles/{role.id}?force=true")

    assert response.status_code == 403
    assert Role.objects.filter(pk=role.pk).exists()


# -- role permissions --------------------------------------------------------------------------


def test_assigning_permissions_to_a_role_answers_204_and_lists_them(api, app):
    role = make_role(app)
    read, write = make_permission(app, "shop:orders:read"), make_permission(app, "shop:orders:write")

    response = api.put(
        roles_url(app, f"/{role.id}/permissions"), {"permissionIds": [str(read.id), str(write.id)]}
    )

    assert response.status_code == 204
    listed = api.get(roles_url(app, f"/{role.id}/permissions")).json()["data"]
    assert sorted(p["slug"] for p in listed) == ["shop:orders:read", "shop:orders:write"]


def test_assigning_permissions_twice_is_idempotent_and_audited_once(api, app):
    role = make_role(app)
    read = make_permission(app, "shop:orders:read")
    body = {"permissionIds": [str(read.id)]}

    api.put(roles_url(app, f"/{role.id}/permissions"), body)
    api.put(roles_url(app, f"/{role.id}/permissions"), body)

    assert RolePermission.objects.filter(role=role).count() == 1
    assert AuditEntry.objects.filter(event_type="role.permissions.assigned", target_id=role.id).count() == 1


def test_a_permission_of_another_application_cannot_be_assigned(api, app):
    role = make_role(app)
    foreign = make_permission(Application.objects.create(name="Other", slug="other"), "other:things:read")

    response = api.put(roles_url(app, f"/{role.id}/permissions"), {"permissionIds": [str(foreign.id)]})

    assert response.status_code == 400
    assert "permissionIds" in response.json()["details"]
    assert not RolePermission.objects.filter(role=role).exists()


@pytest.mark.parametrize(
    "body", [{}, {"permissionIds": []}, {"permissionIds": ["nope"]}, {"permissionIds": "x"}]
)
def test_a_malformed_permission_id_list_is_a_400(api, app, body):
    role = make_role(app)

    assert api.put(roles_url(app, f"/{role.id}/permissions"), body).status_code == 400


def test_removing_permissions_from_a_role_answers_204_and_is_audited(api, app):
    role = make_role(app)
    read = make_permission(app, "shop:orders:read")
    RolePermission.objects.create(role=role, permission=read)

    response = api.delete(roles_url(app, f"/{role.id}/permissions"), {"permissionIds": [str(read.id)]})

    assert response.status_code == 204
    assert not RolePermission.objects.filter(role=role).exists()
    assert AuditEntry.objects.filter(event_type="role.permissions.removed", target_id=role.id).exists()


def test_the_roles_granting_a_permission_are_listed(api, app):
    role = make_role(app)
    read = make_permission(app, "shop:orders:read")
    RolePermission.objects.create(role=role, permission=read)

    body = api.get(f"/api/admin/applications/{app.id}/permissions/{read.id}/roles").json()

    assert [r["slug"] for r in body["data"]] == ["viewer"]


def test_the_users_holding_a_role_are_listed_and_filterable_by_organization(
    api, app, tenant_user, super_admin
):
    role = make_role(app)
    UserRole.objects.create(user=tenant_user, role=role)
    UserRole.objects.create(user=super_admin, role=role)

    everyone = api.get(roles_url(app, f"/{role.id}/users")).json()["data"]
    tenants = api.get(
        roles_url(app, f"/{role.id}/users"), {"organizationId": str(tenant_user.organization_id)}
    )

    assert {u["id"] for u in everyone} == {str(tenant_user.id), str(super_admin.id)}
    assert [u["id"] for u in tenants.json()["data"]] == [str(tenant_user.id)]


def test_a_malformed_organization_filter_on_role_holders_is_a_400(api, app):
    role = make_role(app)

    assert api.get(roles_url(app, f"/{role.id}/users"), {"organizationId": "x"}).status_code == 400


# -- Django admin ------------------------------------------------------------------------------


def test_the_django_admin_shows_a_role_with_the_permissions_it_grants(app, super_admin):
    role = make_role(app)
    RolePermission.objects.create(role=role, permission=make_permission(app, "shop:orders:read"))
    client = Client()
    client.force_login(super_admin)

    response = client.get(f"/admin/rbac/role/{role.id}/change/")

    assert response.status_code == 200
    assert b"shop:orders:read" in response.content


def test_the_django_admin_lists_role_assignments_read_only(app, super_admin):
    client = Client()
    client.force_login(super_admin)

    listing = client.get("/admin/rbac/userrole/")

    assert listing.status_code == 200
    assert b"porta-super-admin" in listing.content
    assert client.get("/admin/rbac/userrole/add/").status_code == 403
