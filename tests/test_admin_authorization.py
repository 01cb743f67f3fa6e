"""Admin authorization (contract §2): a suspended admin or a removed role loses access on the very
next request while their token is unexpired. Every write Porta makes to a user, an organization
or a role bumps the version stamps under which processes keep a caller's standing; a change made
behind Porta's back (SQL, no stamp bump) is seen within the standing's maximum age."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from applications.models import Application
from authn import authentication
from organizations.models import Organization, User, UserStatus
from rbac.admin_roles import ADMIN_APP_SLUG
from rbac.models import Permission, Role, RolePermission, UserRole
from tests.conftest import ApiClient, issue_token, post_form

PASSWORD = "admin-password-1"
ORGS = "/api/admin/organizations"
AUDIT = "/api/admin/audit"


def logged_in(user: User, password: str = PASSWORD) -> ApiClient:
    client = Client()
    return ApiClient(client, issue_token(client, user.email, password)["access_token"])


def admin_role(slug: str) -> Role:
    return Role.objects.get(application__slug=ADMIN_APP_SLUG, slug=slug)


def assert_forbidden(response, message: str) -> None:
    assert response.status_code == 403, response.content
    body = response.json()
    assert body["error"] == "Forbidden"
    assert body["statusCode"] == 403
    assert body["message"] == message


def assert_unauthorized(response) -> None:
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"] == "Unauthorized"


def new_org_body(slug: str = "acme-corp") -> dict:
    return {"name": "Acme Corp", "slug": slug}


# -- changes take effect on the next request -------------------------------------------------------


@pytest.mark.parametrize("status", [UserStatus.SUSPENDED, UserStatus.LOCKED, UserStatus.INACTIVE])
def test_an_admin_who_is_no_longer_active_is_cut_off_on_the_next_request(make_admin, status):
    admin = make_admin("porta-super-admin")
    api = logged_in(admin)
    assert api.get(ORGS).status_code == 200
    admin.status = status
    admin.save(update_fields=["status"])  # as every write path of Porta saves it
    assert_unauthorized(api.get(ORGS))


def test_a_status_changed_behind_porta_s_back_cuts_the_admin_off_within_the_standing_max_age(
    make_admin, monkeypatch
):
    monkeypatch.setattr(authentication, "STANDING_MAX_AGE", 0.05)
    admin = make_admin("porta-super-admin")
    api = logged_in(admin)
    assert api.get(ORGS).status_code == 200
    User.objects.filter(pk=admin.pk).update(status=UserStatus.SUSPENDED)  # no stamp bump
    time.sleep(0.1)  # older than the maximum age
    assert_unauthorized(api.get(ORGS))


def test_a_reactivated_admin_is_let_back_in_with_the_same_token(make_admin):
    admin = make_admin("porta-super-admin")
    api = logged_in(admin)
    User.objects.filter(pk=admin.pk).update(status=UserStatus.SUSPENDED)
    assert api.get(ORGS).status_code == 401
    User.objects.filter(pk=admin.pk).update(status=UserStatus.ACTIVE)
    assert api.get(ORGS).status_code == 200


def test_removing_the_super_admin_role_forbids_the_next_request(make_admin):
    admin = make_admin("porta-super-admin")
    api = logged_in(admin)
    assert api.get(ORGS).status_code == 200
    UserRole.objects.filter(user=admin).delete()
    assert_forbidden(api.get(ORGS), "Admin role required")


def test_removing_a_permission_from_a_role_forbids_the_next_request(make_admin):
    admin = make_admin("porta-auditor")
    api = logged_in(admin)
    assert api.get(AUDIT).status_code == 200
    RolePermission.objects.filter(
        role=admin_role("porta-auditor"), permission__slug="admin:audit:read"
    ).delete()
    assert_forbidden(api.get(AUDIT), "Insufficient permissions. Required: admin:audit:read")


def test_granting_a_role_takes_effect_on_the_next_request(make_admin):
    admin = make_admin("porta-auditor")
    api = logged_in(admin)
    assert api.post(ORGS, new_org_body()).status_code == 403
    UserRole.objects.create(user=admin, role=admin_role("porta-org-admin"))
    assert api.post(ORGS, new_org_body()).status_code == 201


# -- who counts as an admin ------------------------------------------------------------------------


def test_an_admin_org_member_without_a_porta_role_is_forbidden(api_as):
    assert_forbidden(api_as().get(ORGS), "Admin role required")


def test_a_non_porta_role_of_the_admin_application_does_not_make_an_admin(make_admin):
    application = Application.objects.get(slug=ADMIN_APP_SLUG)
    viewer = Role.objects.create(application=application, slug="viewer", name="Viewer")
    RolePermission.objects.create(
        role=viewer, permission=Permission.objects.get(application=application, slug="admin:org:read")
    )
    admin = make_admin()
    UserRole.objects.create(user=admin, role=viewer)
    assert_forbidden(logged_in(admin).get(ORGS), "Admin role required")


def test_a_porta_role_of_another_application_does_not_make_an_admin(make_admin):
    application = Application.objects.create(name="Other", slug="other-app")
    lookalike = Role.objects.create(application=application, slug="porta-super-admin", name="Lookalike")
    admin = make_admin()
    UserRole.objects.create(user=admin, role=lookalike)
    assert_forbidden(logged_in(admin).get(ORGS), "Admin role required")


def test_a_custom_porta_role_grants_exactly_its_permissions(make_admin):
    application = Application.objects.get(slug=ADMIN_APP_SLUG)
    reader = Role.objects.create(application=application, slug="porta-org-reader", name="Org reader")
    RolePermission.objects.create(
        role=reader, permission=Permission.objects.get(application=application, slug="admin:org:read")
    )
    admin = make_admin()
    UserRole.objects.create(user=admin, role=reader)
    api = logged_in(admin)
    assert api.get(ORGS).status_code == 200
    assert_forbidden(api.post(ORGS, new_org_body()), "Insufficient permissions. Required: admin:org:create")


# -- the built-in roles ----------------------------------------------------------------------------


def test_the_auditor_can_list_organizations(api_as):
    assert api_as("porta-auditor").get(ORGS).status_code == 200


def test_the_auditor_can_read_the_audit_trail(api_as):
    assert api_as("porta-auditor").get(AUDIT).status_code == 200


def test_the_auditor_cannot_create_an_organization(api_as):
    response = api_as("porta-auditor").post(ORGS, new_org_body())
    assert_forbidden(response, "Insufficient permissions. Required: admin:org:create")
    assert not Organization.objects.filter(slug="acme-corp").exists()


def test_the_org_admin_can_create_an_organization(api_as):
    assert api_as("porta-org-admin").post(ORGS, new_org_body()).status_code == 201


def test_the_org_admin_cannot_read_the_audit_trail(api_as):
    assert_forbidden(
        api_as("porta-org-admin").get(AUDIT), "Insufficient permissions. Required: admin:audit:read"
    )


def test_the_user_admin_cannot_create_an_organization(api_as):
    response = api_as("porta-user-admin").post(ORGS, new_org_body())
    assert_forbidden(response, "Insufficient permissions. Required: admin:org:create")


def test_the_legacy_porta_admin_role_can_create_an_organization(api_as):
    assert api_as("porta-admin").post(ORGS, new_org_body()).status_code == 201


def test_the_legacy_porta_admin_role_can_read_the_audit_trail(api_as):
    assert api_as("porta-admin").get(AUDIT).status_code == 200


def test_the_super_admin_role_can_do_everything_even_if_its_permission_rows_are_gone(make_admin):
    RolePermission.objects.filter(role=admin_role("porta-super-admin")).delete()
    api = logged_in(make_admin("porta-super-admin"))
    assert api.get(AUDIT).status_code == 200
    assert api.post(ORGS, new_org_body()).status_code == 201


def test_roles_combine_their_permissions(api_as):
    api = api_as("porta-auditor", "porta-org-admin")
    assert api.get(AUDIT).status_code == 200
    assert api.post(ORGS, new_org_body()).status_code == 201


# -- tenant users (tenant administrators: tests/test_tenant_administrators.py) ---------------------


def tenant_login(user: User, client_id: str = "tenant-cli") -> ApiClient:
    client = Client()
    response = post_form(
        client,
        f"/{user.organization.slug}/auth/token",
        {"grant_type": "password", "client_id": client_id, "username": user.email, "password": PASSWORD},
    )
    assert response.status_code == 200, response.content
    return ApiClient(client, response.json()["access_token"])


def test_a_token_for_a_tenant_applications_client_does_not_open_the_admin_api(tenant_user):
    assert_unauthorized(tenant_login(tenant_user).get(ORGS))


def test_a_tenant_applications_token_stays_shut_out_even_when_its_user_holds_porta_roles(tenant_user):
    """Only a client of the porta-admin application gets admin API tokens: one a tenant
    application received cannot be replayed there, whoever it was issued to."""
    UserRole.objects.create(user=tenant_user, role=admin_role("porta-super-admin"))
    assert_unauthorized(tenant_login(tenant_user).get(ORGS))
