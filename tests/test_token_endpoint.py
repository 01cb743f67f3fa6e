"""The admin issuer's token endpoint (contract §2): password and rotating refresh grants, OAuth 2
error bodies, failed-login throttling and auto-lockout, organization status, audit."""

from __future__ import annotations

import jwt
import orjson
import pytest
from django.test import Client

from applications.models import Application
from applications.models import Client as OAuthClient
from audit.models import AuditEntry
from organizations.models import Organization, OrganizationStatus, User, UserStatus
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ApiClient, issue_token, post_form

TOKEN_PATH = "/porta-admin/auth/token"
ISSUER = "http://testserver/porta-admin"
ADMIN_AUDIENCE = "http://testserver/api/admin"
PASSWORD = "admin-password-1"


def password_form(
    username: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD, client_id: str = "porta-cli", **extra: str
) -> dict:
    return {
        "grant_type": "password",
        "client_id": client_id,
        "username": username,
        "password": password,
    } | extra


def tenant_form() -> dict:
    return password_form("someone@tenant.example", PASSWORD, client_id="tenant-cli")


def refresh_form(refresh_token: str) -> dict:
    return {"grant_type": "refresh_token", "client_id": "porta-cli", "refresh_token": refresh_token}


def token_request(form: dict, path: str = TOKEN_PATH, **headers: str):
    return post_form(Client(), path, form, **headers)


def assert_oauth_error(response, status: int, error: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error
    assert isinstance(body["error_description"], str)
    assert body["error_description"]
    return body


def jwks_keys() -> dict[str, dict]:
    response = Client().get("/porta-admin/auth/jwks")
    assert response.status_code == 200
    return {key["kid"]: key for key in response.json()["keys"]}


@pytest.fixture
def admin(make_admin) -> User:
    """An admin who is not the bootstrap super-admin, so locking them affects nobody else."""
    return make_admin("porta-super-admin", email="lockable@example.com", password=PASSWORD)


@pytest.fixture
def tenant(tenant_user) -> Organization:
    return tenant_user.organization


# -- successful password grant ---------------------------------------------------------------------


def test_password_grant_returns_a_bearer_token_response(initialized):
    response = token_request(password_form())
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert body["token_type"] == "Bearer"
    assert isinstance(body["expires_in"], int)
    assert body["expires_in"] > 0
    assert body["refresh_token"]
    assert body["access_token"]
    assert body["scope"] == "openid profile email offline_access"


def test_token_responses_are_not_cacheable(initialized):
    response = token_request(password_form())
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_access_token_header_is_es256_at_jwt_with_a_published_kid(initialized):
    access_token = issue_token(Client(), ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"]
    header = jwt.get_unverified_header(access_token)
    assert header["alg"] == "ES256"
    assert header["typ"] == "at+jwt"
    assert header["kid"] in jwks_keys()


def test_access_token_verifies_against_the_published_jwk(initialized):
    access_token = issue_token(Client(), ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"]
    jwk = jwt.PyJWK(jwks_keys()[jwt.get_unverified_header(access_token)["kid"]])
    claims = jwt.decode(access_token, jwk.key, algorithms=["ES256"], audience=ADMIN_AUDIENCE, issuer=ISSUER)
    assert claims["iss"] == ISSUER


def test_access_token_carries_the_contract_claims(super_admin, super_admin_org):
    body = issue_token(Client(), ADMIN_EMAIL, ADMIN_PASSWORD)
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["iss"] == ISSUER
    assert claims["sub"] == str(super_admin.id)
    assert claims["aud"] == ADMIN_AUDIENCE
    assert claims["client_id"] == "porta-cli"
    assert claims["org_id"] == str(super_admin_org.id)
    assert claims["scope"] == body["scope"]
    assert isinstance(claims["jti"], str)
    assert claims["jti"]
    assert isinstance(claims["iat"], int)
    assert claims["exp"] - claims["iat"] == body["expires_in"]


def test_every_access_token_has_its_own_jti(initialized):
    tokens = [issue_token(Client(), ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"] for _ in range(2)]
    first, second = (jwt.decode(t, options={"verify_signature": False}) for t in tokens)
    assert first["jti"] != second["jti"]


def test_the_issued_access_token_opens_the_admin_api(initialized):
    token = issue_token(Client(), ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"]
    assert ApiClient(Client(), token).get("/api/admin/organizations").status_code == 200


def test_a_narrower_requested_scope_is_granted_as_asked(initialized):
    response = token_request(password_form(scope="openid email"))
    assert response.status_code == 200
    assert response.json()["scope"] == "openid email"


def test_the_username_is_matched_case_insensitively(initialized):
    response = token_request(password_form(username=ADMIN_EMAIL.upper()))
    assert response.status_code == 200


def test_a_successful_login_writes_one_user_login_audit_entry(super_admin):
    before = AuditEntry.objects.filter(event_type="user.login").count()
    assert token_request(password_form()).status_code == 200
    entries = AuditEntry.objects.filter(event_type="user.login")
    assert entries.count() == before + 1
    entry = entries.first()
    assert entry.target_id == str(super_admin.id)
    assert entry.organization_id == super_admin.organization_id
    assert entry.metadata["clientId"] == "porta-cli"


# -- OAuth error bodies ----------------------------------------------------------------------------


def test_wrong_password_is_invalid_grant(initialized):
    body = assert_oauth_error(token_request(password_form(password="wrong-password")), 400, "invalid_grant")
    assert body["error_description"] == "Invalid username or password"


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(initialized):
    wrong_password = token_request(password_form(password="wrong-password")).json()
    unknown_user = token_request(password_form(username="nobody@example.com")).json()
    assert unknown_user == wrong_password


def test_unknown_client_is_invalid_client_401(initialized):
    response = token_request(password_form(client_id="no-such-client"))
    assert_oauth_error(response, 401, "invalid_client")
    assert "WWW-Authenticate" in response


def test_missing_client_id_is_invalid_client(initialized):
    form = password_form()
    del form["client_id"]
    assert_oauth_error(token_request(form), 401, "invalid_client")


def test_a_client_of_another_organization_is_invalid_client(tenant):
    assert_oauth_error(token_request(password_form(client_id="tenant-cli")), 401, "invalid_client")


def test_unsupported_grant_type_is_rejected(initialized):
    response = token_request(password_form(grant_type="urn:example:magic"))
    assert_oauth_error(response, 400, "unsupported_grant_type")


def test_missing_grant_type_is_invalid_request(initialized):
    form = password_form()
    del form["grant_type"]
    assert_oauth_error(token_request(form), 400, "invalid_request")


@pytest.mark.parametrize("missing", ["username", "password"])
def test_password_grant_without_credentials_is_invalid_request(initialized, missing):
    form = password_form()
    del form[missing]
    assert_oauth_error(token_request(form), 400, "invalid_request")


def test_refresh_grant_without_a_refresh_token_is_invalid_request(initialized):
    form = {"grant_type": "refresh_token", "client_id": "porta-cli"}
    assert_oauth_error(token_request(form), 400, "invalid_request")


def test_a_json_body_instead_of_a_form_is_invalid_request(initialized):
    response = Client().post(TOKEN_PATH, orjson.dumps(password_form()), content_type="application/json")
    assert_oauth_error(response, 400, "invalid_request")


def test_a_scope_the_client_does_not_have_is_invalid_scope(initialized):
    assert_oauth_error(token_request(password_form(scope="openid admin")), 400, "invalid_scope")


def test_a_client_not_allowed_the_password_grant_is_unauthorized_client(initialized):
    OAuthClient.objects.filter(client_id="porta-cli").update(grant_types=["authorization_code"])
    assert_oauth_error(token_request(password_form()), 400, "unauthorized_client")


def test_oauth_errors_are_not_cacheable(initialized):
    response = token_request(password_form(password="wrong-password"))
    assert response["Cache-Control"] == "no-store"


def test_the_token_endpoint_only_accepts_post(initialized):
    assert Client().get(TOKEN_PATH).status_code == 405


@pytest.mark.parametrize("status", [UserStatus.SUSPENDED, UserStatus.INACTIVE])
def test_an_account_that_is_not_active_cannot_log_in(admin, status):
    User.objects.filter(pk=admin.pk).update(status=status)
    body = assert_oauth_error(token_request(password_form(admin.email, PASSWORD)), 400, "invalid_grant")
    assert body["error_description"] == "Account is not active"


# -- refresh grant ---------------------------------------------------------------------------------


def test_refresh_grant_returns_a_new_token_pair(initialized):
    first = issue_token(Client(), ADMIN_EMAIL, ADMIN_PASSWORD)
    response = token_request(refresh_form(first["refresh_token"]))
    assert response.status_code == 200, response.content
    second = response.json()
    assert second["token_type"] == "Bearer"
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["scope"] == first["scope"]


def test_the_rotated_refresh_token_works(initialized):
    first = issue_token(Client(), ADMIN_EMAIL, ADMIN_PASSWORD)
    second = token_request(refresh_form(first["refresh_token"])).json()
    assert token_request(refresh_form(second["refresh_token"])).status_code == 200


def test_a_refreshed_access_token_opens_the_admin_api(initialized):
    first = issue_token(Client(), ADMIN_EMAIL, ADMIN_PASSWORD)
    second = token_request(refresh_form(first["refresh_token"])).json()
    assert ApiClient(Client(), second["access_token"]).get("/api/admin/organizations").status_code == 200


def test_a_spent_refresh_token_no_longer_works(initialized):
    first = issue_token(Client(), ADMIN_EMAIL, ADMIN_PASSWORD)
    assert token_request(refresh_form(first["refresh_token"])).status_code == 200
    assert_oauth_error(token_request(refresh_form(first["refresh_token"])), 400, "invalid_grant")


def test_reusing_a_spent_refresh_token_revokes_the_newest_token_of_its_family(initialized):
    first = issue_token(Client(), ADMIN_EMAIL, ADMIN_PASSWORD)
    second = token_request(refresh_form(first["refresh_token"])).json()
    third = token_request(refresh_form(second["refresh_token"])).json()
    assert token_request(refresh_form(first["refresh_token"])).status_code == 400  # reuse
    assert_oauth_error(token_request(refresh_form(third["refresh_token"])), 400, "invalid_grant")


def test_refresh_token_reuse_is_audited(initialized):
    first = issue_token(Client(), ADMIN_EMAIL, ADMIN_PASSWORD)
    token_request(refresh_form(first["refresh_token"]))
    token_request(refresh_form(first["refresh_token"]))
    assert AuditEntry.objects.filter(event_type="token.refresh.reused").count() == 1


def test_reuse_does_not_revoke_other_logins_of_the_same_user(initialized):
    stolen = issue_token(Client(), ADMIN_EMAIL, ADMIN_PASSWORD)
    other_login = issue_token(Client(), ADMIN_EMAIL, ADMIN_PASSWORD)
    token_request(refresh_form(stolen["refresh_token"]))
    token_request(refresh_form(stolen["refresh_token"]))
    assert token_request(refresh_form(other_login["refresh_token"])).status_code == 200


def test_a_refresh_token_cannot_be_redeemed_by_another_client(super_admin_org):
    OAuthClient.objects.create(
        organization=super_admin_org,
        application=Application.objects.get(slug="porta-admin"),
        client_id="other-cli",
        client_name="Other CLI",
        client_type="public",
        application_type="native",
        grant_types=["password", "refresh_token"],
        token_endpoint_auth_method="none",
    )
    first = issue_token(Client(), ADMIN_EMAIL, ADMIN_PASSWORD)
    form = {**refresh_form(first["refresh_token"]), "client_id": "other-cli"}
    assert_oauth_error(token_request(form), 400, "invalid_grant")


def test_an_unknown_refresh_token_is_invalid_grant(initialized):
    assert_oauth_error(token_request(refresh_form("not-a-refresh-token")), 400, "invalid_grant")


def test_refresh_cannot_widen_the_scope(initialized):
    first = token_request(password_form(scope="openid")).json()
    form = {**refresh_form(first["refresh_token"]), "scope": "openid email"}
    assert_oauth_error(token_request(form), 400, "invalid_scope")


def test_a_suspended_user_cannot_refresh(admin):
    first = issue_token(Client(), admin.email, PASSWORD)
    User.objects.filter(pk=admin.pk).update(status=UserStatus.SUSPENDED)
    assert_oauth_error(token_request(refresh_form(first["refresh_token"])), 400, "invalid_grant")


# -- auto-lockout ----------------------------------------------------------------------------------


def fail_logins(user: User, times: int) -> None:
    for _ in range(times):
        response = token_request(password_form(user.email, "wrong-password"))
        assert response.status_code == 400, response.content


def test_max_failed_logins_wrong_passwords_lock_the_account(admin, settings):
    settings.PORTA_MAX_FAILED_LOGINS = 3
    fail_logins(admin, 3)
    admin.refresh_from_db()
    assert admin.status == UserStatus.LOCKED


def test_fewer_wrong_passwords_than_the_limit_do_not_lock(admin, settings):
    settings.PORTA_MAX_FAILED_LOGINS = 3
    fail_logins(admin, 2)
    admin.refresh_from_db()
    assert admin.status == UserStatus.ACTIVE
    assert admin.failed_login_count == 2


def test_auto_lockout_writes_failed_login_and_locked_audit_entries(admin, settings):
    settings.PORTA_MAX_FAILED_LOGINS = 3
    fail_logins(admin, 3)
    about_admin = AuditEntry.objects.filter(target_type="user", target_id=str(admin.id))
    assert about_admin.filter(event_type="user.login.failed").count() == 3
    locked = about_admin.get(event_type="user.locked")
    assert locked.metadata["changes"]["status"] == {"before": "active", "after": "locked"}


def test_a_locked_account_is_refused_even_with_the_right_password(admin, settings):
    settings.PORTA_MAX_FAILED_LOGINS = 3
    fail_logins(admin, 3)
    body = assert_oauth_error(token_request(password_form(admin.email, PASSWORD)), 400, "invalid_grant")
    assert body["error_description"] == "Account is locked"


def test_a_locked_account_gives_the_same_answer_to_a_wrong_and_the_right_password(admin, settings):
    """Otherwise an attacker who locked the account could keep guessing and spot the right password."""
    settings.PORTA_MAX_FAILED_LOGINS = 3
    fail_logins(admin, 3)
    right = token_request(password_form(admin.email, PASSWORD))
    wrong = token_request(password_form(admin.email, "another-wrong-password"))
    assert (wrong.status_code, wrong.json()) == (right.status_code, right.json())


def test_a_successful_login_resets_the_failure_count(admin, settings):
    settings.PORTA_MAX_FAILED_LOGINS = 3
    fail_logins(admin, 2)
    assert token_request(password_form(admin.email, PASSWORD)).status_code == 200
    admin.refresh_from_db()
    assert admin.failed_login_count == 0


def test_failures_before_a_successful_login_do_not_count_towards_the_lock(admin, settings):
    settings.PORTA_MAX_FAILED_LOGINS = 3
    fail_logins(admin, 2)
    assert token_request(password_form(admin.email, PASSWORD)).status_code == 200
    fail_logins(admin, 2)
    assert token_request(password_form(admin.email, PASSWORD)).status_code == 200


def test_without_auto_lockout_wrong_passwords_never_lock(admin, settings):
    settings.PORTA_MAX_FAILED_LOGINS = 2
    settings.PORTA_AUTO_LOCKOUT = False
    fail_logins(admin, 3)
    assert token_request(password_form(admin.email, PASSWORD)).status_code == 200


# -- per-IP throttle -------------------------------------------------------------------------------


def fail_from(ip: str, times: int) -> None:
    for n in range(times):
        response = token_request(password_form(f"nobody{n}@example.com", "wrong"), REMOTE_ADDR=ip)
        assert response.status_code == 400, response.content


def test_too_many_failures_from_one_ip_answer_429_slow_down(initialized, settings):
    settings.PORTA_LOGIN_IP_LIMIT = 3
    fail_from("10.1.1.1", 3)
    response = token_request(password_form("nobody@example.com", "wrong"), REMOTE_ADDR="10.1.1.1")
    assert_oauth_error(response, 429, "slow_down")
    assert int(response["Retry-After"]) > 0


def test_a_throttled_ip_is_refused_even_with_the_right_password(initialized, settings):
    settings.PORTA_LOGIN_IP_LIMIT = 3
    fail_from("10.1.1.2", 3)
    assert_oauth_error(token_request(password_form(), REMOTE_ADDR="10.1.1.2"), 429, "slow_down")


def test_the_ip_throttle_does_not_affect_other_addresses(initialized, settings):
    settings.PORTA_LOGIN_IP_LIMIT = 3
    fail_from("10.1.1.3", 3)
    assert token_request(password_form(), REMOTE_ADDR="10.1.1.4").status_code == 200


def test_failures_below_the_ip_limit_are_not_throttled(initialized, settings):
    settings.PORTA_LOGIN_IP_LIMIT = 3
    fail_from("10.1.1.5", 2)
    assert token_request(password_form(), REMOTE_ADDR="10.1.1.5").status_code == 200


# -- per-account throttle --------------------------------------------------------------------------


def test_failures_against_one_account_from_many_ips_answer_429(admin, settings):
    settings.PORTA_LOGIN_ACCOUNT_LIMIT = 3
    settings.PORTA_AUTO_LOCKOUT = False
    for n in range(3):
        token_request(password_form(admin.email, "wrong"), REMOTE_ADDR=f"10.2.0.{n}")
    response = token_request(password_form(admin.email, PASSWORD), REMOTE_ADDR="10.2.0.99")
    assert_oauth_error(response, 429, "slow_down")
    assert "account" in response.json()["error_description"]


def test_the_account_throttle_does_not_affect_other_accounts(admin, settings):
    settings.PORTA_LOGIN_ACCOUNT_LIMIT = 3
    for n in range(3):
        token_request(password_form("someone-else@example.com", "wrong"), REMOTE_ADDR=f"10.3.0.{n}")
    assert token_request(password_form(admin.email, PASSWORD), REMOTE_ADDR="10.3.0.99").status_code == 200


# -- organization status ---------------------------------------------------------------------------


def test_a_tenant_token_endpoint_issues_tokens_for_its_own_users(tenant):
    response = token_request(tenant_form(), path="/tenant-org/auth/token")
    assert response.status_code == 200, response.content
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["iss"] == "http://testserver/tenant-org"


def test_a_suspended_organizations_token_endpoint_answers_403(tenant):
    Organization.objects.filter(pk=tenant.pk).update(status=OrganizationStatus.SUSPENDED)
    response = token_request(tenant_form(), path="/tenant-org/auth/token")
    assert_oauth_error(response, 403, "access_denied")


def test_an_archived_organizations_token_endpoint_answers_404(tenant):
    Organization.objects.filter(pk=tenant.pk).update(status=OrganizationStatus.ARCHIVED)
    response = token_request(tenant_form(), path="/tenant-org/auth/token")
    assert response.status_code == 404
    assert set(response.json()) == {"error", "error_description"}


def test_an_unknown_organizations_token_endpoint_answers_404(initialized):
    response = token_request(password_form(), path="/no-such-org/auth/token")
    assert response.status_code == 404
    assert set(response.json()) == {"error", "error_description"}


def test_a_suspended_organization_cannot_refresh_either(tenant):
    first = token_request(tenant_form(), path="/tenant-org/auth/token").json()
    Organization.objects.filter(pk=tenant.pk).update(status=OrganizationStatus.SUSPENDED)
    response = token_request(
        {"grant_type": "refresh_token", "client_id": "tenant-cli", "refresh_token": first["refresh_token"]},
        path="/tenant-org/auth/token",
    )
    assert response.status_code == 403
