"""Accepting an invitation at the link its e-mail carries, and the roles and claim values the
inviter attached to it (checked when invited, applied when accepted)."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client

from applications.models import Application, ClaimDefinition, ClaimValue
from audit.models import AuditEntry
from courier.models import Message
from organizations.models import Invitation, Organization, User
from rbac.admin_roles import ADMIN_APP_SLUG
from rbac.models import Role, UserRole

pytestmark = pytest.mark.django_db

PASSWORD = "a-good-password-1"


@pytest.fixture
def org(initialized) -> Organization:
    return Organization.objects.create(name="Acme", slug="acme")


@pytest.fixture
def app(initialized) -> Application:
    return Application.objects.create(name="Shop", slug="shop")


@pytest.fixture
def viewer(app) -> Role:
    return Role.objects.create(application=app, name="Viewer", slug="viewer")


@pytest.fixture
def tier(app) -> ClaimDefinition:
    return ClaimDefinition.objects.create(application=app, name="tier", claim_type="string")


def invite(api, org: Organization, **extra):
    return api.post(f"/api/admin/organizations/{org.id}/users/invite", {"email": "new@acme.example", **extra})


def link_path(email: str = "new@acme.example") -> str:
    """The accept-invite path from the e-mail the courier queued, as the invitee would open it."""
    body = Message.objects.filter(recipient=email).latest("created_at").body_text
    return re.search(r"https?://[^/]+(/\S+/auth/accept-invite/[A-Za-z0-9_-]+)", body).group(1)


def accept(path: str, password: str = PASSWORD, confirm: str | None = None):
    return Client().post(path, {"password": password, "password_confirm": confirm or password})


# -- the page ----------------------------------------------------------------------------------


def test_the_link_in_the_invitation_e_mail_opens_the_acceptance_page(api, org):
    invite(api, org)

    response = Client().get(link_path())

    assert response.status_code == 200
    assert b"new@acme.example" in response.content
    assert b"Acme" in response.content


def test_accepting_sets_the_password_and_verifies_the_e_mail(api, org):
    invite(api, org)

    response = accept(link_path())

    assert response.status_code == 200
    user = User.objects.get(email="new@acme.example")
    assert user.check_password(PASSWORD)
    assert user.email_verified
    assert AuditEntry.objects.filter(event_type="user.invite.accepted", target_id=user.id).exists()


def test_an_invitation_is_accepted_once(api, org):
    invite(api, org)
    path = link_path()
    accept(path)

    response = accept(path, "another-password-2")

    assert response.status_code == 410
    assert User.objects.get(email="new@acme.example").check_password(PASSWORD)


def test_a_replaced_invitation_no_longer_works(api, org):
    invite(api, org)
    first = link_path()
    invite(api, org)

    assert accept(first).status_code == 410


def test_an_expired_invitation_no_longer_works(api, org):
    invite(api, org)
    Invitation.objects.update(expires_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))

    assert Client().get(link_path()).status_code == 410


def test_an_unknown_token_or_another_organizations_path_is_a_404(api, org):
    invite(api, org)

    assert Client().get("/acme/auth/accept-invite/" + "A" * 43).status_code == 404
    assert Client().get(link_path().replace("/acme/", "/porta-admin/")).status_code == 404


def test_a_weak_or_mismatched_password_keeps_the_invitation_open(api, org):
    invite(api, org)
    path = link_path()

    assert accept(path, "short").status_code == 400
    assert accept(path, PASSWORD, "something-else-3").status_code == 400
    assert accept(path).status_code == 200


def test_a_suspended_invitee_cannot_accept(api, org):
    invite(api, org)
    User.objects.filter(email="new@acme.example").update(status="suspended")

    assert accept(link_path()).status_code == 410


# -- pre-assignments ---------------------------------------------------------------------------


def test_roles_and_claim_values_are_applied_on_acceptance_not_before(api, org, app, viewer, tier):
    response = invite(
        api,
        org,
        roles=[{"applicationId": str(app.id), "roleId": str(viewer.id)}],
        claims=[{"applicationId": str(app.id), "claimDefinitionId": str(tier.id), "value": "gold"}],
    )
    assert response.status_code == 201, response.content
    user = User.objects.get(email="new@acme.example")
    assert not UserRole.objects.filter(user=user).exists()

    accept(link_path())

    assert UserRole.objects.filter(user=user, role=viewer).exists()
    assert ClaimValue.objects.get(user=user, claim=tier).value == "gold"
    entry = AuditEntry.objects.get(event_type="user.invite.pre_assignments_applied", target_id=user.id)
    assert entry.metadata["roleIds"] == [str(viewer.id)]


def test_a_role_deleted_before_acceptance_is_skipped_and_said_so(api, org, app, viewer):
    invite(api, org, roles=[{"applicationId": str(app.id), "roleId": str(viewer.id)}])
    role_id = str(viewer.id)
    viewer.delete()

    assert accept(link_path()).status_code == 200

    entry = AuditEntry.objects.get(event_type="user.invite.pre_assignments_applied")
    assert entry.metadata["skippedRoleIds"] == [role_id]


def test_a_role_of_another_application_is_a_400_and_invites_nobody(api, org, viewer):
    other = Application.objects.create(name="Other", slug="other")

    response = invite(api, org, roles=[{"applicationId": str(other.id), "roleId": str(viewer.id)}])

    assert response.status_code == 400
    assert "roles" in response.json()["details"]
    assert not User.objects.filter(email="new@acme.example").exists()


def test_a_claim_value_of_the_wrong_type_is_a_400_naming_the_claim(api, org, app, tier):
    claims = [{"applicationId": str(app.id), "claimDefinitionId": str(tier.id), "value": 7}]

    response = invite(api, org, claims=claims)

    assert response.status_code == 400
    assert "tier" in response.json()["message"]


def test_an_admin_role_the_inviter_could_not_grant_is_a_403(api_as, org, initialized):
    user_admin = api_as("porta-user-admin")
    role = Role.objects.get(application__slug=ADMIN_APP_SLUG, slug="porta-app-admin")

    response = invite(
        user_admin, org, roles=[{"applicationId": str(role.application_id), "roleId": str(role.id)}]
    )

    assert response.status_code == 403
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    "roles",
    [[{"roleId": "x"}], [{"applicationId": "x", "roleId": "y"}], "viewer", [{"applicationId": None}]],
)
def test_malformed_role_pre_assignments_are_a_400(api, org, roles):
    assert invite(api, org, roles=roles).status_code == 400
