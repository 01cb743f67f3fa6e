"""``/<org>/auth/authorize`` and the authorization-code grant: login page, PKCE, redirect URIs,
single-use codes, statuses of organization, client and user."""

from __future__ import annotations

import jwt
import pytest

from applications.models import ClientStatus
from audit.models import AuditEntry
from oidc.models import RefreshToken, Session
from organizations.models import OrganizationStatus, UserStatus
from tests.oidc_flows import (
    CLI_REDIRECT,
    PASSWORD,
    WEB_REDIRECT,
    authorize_path,
    basic,
    browser,
    cli_params,
    code_for_cli,
    csrf_token,
    exchange_cli,
    make_tenant,
    pkce_pair,
    redirect_params,
    submit_login,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant(initialized):
    return make_tenant("acme")


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


# -- the happy path ------------------------------------------------------------------------------


def test_a_public_client_gets_tokens_for_a_code_and_its_verifier(tenant):
    client = browser()
    code, verifier = code_for_cli(client, tenant, nonce="n-123")
    response = exchange_cli(client, tenant, code, verifier)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["refresh_token"]
    id_claims = _claims(body["id_token"])
    assert id_claims["sub"] == str(tenant.user.id)
    assert id_claims["aud"] == tenant.cli.client_id
    assert id_claims["nonce"] == "n-123"
    assert id_claims["iss"].endswith("/acme")
    assert _claims(body["access_token"])["sid"] == id_claims["sid"]


def test_the_redirect_carries_the_state_back(tenant):
    verifier, challenge = pkce_pair()
    response = submit_login(
        browser(), "acme", cli_params(tenant, challenge, state="xyz"), tenant.user.email, PASSWORD
    )
    base, query = redirect_params(response)
    assert base == CLI_REDIRECT
    assert query["state"] == "xyz"
    assert query["code"]


def test_a_login_starts_a_session_and_is_audited(tenant):
    code_for_cli(browser(), tenant)
    session = Session.objects.get(user=tenant.user)
    assert session.client_id == tenant.cli.id
    entry = AuditEntry.objects.filter(event_type="user.login", target_id=str(tenant.user.id)).latest(
        "created_at"
    )
    assert entry.metadata["channel"] == "login_page"


def test_a_signed_in_browser_gets_a_code_without_the_login_page(tenant):
    client = browser()
    code_for_cli(client, tenant)
    _, challenge = pkce_pair()
    response = client.get(authorize_path("acme", cli_params(tenant, challenge)))
    _, query = redirect_params(response)
    assert query["code"]


def test_prompt_login_asks_for_the_password_again(tenant):
    client = browser()
    code_for_cli(client, tenant)
    _, challenge = pkce_pair()
    response = client.get(authorize_path("acme", cli_params(tenant, challenge, prompt="login")))
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_prompt_none_without_a_login_answers_login_required_at_the_client(tenant):
    _, challenge = pkce_pair()
    response = browser().get(authorize_path("acme", cli_params(tenant, challenge, prompt="none")))
    _, query = redirect_params(response)
    assert query["error"] == "login_required"
    assert query["state"] == "st-1"


def test_a_confidential_client_exchanges_its_code_with_basic_authentication(tenant):
    client = browser()
    params = {
        "response_type": "code",
        "client_id": "acme-web",
        "redirect_uri": WEB_REDIRECT,
        "scope": "openid",
    }
    _, query = redirect_params(submit_login(client, "acme", params, tenant.user.email, PASSWORD))
    response = client.post(
        "/acme/auth/token",
        f"grant_type=authorization_code&code={query['code']}&redirect_uri={WEB_REDIRECT}",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic("acme-web", tenant.web_secret),
    )
    assert response.status_code == 200, response.content
    assert response.json()["id_token"]


# -- consent -----------------------------------------------------------------------------------------


def test_prompt_consent_shows_the_consent_page_after_login(tenant):
    _, challenge = pkce_pair()
    response = submit_login(
        browser(), "acme", cli_params(tenant, challenge, prompt="consent"), tenant.user.email, PASSWORD
    )
    assert response.status_code == 200
    assert b'value="allow"' in response.content


def test_denying_consent_sends_access_denied_to_the_client(tenant):
    client = browser()
    _, challenge = pkce_pair()
    params = cli_params(tenant, challenge, prompt="consent")
    page = submit_login(client, "acme", params, tenant.user.email, PASSWORD)
    response = client.post(
        authorize_path("acme", params), {"csrfmiddlewaretoken": csrf_token(page.content), "action": "deny"}
    )
    _, query = redirect_params(response)
    assert query["error"] == "access_denied"


def test_allowing_consent_sends_a_code(tenant):
    client = browser()
    _, challenge = pkce_pair()
    params = cli_params(tenant, challenge, prompt="consent")
    page = submit_login(client, "acme", params, tenant.user.email, PASSWORD)
    response = client.post(
        authorize_path("acme", params), {"csrfmiddlewaretoken": csrf_token(page.content), "action": "allow"}
    )
    assert redirect_params(response)[1]["code"]


# -- PKCE ----------------------------------------------------------------------------------------


def test_a_public_client_without_a_code_challenge_is_refused(tenant):
    params = cli_params(tenant, "x")
    del params["code_challenge"], params["code_challenge_method"]
    _, query = redirect_params(browser().get(authorize_path("acme", params)))
    assert query["error"] == "invalid_request"
    assert "code_challenge" in query["error_description"]


def test_the_plain_challenge_method_is_refused(tenant):
    verifier, _ = pkce_pair()
    params = cli_params(tenant, verifier, code_challenge_method="plain")
    _, query = redirect_params(browser().get(authorize_path("acme", params)))
    assert query["error"] == "invalid_request"
    assert "S256" in query["error_description"]


def test_a_challenge_without_a_method_is_refused_as_plain(tenant):
    _, challenge = pkce_pair()
    params = cli_params(tenant, challenge)
    del params["code_challenge_method"]
    _, query = redirect_params(browser().get(authorize_path("acme", params)))
    assert query["error"] == "invalid_request"


def test_a_wrong_verifier_gets_invalid_grant(tenant):
    client = browser()
    code, _ = code_for_cli(client, tenant)
    other, _ = pkce_pair()
    response = exchange_cli(client, tenant, code, other)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_missing_verifier_is_refused(tenant):
    client = browser()
    code, _ = code_for_cli(client, tenant)
    response = exchange_cli(client, tenant, code, "")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


# -- codes ---------------------------------------------------------------------------------------


def test_a_code_works_once(tenant):
    client = browser()
    code, verifier = code_for_cli(client, tenant)
    assert exchange_cli(client, tenant, code, verifier).status_code == 200
    again = exchange_cli(client, tenant, code, verifier)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_a_reused_code_revokes_the_tokens_it_was_exchanged_for_and_the_session(tenant):
    client = browser()
    code, verifier = code_for_cli(client, tenant)
    first = exchange_cli(client, tenant, code, verifier).json()
    exchange_cli(client, tenant, code, verifier)
    assert RefreshToken.objects.filter(revoked_at__isnull=True).count() == 0
    assert Session.objects.get(pk=_claims(first["access_token"])["sid"]).revoked_at is not None
    refreshed = client.post(
        "/acme/auth/token",
        f"grant_type=refresh_token&refresh_token={first['refresh_token']}&client_id={tenant.cli.client_id}",
        content_type="application/x-www-form-urlencoded",
    )
    assert refreshed.json()["error"] == "invalid_grant"


def test_a_code_is_bound_to_the_redirect_uri_it_was_issued_for(tenant):
    client = browser()
    code, verifier = code_for_cli(client, tenant)
    response = exchange_cli(client, tenant, code, verifier, redirect_uri="http://127.0.0.1:9999/callback")
    assert response.json()["error"] == "invalid_grant"


def test_a_code_cannot_be_redeemed_by_another_client(tenant):
    client = browser()
    code, verifier = code_for_cli(client, tenant)
    response = client.post(
        "/acme/auth/token",
        f"grant_type=authorization_code&code={code}&redirect_uri={CLI_REDIRECT}&code_verifier={verifier}",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic("acme-web", tenant.web_secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_refresh_token_from_a_code_rotates(tenant):
    client = browser()
    code, verifier = code_for_cli(client, tenant)
    tokens = exchange_cli(client, tenant, code, verifier).json()
    response = client.post(
        "/acme/auth/token",
        f"grant_type=refresh_token&refresh_token={tokens['refresh_token']}&client_id={tenant.cli.client_id}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert response.json()["refresh_token"] != tokens["refresh_token"]


# -- redirect URIs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "https://evil.example/callback",
        "https://app.example.com/callback/../evil",
        "https://app.example.com/callback?next=https://evil.example",
        "https://app.example.com/callbackx",
        "https://app.example.com.evil.example/callback",
        "http://app.example.com/callback",
    ],
)
def test_an_unregistered_redirect_uri_is_shown_an_error_page_never_redirected_to(tenant, uri):
    params = {"response_type": "code", "client_id": "acme-web", "redirect_uri": uri, "state": "s"}
    response = browser().get(authorize_path("acme", params))
    assert response.status_code == 400
    assert not response.has_header("Location")
    assert b"not supported by client" in response.content


def test_an_unknown_client_is_shown_an_error_page(tenant):
    params = {"response_type": "code", "client_id": "nope", "redirect_uri": WEB_REDIRECT}
    response = browser().get(authorize_path("acme", params))
    assert response.status_code == 400
    assert not response.has_header("Location")


def test_a_native_client_may_use_any_port_on_the_loopback_ip(tenant):
    _, challenge = pkce_pair()
    params = cli_params(tenant, challenge, redirect_uri="http://127.0.0.1:49152/callback")
    response = submit_login(browser(), "acme", params, tenant.user.email, PASSWORD)
    base, query = redirect_params(response)
    assert base == "http://127.0.0.1:49152/callback"
    assert query["code"]


def test_a_native_client_may_not_change_the_loopback_path(tenant):
    _, challenge = pkce_pair()
    params = cli_params(tenant, challenge, redirect_uri="http://127.0.0.1:49152/other")
    assert browser().get(authorize_path("acme", params)).status_code == 400


def test_localhost_gets_no_port_latitude(tenant):
    _, challenge = pkce_pair()
    params = cli_params(tenant, challenge, redirect_uri="http://localhost:49152/callback")
    assert browser().get(authorize_path("acme", params)).status_code == 400


def test_a_web_client_gets_no_port_latitude(initialized):
    make_tenant("webco")
    params = {
        "response_type": "code",
        "client_id": "webco-web",
        "redirect_uri": "https://app.example.com:444/callback",
    }
    assert browser().get(authorize_path("webco", params)).status_code == 400


# -- login page ----------------------------------------------------------------------------------


def test_the_login_form_needs_its_csrf_token(tenant):
    _, challenge = pkce_pair()
    path = authorize_path("acme", cli_params(tenant, challenge))
    client = browser()
    client.get(path)
    response = client.post(path, {"action": "login", "email": tenant.user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert not Session.objects.filter(user=tenant.user).exists()


def test_a_wrong_password_shows_the_form_again_with_an_error(tenant):
    _, challenge = pkce_pair()
    response = submit_login(browser(), "acme", cli_params(tenant, challenge), tenant.user.email, "wrong")
    assert response.status_code == 400
    assert b"Invalid email or password." in response.content
    assert not response.has_header("Location")


def test_the_login_page_speaks_the_organizations_default_locale(initialized):
    tenant = make_tenant("berlin", locale="de")
    _, challenge = pkce_pair()
    response = submit_login(browser(), "berlin", cli_params(tenant, challenge), tenant.user.email, "wrong")
    assert b'lang="de"' in response.content
    assert b"E-Mail oder Passwort ist falsch." in response.content


def test_ui_locales_can_pick_another_supported_language(tenant):
    _, challenge = pkce_pair()
    response = browser().get(authorize_path("acme", cli_params(tenant, challenge, ui_locales="de-CH en")))
    assert b"Bei Acme anmelden" in response.content


def test_the_login_page_carries_the_organizations_branding(initialized):
    tenant = make_tenant(
        "brandco",
        branding_company_name="Brand & Co",
        branding_logo_url="https://cdn.example/logo.png",
        branding_primary_color="#ff0066",
        branding_custom_css="body{color:red}</style><script>alert(1)</script>",
    )
    _, challenge = pkce_pair()
    response = browser().get(authorize_path("brandco", cli_params(tenant, challenge)))
    html = response.content.decode()
    assert 'src="https://cdn.example/logo.png"' in html
    assert 'alt="Brand &amp; Co"' in html
    assert "#ff0066" in html
    assert "<script>" not in html


def test_failed_logins_lock_the_account(tenant, settings):
    settings.PORTA_MAX_FAILED_LOGINS = 3
    _, challenge = pkce_pair()
    for _ in range(3):
        submit_login(browser(), "acme", cli_params(tenant, challenge), tenant.user.email, "wrong")
    tenant.user.refresh_from_db()
    assert tenant.user.status == UserStatus.LOCKED
    response = submit_login(browser(), "acme", cli_params(tenant, challenge), tenant.user.email, PASSWORD)
    assert response.status_code == 400
    assert b"This account is locked." in response.content


def test_failed_logins_are_throttled_per_ip(tenant, settings):
    settings.PORTA_LOGIN_IP_LIMIT = 2
    _, challenge = pkce_pair()
    for n in range(2):
        submit_login(browser(), "acme", cli_params(tenant, challenge), f"nobody{n}@acme.example", "wrong")
    response = submit_login(browser(), "acme", cli_params(tenant, challenge), tenant.user.email, PASSWORD)
    assert response.status_code == 429
    assert response.has_header("Retry-After")


@pytest.mark.parametrize("status", [UserStatus.INACTIVE, UserStatus.SUSPENDED])
def test_a_user_who_is_not_active_cannot_sign_in(tenant, status):
    tenant.user.status = status
    tenant.user.save(update_fields=["status"])
    _, challenge = pkce_pair()
    response = submit_login(browser(), "acme", cli_params(tenant, challenge), tenant.user.email, PASSWORD)
    assert response.status_code == 400
    assert b"This account is not active." in response.content


def test_a_user_of_another_organization_cannot_sign_in_here(tenant):
    other = make_tenant("other")
    _, challenge = pkce_pair()
    response = submit_login(browser(), "acme", cli_params(tenant, challenge), other.user.email, PASSWORD)
    assert response.status_code == 400


def test_a_suspended_users_browser_login_stops_giving_codes(tenant):
    client = browser()
    code_for_cli(client, tenant)
    tenant.user.status = UserStatus.SUSPENDED
    tenant.user.save(update_fields=["status"])
    _, challenge = pkce_pair()
    response = client.get(authorize_path("acme", cli_params(tenant, challenge)))
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_a_code_of_a_user_suspended_since_is_refused(tenant):
    client = browser()
    code, verifier = code_for_cli(client, tenant)
    tenant.user.status = UserStatus.SUSPENDED
    tenant.user.save(update_fields=["status"])
    assert exchange_cli(client, tenant, code, verifier).json()["error"] == "invalid_grant"


# -- organization and client status --------------------------------------------------------------


def test_a_suspended_organization_answers_403_at_authorize(tenant):
    tenant.organization.status = OrganizationStatus.SUSPENDED
    tenant.organization.save(update_fields=["status"])
    _, challenge = pkce_pair()
    response = browser().get(authorize_path("acme", cli_params(tenant, challenge)))
    assert response.status_code == 403
    assert not response.has_header("Location")


def test_an_archived_organization_answers_404_at_authorize(tenant):
    tenant.organization.status = OrganizationStatus.ARCHIVED
    tenant.organization.save(update_fields=["status"])
    _, challenge = pkce_pair()
    assert browser().get(authorize_path("acme", cli_params(tenant, challenge))).status_code == 404


def test_a_disabled_client_cannot_start_a_login(tenant):
    tenant.cli.status = ClientStatus.INACTIVE
    tenant.cli.save(update_fields=["status"])
    _, challenge = pkce_pair()
    response = browser().get(authorize_path("acme", cli_params(tenant, challenge)))
    assert response.status_code == 400
    assert not response.has_header("Location")


def test_a_client_disabled_after_the_code_cannot_redeem_it(tenant):
    client = browser()
    code, verifier = code_for_cli(client, tenant)
    tenant.cli.status = ClientStatus.INACTIVE
    tenant.cli.save(update_fields=["status"])
    response = exchange_cli(client, tenant, code, verifier)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_a_client_of_another_organization_is_unknown_here(tenant):
    make_tenant("other")
    _, challenge = pkce_pair()
    params = cli_params(tenant, challenge, client_id="other-cli")
    response = browser().get(authorize_path("acme", params))
    assert response.status_code == 400
    assert not response.has_header("Location")


def test_the_upstream_alias_serves_the_login_page(tenant):
    _, challenge = pkce_pair()
    from urllib.parse import urlencode

    response = browser().get(f"/acme/auth?{urlencode(cli_params(tenant, challenge))}")
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_a_redirect_uri_named_at_authorize_must_be_named_at_the_token_endpoint(tenant):
    client = browser()
    code, verifier = code_for_cli(client, tenant)
    response = exchange_cli(client, tenant, code, verifier, redirect_uri="")
    assert response.json()["error"] == "invalid_grant"


def test_a_client_with_one_redirect_uri_may_leave_it_implied_in_both_requests(tenant):
    client = browser()
    params = {"response_type": "code", "client_id": "acme-web", "scope": "openid"}
    base, query = redirect_params(submit_login(client, "acme", params, tenant.user.email, PASSWORD))
    assert base == WEB_REDIRECT
    response = client.post(
        "/acme/auth/token",
        f"grant_type=authorization_code&code={query['code']}",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic("acme-web", tenant.web_secret),
    )
    assert response.status_code == 200, response.content


def test_a_method_the_authorize_endpoint_does_not_serve_is_405(tenant):
    response = browser().put("/acme/auth/authorize")
    assert response.status_code == 405
    assert response["Allow"] == "GET, POST"


def test_a_nul_character_in_the_authorization_request_is_a_400_page(tenant):
    response = browser().get("/acme/auth/authorize?response_type=code&client_id=acme%00cli")
    assert response.status_code == 400
    assert not response.has_header("Location")


def test_a_nul_character_in_basic_credentials_is_invalid_client(tenant):
    response = browser().post(
        "/acme/auth/token",
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic("acme\x00web", "secret"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def _revoke(session: Session) -> None:
    from oidc.session_services import session_revoke
    from porta.core.context import Actor

    session_revoke(actor=Actor.system("tests"), session=session)


def test_revoking_the_login_session_ends_the_browsers_sign_in(tenant):
    client = browser()
    code_for_cli(client, tenant)
    _revoke(Session.objects.get(user=tenant.user))
    _, challenge = pkce_pair()
    response = client.get(authorize_path("acme", cli_params(tenant, challenge)))
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_a_code_whose_session_was_revoked_is_refused(tenant):
    client = browser()
    code, verifier = code_for_cli(client, tenant)
    _revoke(Session.objects.get(user=tenant.user))
    response = exchange_cli(client, tenant, code, verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_sign_in_at_one_organization_is_not_one_at_another(tenant):
    other = make_tenant("other")
    client = browser()
    code_for_cli(client, tenant)
    _, challenge = pkce_pair()
    response = client.get(authorize_path("other", cli_params(other, challenge)))
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_single_sign_on_to_a_second_client_starts_its_own_session(tenant):
    client = browser()
    code_for_cli(client, tenant)
    params = {
        "response_type": "code",
        "client_id": "acme-web",
        "redirect_uri": WEB_REDIRECT,
        "scope": "openid",
    }
    _, query = redirect_params(client.get(authorize_path("acme", params)))
    assert query["code"]
    assert Session.objects.filter(user=tenant.user, client=tenant.web).count() == 1


def test_a_client_without_password_login_offers_no_password_form(tenant):
    tenant.cli.login_methods = ["magic_link"]
    tenant.cli.save(update_fields=["login_methods"])
    _, challenge = pkce_pair()
    response = browser().get(authorize_path("acme", cli_params(tenant, challenge)))
    assert b'name="password"' not in response.content
    assert b"does not offer sign-in with a password" in response.content


def test_the_implicit_response_type_is_unsupported_at_the_client(tenant):
    _, challenge = pkce_pair()
    _, query = redirect_params(
        browser().get(authorize_path("acme", cli_params(tenant, challenge, response_type="token")))
    )
    assert query["error"] == "unsupported_response_type"


def test_a_scope_beyond_the_clients_is_invalid_scope_at_the_client(tenant):
    _, challenge = pkce_pair()
    _, query = redirect_params(
        browser().get(authorize_path("acme", cli_params(tenant, challenge, scope="openid admin")))
    )
    assert query["error"] == "invalid_scope"


def test_an_expired_code_is_refused(tenant, settings):
    settings.PORTA_AUTH_CODE_TTL = 0
    client = browser()
    code, verifier = code_for_cli(client, tenant)
    response = exchange_cli(client, tenant, code, verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_repeated_parameter_is_refused(tenant):
    _, challenge = pkce_pair()
    path = authorize_path("acme", cli_params(tenant, challenge)) + "&client_id=acme-web"
    response = browser().get(path)
    assert response.status_code in (302, 400)
    assert not response.get("Location", "").startswith(WEB_REDIRECT)


def test_max_age_zero_asks_a_signed_in_user_for_the_password_again(tenant):
    client = browser()
    code_for_cli(client, tenant)
    _, challenge = pkce_pair()
    response = client.get(authorize_path("acme", cli_params(tenant, challenge, max_age="0")))
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_login_hint_fills_in_the_email(tenant):
    _, challenge = pkce_pair()
    response = browser().get(
        authorize_path("acme", cli_params(tenant, challenge, login_hint="ada@acme.example"))
    )
    assert b'value="ada@acme.example"' in response.content


def test_failed_logins_are_throttled_per_account_across_addresses(tenant, settings):
    settings.PORTA_LOGIN_ACCOUNT_LIMIT = 2
    _, challenge = pkce_pair()
    params = cli_params(tenant, challenge)
    for n in range(2):
        submit_login(browser(), "acme", params, tenant.user.email, "wrong", REMOTE_ADDR=f"10.0.0.{n + 1}")
    response = submit_login(browser(), "acme", params, tenant.user.email, PASSWORD, REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 429
    assert b"Too many failed attempts" in response.content
