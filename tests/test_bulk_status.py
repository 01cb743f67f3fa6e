"""Bulk status changes, the ids form: ``POST /bulk/organizations/status`` and
``POST /bulk/users/status`` answer 200 with one result per id, each item changed (or refused)
by the same transition table, guard and audit entry as the single-item action."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from applications.models import Application
from audit.models import AuditEntry
from organizations.models import Organization, OrganizationStatus, User, UserStatus
from rbac.admin_roles import ADMIN_APP_SLUG
from rbac.models import Permission, Role, RolePermission
from tests.conftest import ApiClient, issue_token

USERS = "/api/admin/bulk/users/status"
ORGANIZATIONS = "/api/admin/bulk/organizations/status"


@pytest.fixture
def org(initialized) -> Organization:
    return Organization.objects.create(name="Acme", slug="acme")


@pytest.fixture
def other_org(initialized) -> Organization:
    return Organization.objects.create(name="Globex", slug="globex")


def make_users(org: Organization, *statuses: str) -> list[User]:
    return [
        User.objects.create(organization=org, email=f"u{i}@{org.slug}.example", status=status)
        for i, status in enumerate(statuses)
    ]


def bulk_users(api, org, users, action="suspend", **extra):
    body = {"organizationId": str(org.id), "ids": [str(u.id) for u in users], "action": action, **extra}
    return api.post(USERS, body)


def org_scoped_key(api, organization: Organization) -> ApiClient:
    response = api.post(
        "/api/admin/api-keys",
        {"name": "Scoped", "organizationId": str(organization.id), "roles": ["porta-super-admin"]},
    )
    assert response.status_code == 201, response.content
    return ApiClient(Client(), response.json()["secret"])


def statuses(users: list[User]) -> list[str]:
    return [User.objects.get(pk=u.pk).status for u in users]


# -- users: the results ---------------------------------------------------------------------------


def test_bulk_suspending_users_answers_one_result_per_id_in_request_order(api, org):
    users = make_users(org, "active", "active", "active")
    response = bulk_users(api, org, users)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["total"], body["succeeded"], body["failed"]) == (3, 3, 0)
    assert body["results"] == [
        {
            "id": str(u.id),
            "success": True,
            "previousStatus": "active",
            "newStatus": "suspended",
            "error": None,
        }
        for u in users
    ]


def test_bulk_suspended_users_are_suspended_in_the_database(api, org):
    users = make_users(org, "active", "active")
    bulk_users(api, org, users)
    assert statuses(users) == ["suspended", "suspended"]


def test_each_changed_user_has_the_audit_entry_of_the_single_item_action(api, org):
    users = make_users(org, "active", "active")
    bulk_users(api, org, users, reason="chargeback")
    for user in users:
        entry = AuditEntry.objects.get(
            target_type="user", target_id=str(user.id), event_type="user.suspended"
        )
        assert entry.organization_id == org.id
        assert entry.metadata["action"] == "suspend"
        assert entry.metadata["reason"] == "chargeback"
        assert entry.metadata["changes"] == {"status": {"before": "active", "after": "suspended"}}


def test_the_reason_is_kept_on_each_suspended_user(api, org):
    users = make_users(org, "active")
    bulk_users(api, org, users, reason="chargeback")
    assert User.objects.get(pk=users[0].pk).status_reason == "chargeback"


def test_an_illegal_transition_fails_its_item_and_the_others_still_change(api, org):
    users = make_users(org, "active", "locked", "active")
    body = bulk_users(api, org, users).json()
    assert (body["succeeded"], body["failed"]) == (2, 1)
    assert body["results"][1] == {
        "id": str(users[1].id),
        "success": False,
        "previousStatus": "locked",
        "newStatus": None,
        "error": "Cannot suspend user from status 'locked'",
    }
    assert statuses(users) == ["suspended", "locked", "suspended"]


def test_a_refused_item_writes_no_audit_entry(api, org):
    users = make_users(org, "locked")
    bulk_users(api, org, users)
    assert not AuditEntry.objects.filter(target_id=str(users[0].id)).exists()


def test_an_unknown_id_is_a_per_item_not_found(api, org):
    missing = uuid.uuid4()
    response = api.post(USERS, {"organizationId": str(org.id), "ids": [str(missing)], "action": "suspend"})
    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "id": str(missing),
            "success": False,
            "previousStatus": None,
            "newStatus": None,
            "error": "User not found",
        }
    ]


def test_a_user_of_another_organization_is_a_per_item_not_found_and_unchanged(api, org, other_org):
    (foreign,) = make_users(other_org, "active")
    body = bulk_users(api, org, [foreign]).json()
    assert body["results"][0]["error"] == "User not found"
    assert statuses([foreign]) == ["active"]


@pytest.mark.parametrize("action", ["suspend", "lock", "deactivate"])
def test_the_super_admin_user_is_protected_in_bulk(api, super_admin, action):
    body = bulk_users(api, super_admin.organization, [super_admin], action, reason="no").json()
    assert body["results"][0]["error"] == f"Cannot {action} the super-admin user"
    assert statuses([super_admin]) == ["active"]


@pytest.mark.parametrize(("before", "event_action"), [("inactive", "reactivate"), ("suspended", "unsuspend")])
def test_activate_takes_the_row_of_the_table_the_status_allows(api, org, before, event_action):
    users = make_users(org, before)
    body = bulk_users(api, org, users, "activate").json()
    assert body["results"][0]["newStatus"] == "active"
    entry = AuditEntry.objects.get(target_id=str(users[0].id), event_type="user.activated")
    assert entry.metadata["action"] == event_action


def test_activate_from_a_status_no_row_allows_is_refused_under_its_own_name(api, org):
    users = make_users(org, "locked")
    body = bulk_users(api, org, users, "activate").json()
    assert body["results"][0]["error"] == "Cannot activate user from status 'locked'"


@pytest.mark.parametrize("action", ["deactivate", "reactivate", "suspend", "unsuspend", "lock", "unlock"])
def test_every_action_of_the_users_table_is_accepted(api, org, action):
    response = bulk_users(api, org, make_users(org, "active"), action, reason="why")
    assert response.status_code == 200, response.content


# -- users: bad requests --------------------------------------------------------------------------


def test_lock_without_a_reason_is_a_400_and_changes_nothing(api, org):
    users = make_users(org, "active")
    response = bulk_users(api, org, users, "lock")
    assert response.status_code == 400
    assert "reason" in response.json()["details"]
    assert statuses(users) == ["active"]


def test_duplicate_ids_are_a_400(api, org):
    (user,) = make_users(org, "active")
    response = bulk_users(api, org, [user, user])
    assert response.status_code == 400
    assert response.json()["details"]["ids"] == ["Bulk entity identifiers must be unique."]


def test_more_than_100_ids_are_a_400(api, org):
    ids = [str(uuid.uuid4()) for _ in range(101)]
    response = api.post(USERS, {"organizationId": str(org.id), "ids": ids, "action": "suspend"})
    assert response.status_code == 400
    assert "ids" in response.json()["details"]


def test_an_empty_ids_list_is_a_400(api, org):
    response = api.post(USERS, {"organizationId": str(org.id), "ids": [], "action": "suspend"})
    assert response.status_code == 400


def test_a_malformed_id_is_a_400(api, org):
    response = api.post(USERS, {"organizationId": str(org.id), "ids": ["nope"], "action": "suspend"})
    assert response.status_code == 400


def test_neither_ids_nor_filter_is_a_400(api, org):
    response = api.post(USERS, {"organizationId": str(org.id), "action": "suspend"})
    assert response.status_code == 400
    assert set(response.json()["details"]) == {"ids", "filter"}


def test_ids_and_filter_together_are_a_400(api, org):
    (user,) = make_users(org, "active")
    response = bulk_users(api, org, [user], filter={"status": "active"})
    assert response.status_code == 400
    assert statuses([user]) == ["active"]


def test_an_action_outside_the_table_is_a_400(api, org):
    response = bulk_users(api, org, make_users(org, "active"), "purge")
    assert response.status_code == 400
    assert "action" in response.json()["details"]


def test_an_unknown_body_field_is_a_400(api, org):
    response = bulk_users(api, org, make_users(org, "active"), force=True)
    assert response.status_code == 400
    assert response.json()["details"] == {"force": ["Unknown field."]}


def test_a_missing_organization_id_is_a_400(api, org):
    response = api.post(USERS, {"ids": [str(uuid.uuid4())], "action": "suspend"})
    assert response.status_code == 400
    assert "organizationId" in response.json()["details"]


def test_an_unknown_organization_is_a_404(api, initialized):
    body = {"organizationId": str(uuid.uuid4()), "ids": [str(uuid.uuid4())], "action": "suspend"}
    response = api.post(USERS, body)
    assert response.status_code == 404
    assert response.json()["message"] == "Organization not found"


def test_a_reason_over_500_characters_is_a_400(api, org):
    response = bulk_users(api, org, make_users(org, "active"), reason="x" * 501)
    assert response.status_code == 400


# -- users: who may --------------------------------------------------------------------------------


def test_an_auditor_may_not_bulk_change_users(api_as, org):
    users = make_users(org, "active")
    response = bulk_users(api_as("porta-auditor"), org, users)
    assert response.status_code == 403
    assert response.json()["message"] == "Insufficient permissions. Required: admin:user:suspend"
    assert statuses(users) == ["active"]


def test_anonymous_callers_are_401(anonymous, org):
    response = bulk_users(anonymous, org, make_users(org, "active"))
    assert response.status_code == 401


def test_an_org_scoped_key_bulk_changes_users_of_its_organization(api, org):
    users = make_users(org, "active")
    response = bulk_users(org_scoped_key(api, org), org, users)
    assert response.json()["succeeded"] == 1
    assert statuses(users) == ["suspended"]


def test_an_org_scoped_key_naming_another_organization_is_a_404_and_changes_nothing(api, org, other_org):
    users = make_users(other_org, "active")
    response = bulk_users(org_scoped_key(api, org), other_org, users)
    assert response.status_code == 404
    assert statuses(users) == ["active"]


def test_an_org_scoped_key_cannot_reach_another_organizations_users_through_its_own(api, org, other_org):
    users = make_users(other_org, "active")
    body = bulk_users(org_scoped_key(api, org), org, users).json()
    assert body["results"][0]["error"] == "User not found"
    assert statuses(users) == ["active"]


# -- organizations --------------------------------------------------------------------------------


def bulk_orgs(api, organizations, action="suspend", **extra):
    return api.post(ORGANIZATIONS, {"ids": [str(o.id) for o in organizations], "action": action, **extra})


def test_bulk_suspending_organizations_answers_one_result_each(api, org, other_org):
    response = bulk_orgs(api, [org, other_org])
    assert response.status_code == 200, response.content
    assert [r["newStatus"] for r in response.json()["results"]] == ["suspended", "suspended"]
    assert set(
        Organization.objects.filter(pk__in=[org.pk, other_org.pk]).values_list("status", flat=True)
    ) == {OrganizationStatus.SUSPENDED}


def test_each_changed_organization_has_the_single_item_audit_entry(api, org):
    bulk_orgs(api, [org], reason="unpaid")
    entry = AuditEntry.objects.get(
        target_type="organization", target_id=str(org.id), event_type="org.suspended"
    )
    assert entry.metadata["reason"] == "unpaid"
    assert entry.metadata["changes"]["status"] == {"before": "active", "after": "suspended"}


def test_an_archived_organization_cannot_be_suspended_in_bulk(api, org):
    Organization.objects.filter(pk=org.pk).update(status=OrganizationStatus.ARCHIVED)
    body = bulk_orgs(api, [org]).json()
    assert body["results"][0]["error"] == "Cannot suspend organization from status 'archived'"


@pytest.mark.parametrize(("action", "verb"), [("suspend", "suspended"), ("archive", "archived")])
def test_the_super_admin_organization_is_protected_in_bulk(api, super_admin_org, action, verb):
    body = bulk_orgs(api, [super_admin_org], action).json()
    assert body["results"][0]["error"] == f"The super-admin organization cannot be {verb}"
    assert Organization.objects.get(pk=super_admin_org.pk).status == OrganizationStatus.ACTIVE


def test_an_org_scoped_key_may_not_bulk_change_organizations(api, org):
    response = bulk_orgs(org_scoped_key(api, org), [org])
    assert response.status_code == 403
    assert Organization.objects.get(pk=org.pk).status == OrganizationStatus.ACTIVE


def test_an_organization_action_outside_the_table_is_a_400(api, org):
    assert bulk_orgs(api, [org], "delete").status_code == 400


def test_the_users_of_a_bulk_suspended_organization_keep_their_status(api, org):
    users = make_users(org, UserStatus.ACTIVE)
    bulk_orgs(api, [org])
    assert statuses(users) == ["active"]


@pytest.fixture
def suspender(make_admin) -> ApiClient:
    """An admin whose one role grants ``admin:org:suspend`` and nothing else."""
    application = Application.objects.get(slug=ADMIN_APP_SLUG)
    role = Role.objects.create(application=application, slug="porta-org-suspender", name="Suspender")
    permission = Permission.objects.get(application=application, slug="admin:org:suspend")
    RolePermission.objects.create(role=role, permission=permission)
    user = make_admin("porta-org-suspender")
    client = Client()
    return ApiClient(client, issue_token(client, user.email, "admin-password-1")["access_token"])


def test_an_admin_who_may_suspend_organizations_may_bulk_suspend_them(suspender, org):
    assert bulk_orgs(suspender, [org]).json()["succeeded"] == 1


def test_bulk_archiving_needs_the_archive_permission_of_the_single_item_action(suspender, org):
    response = bulk_orgs(suspender, [org], "archive")
    assert response.status_code == 403
    assert response.json()["message"] == "Insufficient permissions. Required: admin:org:archive"
    assert Organization.objects.get(pk=org.pk).status == OrganizationStatus.ACTIVE
