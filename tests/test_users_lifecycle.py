"""The user lifecycle: every row of USER_TRANSITIONS, every illegal transition, and the
protected super-admin user."""

from __future__ import annotations

import pytest

from audit.models import AuditEntry
from organizations.models import Organization, User, UserStatus
from organizations.user_services import USER_TRANSITIONS

LEGAL = [
    ("deactivate", UserStatus.ACTIVE, UserStatus.INACTIVE, "user.deactivated"),
    ("reactivate", UserStatus.INACTIVE, UserStatus.ACTIVE, "user.activated"),
    ("suspend", UserStatus.ACTIVE, UserStatus.SUSPENDED, "user.suspended"),
    ("unsuspend", UserStatus.SUSPENDED, UserStatus.ACTIVE, "user.activated"),
    ("lock", UserStatus.ACTIVE, UserStatus.LOCKED, "user.locked"),
    ("unlock", UserStatus.LOCKED, UserStatus.ACTIVE, "user.activated"),
]
ILLEGAL = [
    (action, status)
    for action, (allowed, _, _) in USER_TRANSITIONS.items()
    for status in UserStatus.values
    if status not in allowed
]


@pytest.fixture
def org(initialized) -> Organization:
    return Organization.objects.create(name="Acme", slug="acme")


def act(api, user: User, action: str, body=None):
    return api.post(f"/api/admin/organizations/{user.organization_id}/users/{user.id}/{action}",
                    body if body is not None else {"reason": "because"})  # fmt: skip


def test_the_table_covers_exactly_the_six_actions():
    assert sorted(USER_TRANSITIONS) == sorted(action for action, *_ in LEGAL)


@pytest.mark.parametrize(("action", "before", "after", "event"), LEGAL, ids=[row[0] for row in LEGAL])
def test_a_legal_transition_answers_200_with_the_new_status(api, org, action, before, after, event):
    user = User.objects.create(organization=org, email="a@acme.example", status=before)
    response = act(api, user, action)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == after


@pytest.mark.parametrize(("action", "before", "after", "event"), LEGAL, ids=[row[0] for row in LEGAL])
def test_a_legal_transition_is_audited_under_its_event(api, org, action, before, after, event):
    user = User.objects.create(organization=org, email="a@acme.example", status=before)
    act(api, user, action)
    assert AuditEntry.objects.filter(event_type=event, target_id=str(user.id)).exists()


@pytest.mark.parametrize(("action", "status"), ILLEGAL, ids=[f"{a}-from-{s}" for a, s in ILLEGAL])
def test_an_illegal_transition_is_a_409_and_changes_nothing(api, org, action, status):
    user = User.objects.create(organization=org, email="a@acme.example", status=status)
    response = act(api, user, action)
    assert response.status_code == 409, response.content
    assert response.json()["message"] == f"Cannot {action} user from status '{status}'"
    user.refresh_from_db()
    assert user.status == status


def test_lock_without_a_reason_is_a_400(api, org):
    user = User.objects.create(organization=org, email="a@acme.example")
    assert act(api, user, "lock", {}).status_code == 400


def test_the_suspension_reason_is_kept_on_the_user(api, org):
    user = User.objects.create(organization=org, email="a@acme.example")
    assert act(api, user, "suspend", {"reason": "chargeback"}).json()["statusReason"] == "chargeback"


@pytest.mark.parametrize("action", ["suspend", "lock", "deactivate"])
def test_the_super_admin_user_cannot_be_taken_out_of_service(api, super_admin, action):
    response = act(api, super_admin, action)
    assert response.status_code == 403
    assert response.json()["message"] == f"Cannot {action} the super-admin user"


def test_the_super_admin_user_cannot_be_purged(api, super_admin):
    url = f"/api/admin/users/{super_admin.id}/purge"
    response = api.post(url, {"confirmPurge": True})
    assert response.status_code == 403
    assert User.objects.filter(pk=super_admin.pk).exists()


def test_another_admin_of_the_admin_organization_can_be_suspended(api, make_admin):
    other = make_admin("porta-super-admin")
    assert act(api, other, "suspend").status_code == 200
