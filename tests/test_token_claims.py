"""rbac.selectors.token_claims: what a token carries for a user of an application."""

from __future__ import annotations

import pytest

from applications.models import Application, ClaimDefinition, ClaimValue
from rbac.models import Permission, Role, RolePermission, UserRole
from rbac.selectors import token_claims
from tests.factories import UserFactory


@pytest.fixture
def app(db) -> Application:
    return Application.objects.create(name="Shop", slug="shop-app")


@pytest.fixture
def user(db):
    return UserFactory()


def give_value(app, user, name, value, claim_type="string", **flags) -> None:
    claim = ClaimDefinition.objects.create(application=app, name=name, claim_type=claim_type, **flags)
    ClaimValue.objects.create(claim=claim, user=user, value=value)


def test_a_user_without_roles_or_values_gets_empty_roles_and_permissions(app, user):
    claims = token_claims(user_id=user.id, application_id=app.id, token_type="access_token")
    assert claims == {"roles": [], "permissions": []}


def test_roles_and_permission_slugs_of_the_application_are_included(app, user):
    role = Role.objects.create(application=app, slug="editor", name="Editor")
    permission = Permission.objects.create(application=app, slug="posts:write", name="Write posts")
    RolePermission.objects.create(role=role, permission=permission)
    UserRole.objects.create(user=user, role=role)
    claims = token_claims(user_id=user.id, application_id=app.id, token_type="id_token")
    assert (claims["roles"], claims["permissions"]) == (["editor"], ["posts:write"])


@pytest.mark.parametrize(
    ("token_type", "flag"),
    [
        ("id_token", "include_in_id_token"),
        ("access_token", "include_in_access_token"),
        ("userinfo", "include_in_userinfo"),
    ],
)
def test_a_custom_claim_is_included_in_the_token_type_it_is_flagged_for(app, user, token_type, flag):
    give_value(app, user, "level", 3, "number", **{flag: True})
    assert token_claims(user_id=user.id, application_id=app.id, token_type=token_type)["level"] == 3


def test_a_custom_claim_is_left_out_of_token_types_it_is_not_flagged_for(app, user):
    give_value(app, user, "team", "red", include_in_id_token=True)
    claims = token_claims(user_id=user.id, application_id=app.id, token_type="access_token")
    assert "team" not in claims


def test_claims_of_another_application_are_left_out(app, user):
    other = Application.objects.create(name="Other", slug="other-app")
    give_value(other, user, "team", "red", include_in_access_token=True)
    claims = token_claims(user_id=user.id, application_id=app.id, token_type="access_token")
    assert "team" not in claims


def test_json_values_are_embedded_as_json(app, user):
    give_value(app, user, "prefs", {"theme": ["dark"]}, "json", include_in_userinfo=True)
    claims = token_claims(user_id=user.id, application_id=app.id, token_type="userinfo")
    assert claims["prefs"] == {"theme": ["dark"]}


def test_an_unknown_token_type_is_an_error(app, user):
    with pytest.raises(KeyError):
        token_claims(user_id=user.id, application_id=app.id, token_type="refresh_token")
