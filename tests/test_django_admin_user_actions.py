"""The Django admin's user lifecycle actions run the API's service (organizations.user_services):
same transitions, same guards, same audit entries, same ``admin:`` permissions. And Django's
``auth.Group``, which Porta never reads, is not offered."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from applications.models import Application
from audit.models import AuditEntry
from organizations.models import Organization, User, UserStatus
from organizations.user_services import user_transition
from porta.core.context import Actor
from porta.core.errors import ValidationFailed
from rbac.admin_roles import ADMIN_APP_SLUG
from rbac.models import Permission, Role, RolePermission, UserRole

pytestmark = pytest.mark.django_db

USERS = "/admin/organizations/user/"
ORGANIZATIONS = "/admin/organizations/organization/"

#: action, status before, status after, audit event (as the API's lifecycle tests)
TRANSITIONS = [
    ("suspend", UserStatus.ACTIVE, UserStatus.SUSPENDED, "user.suspended"),
    ("unsuspend", UserStatus.SUSPENDED, UserStatus.ACTIVE, "user.activated"),
    ("lock", UserStatus.ACTIVE, UserStatus.LOCKED, "user.locked"),
    ("unlock", UserStatus.LOCKED, UserStatus.ACTIVE, "user.activated"),
    ("deactivate", UserStatus.ACTIVE, UserStatus.INACTIVE, "user.deactivated"),
    ("reactivate", UserStatus.INACTIVE, UserStatus.ACTIVE, "user.activated"),
]


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def run_action(client: Client, changelist: str, action: str, rows, *, follow: bool = True, **form: str):
    """Post a changelist action for ``rows``; ``form`` (e.g. ``apply="1", reason="…"``) answers
    an action's confirmation page."""
    data = {"action": action, "_selected_action": [str(row.pk) for row in rows], **form}
    if not form:
        data["index"] = "0"  # posted from the changelist itself
    return client.post(changelist, data, follow=follow)


def confirm(client: Client, action: str, rows, reason: str = "") -> list[str]:
    """Run a user action through its confirmation page; the messages the operator then sees."""
    response = run_action(client, USERS, action, rows, apply="1", reason=reason)
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


def admin_with_permissions(super_admin_org: Organization, *permissions: str) -> User:
    """An admin whose one ``porta-*`` role grants exactly ``permissions``."""
    application = Application.objects.get(slug=ADMIN_APP_SLUG)
    role = Role.objects.create(
        application=application, slug=f"porta-test-{uuid.uuid4().hex[:8]}", name="Test"
    )
    RolePermission.objects.bulk_create(
        RolePermission(role=role, permission=p)
        for p in Permission.objects.filter(application=application, slug__in=permissions)
    )
    user = User.objects.create(organization=super_admin_org, email=f"{role.slug}@example.com")
    UserRole.objects.create(user=user, role=role)
    return user


@pytest.fixture
def tenant(initialized) -> Organization:
    return Organization.objects.create(name="Acme", slug="acme")


@pytest.fixture
def member(tenant) -> User:
    return User.objects.create(organization=tenant, email="member@acme.example")


@pytest.fixture
def user_admin(make_admin) -> User:
    return make_admin("porta-user-admin")


# -- auth.Group ------------------------------------------------------------------------------------


def test_the_group_admin_is_gone(super_admin):
    client = signed_in(super_admin)

    assert client.get("/admin/auth/group/").status_code == 404
    assert "/admin/auth/" not in client.get("/admin/").content.decode()


# -- the actions -----------------------------------------------------------------------------------


def test_a_user_action_first_asks_for_the_reason(user_admin, member):
    response = run_action(signed_in(user_admin), USERS, "suspend_selected", [member])

    assert response.status_code == 200
    assert 'name="reason"' in response.content.decode()
    member.refresh_from_db()
    assert member.status == UserStatus.ACTIVE


@pytest.mark.parametrize(("action", "before", "after", "event"), TRANSITIONS, ids=[t[0] for t in TRANSITIONS])
def test_each_lifecycle_action_changes_the_status_and_is_audited_as_in_the_api(
    user_admin, member, action, before, after, event
):
    User.objects.filter(pk=member.pk).update(status=before)

    messages = confirm(signed_in(user_admin), f"{action}_selected", [member], reason="ticket 42")

    member.refresh_from_db()
    assert member.status == after
    assert messages == [f"{action}: 1 user(s) changed"]
    entry = AuditEntry.objects.get(event_type=event, target_id=str(member.id))
    assert (entry.actor_type, entry.actor_id, entry.organization_id) == (
        "user",
        user_admin.id,
        member.organization_id,
    )
    assert entry.metadata["changes"] == {"status": {"before": before, "after": after}}
    assert entry.metadata["reason"] == "ticket 42"


def test_locking_without_a_reason_shows_the_form_again_and_changes_nothing(user_admin, member):
    response = run_action(signed_in(user_admin), USERS, "lock_selected", [member], apply="1", reason=" ")

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    member.refresh_from_db()
    assert member.status == UserStatus.ACTIVE
    assert not AuditEntry.objects.filter(event_type="user.locked").exists()


def test_suspending_the_super_admin_is_refused_with_a_message(user_admin, super_admin):
    messages = confirm(signed_in(user_admin), "suspend_selected", [super_admin])

    super_admin.refresh_from_db()
    assert super_admin.status == UserStatus.ACTIVE
    assert "admin@example.com: Cannot suspend the super-admin user" in messages
    assert not AuditEntry.objects.filter(event_type="user.suspended").exists()


def test_a_transition_the_api_refuses_is_refused_with_a_message_and_the_rest_go_on(
    user_admin, tenant, member
):
    suspended = User.objects.create(
        organization=tenant, email="off@acme.example", status=UserStatus.SUSPENDED
    )

    messages = confirm(signed_in(user_admin), "unsuspend_selected", [member, suspended])

    member.refresh_from_db()
    suspended.refresh_from_db()
    assert (member.status, suspended.status) == (UserStatus.ACTIVE, UserStatus.ACTIVE)
    assert "member@acme.example: Cannot unsuspend user from status 'active'" in messages
    assert "unsuspend: 1 user(s) changed" in messages


# -- permissions -----------------------------------------------------------------------------------


def test_an_operator_without_admin_user_suspend_is_not_offered_the_actions(make_admin, member):
    response = signed_in(make_admin("porta-auditor")).get(USERS)

    assert response.status_code == 200
    assert "suspend_selected" not in response.content.decode()
    assert "lock_selected" not in response.content.decode()


def test_an_operator_without_admin_user_suspend_cannot_post_the_action(make_admin, member):
    auditor = signed_in(make_admin("porta-auditor"))

    run_action(auditor, USERS, "lock_selected", [member], apply="1", reason="not mine to lock")

    member.refresh_from_db()
    assert member.status == UserStatus.ACTIVE
    assert not AuditEntry.objects.filter(event_type="user.locked").exists()


def test_a_user_admin_is_offered_every_lifecycle_action(user_admin, member):
    page = signed_in(user_admin).get(USERS).content.decode()

    assert all(f'value="{action}_selected"' in page for action, *_ in TRANSITIONS)


def test_suspending_an_organization_needs_the_permission_the_api_needs(super_admin_org, tenant):
    updater = signed_in(admin_with_permissions(super_admin_org, "admin:org:read", "admin:org:update"))

    run_action(updater, ORGANIZATIONS, "suspend_selected", [tenant])

    tenant.refresh_from_db()
    assert tenant.status == "active"


def test_an_operator_holding_admin_org_suspend_suspends_an_organization(super_admin_org, tenant):
    suspender = signed_in(admin_with_permissions(super_admin_org, "admin:org:read", "admin:org:suspend"))

    run_action(suspender, ORGANIZATIONS, "suspend_selected", [tenant])

    tenant.refresh_from_db()
    assert tenant.status == "suspended"
    assert AuditEntry.objects.filter(event_type="org.suspended", target_id=str(tenant.id)).exists()


def test_the_service_itself_refuses_a_lock_without_a_reason(user_admin, member):
    with pytest.raises(ValidationFailed, match="A reason is required to lock a user"):
        user_transition(
            actor=Actor(type="user", id=user_admin.id, label=user_admin.email), user=member, action="lock"
        )
