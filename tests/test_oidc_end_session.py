"""RP-initiated logout at ``/<orgSlug>/auth/end-session`` (and ``/session/end``): a valid
``id_token_hint`` of this issuer ends the login at once; without one the person confirms first;
the browser goes back only to a ``post_logout_redirect_uri`` the client registered, exactly."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from audit.models import AuditEntry
from oidc.models import Session
from organizations.models import OrganizationStatus
from tests.oidc_flows import (
    WEB_REDIRECT,
    authorize_path,
    basic,
    browser,
    cli_params,
    csrf_token,
    make_tenant,
    pkce_pair,
    redirect_params,
)
from tests.oidc_tokens import claims_of, introspect, post, signed_by_keyring, tampered, user_tokens

pytestmark = pytest.mark.django_db

LOGGED_OUT = "http://127.0.0.1:8765/logged-out"


@pytest.fixture
def tenant(initialized):
    tenant = make_tenant("acme")
    tenant.cli.post_logout_redirect_uris = [LOGGED_OUT]
    tenant.cli.save(update_fields=["post_logout_redirect_uris"])
    return tenant


@pytest.fixture
def signed_in(tenant):
    """A browser signed in at acme, and the tokens its login gave the CLI client."""
    client = browser()
    return client, user_tokens(tenant, client=client)


def _end(client, slug: str = "acme", path: str = "auth/end-session", **params: str):
    return client.get(f"/{slug}/{path}?{urlencode(params)}")


def _login_is_remembered(client, tenant) -> bool:
    """Whether the browser still signs in without a password (the authorize page answers at once)."""
    _, challenge = pkce_pair()
    response = client.get(f"/acme/auth/authorize?{urlencode(cli_params(tenant, challenge))}")
    return response.status_code == 302


def _session():
    return Session.objects.get()


# -- with an id_token_hint ------------------------------------------------------------------------


def test_a_valid_hint_ends_the_session_and_redirects_with_the_state(tenant, signed_in):
    client, tokens = signed_in
    response = _end(
        client, id_token_hint=tokens["id_token"], post_logout_redirect_uri=LOGGED_OUT, state="bye-1"
    )
    location, query = redirect_params(response)
    assert location == LOGGED_OUT
    assert query == {"state": "bye-1"}
    assert _session().revoked_at is not None


def test_after_logout_the_browser_must_sign_in_again(tenant, signed_in):
    client, tokens = signed_in
    _end(client, id_token_hint=tokens["id_token"])
    assert _login_is_remembered(client, tenant) is False


def test_after_logout_the_logins_tokens_are_inactive(tenant, signed_in):
    client, tokens = signed_in
    _end(client, id_token_hint=tokens["id_token"])
    assert introspect(tenant, tokens["access_token"]).json()["active"] is False


def test_a_hint_ends_the_session_even_from_a_browser_without_the_login(tenant, signed_in):
    _client, tokens = signed_in
    response = _end(browser(), id_token_hint=tokens["id_token"])
    assert response.status_code == 200
    assert _session().revoked_at is not None


def test_without_a_redirect_uri_the_signed_out_page_is_shown(tenant, signed_in):
    client, tokens = signed_in
    response = _end(client, id_token_hint=tokens["id_token"])
    assert response.status_code == 200
    assert b'id="signed-out"' in response.content


def test_an_unregistered_redirect_uri_is_not_followed(tenant, signed_in):
    client, tokens = signed_in
    response = _end(
        client, id_token_hint=tokens["id_token"], post_logout_redirect_uri="https://evil.example/"
    )
    assert response.status_code == 200
    assert b'id="signed-out"' in response.content


def test_a_redirect_uri_differing_only_in_its_query_is_not_followed(tenant, signed_in):
    client, tokens = signed_in
    response = _end(client, id_token_hint=tokens["id_token"], post_logout_redirect_uri=LOGGED_OUT + "?next=x")
    assert response.status_code == 200


def test_another_clients_registered_uri_is_not_followed(tenant, signed_in):
    client, tokens = signed_in
    tenant.web.post_logout_redirect_uris = ["https://app.example.com/bye"]
    tenant.web.save(update_fields=["post_logout_redirect_uris"])
    response = _end(
        client, id_token_hint=tokens["id_token"], post_logout_redirect_uri="https://app.example.com/bye"
    )
    assert response.status_code == 200


def test_a_hint_of_another_organization_is_refused_and_ends_nothing(tenant, signed_in):
    globex = make_tenant("globex")
    globex_tokens = user_tokens(globex)
    client, _tokens = signed_in
    response = _end(client, id_token_hint=globex_tokens["id_token"], post_logout_redirect_uri=LOGGED_OUT)
    assert response.status_code == 400
    assert not Session.objects.filter(revoked_at__isnull=False).exists()


def test_a_tampered_hint_is_refused_without_redirect(tenant, signed_in):
    client, tokens = signed_in
    forged = tampered(tokens["id_token"], sub="someone-else")
    response = _end(client, id_token_hint=forged, post_logout_redirect_uri=LOGGED_OUT)
    assert response.status_code == 400
    assert _session().revoked_at is None


def test_an_access_token_is_not_accepted_as_the_hint(tenant, signed_in):
    client, tokens = signed_in
    response = _end(client, id_token_hint=tokens["access_token"], post_logout_redirect_uri=LOGGED_OUT)
    assert response.status_code == 400
    assert _session().revoked_at is None


def test_a_hint_that_is_not_a_jwt_is_refused(tenant, signed_in):
    client, _tokens = signed_in
    assert _end(client, id_token_hint="garbage").status_code == 400


def test_a_client_id_that_is_not_the_hints_audience_is_refused(tenant, signed_in):
    client, tokens = signed_in
    response = _end(client, id_token_hint=tokens["id_token"], client_id="acme-web")
    assert response.status_code == 400
    assert _session().revoked_at is None


def test_an_expired_hint_is_still_accepted(tenant, signed_in):
    client, tokens = signed_in
    claims = {**claims_of(tokens["id_token"]), "exp": 1_000_000_000, "iat": 999_999_000}
    response = _end(
        client, id_token_hint=signed_by_keyring(claims, typ="JWT"), post_logout_redirect_uri=LOGGED_OUT
    )
    assert response.status_code == 302
    assert _session().revoked_at is not None


def test_a_hint_for_another_user_leaves_the_browsers_own_login_alone(tenant, signed_in):
    from organizations.models import User
    from tests.oidc_flows import PASSWORD

    other = User(organization=tenant.organization, email="grace@acme.example", given_name="Grace")
    other.set_password(PASSWORD)
    other.save()
    tenant.user, owner = other, tenant.user
    other_tokens = user_tokens(tenant)
    tenant.user = owner
    client, _tokens = signed_in
    _end(client, id_token_hint=other_tokens["id_token"])
    assert Session.objects.get(user=other).revoked_at is not None
    assert Session.objects.get(user=owner).revoked_at is None
    assert _login_is_remembered(client, tenant) is True


def test_the_logout_is_audited_on_the_user(tenant, signed_in):
    client, tokens = signed_in
    _end(client, id_token_hint=tokens["id_token"])
    entry = AuditEntry.objects.get(event_type="user.logout")
    assert entry.target_id == str(tenant.user.id)
    assert entry.metadata["sessionIds"] == [str(_session().id)]
    assert entry.metadata["clientId"] == "acme-cli"


def test_the_upstream_alias_ends_the_session_too(tenant, signed_in):
    client, tokens = signed_in
    response = _end(
        client, path="session/end", id_token_hint=tokens["id_token"], post_logout_redirect_uri=LOGGED_OUT
    )
    assert response.status_code == 302
    assert _session().revoked_at is not None


def test_a_relying_party_may_post_the_logout_request(tenant, signed_in):
    client, tokens = signed_in
    response = client.post("/acme/auth/end-session", {"id_token_hint": tokens["id_token"]})
    assert response.status_code == 200
    assert _session().revoked_at is not None


def _single_sign_on_to_web(client, tenant) -> dict:
    """The signed-in browser authorizes the web client without a password; its tokens."""
    params = {
        "response_type": "code",
        "client_id": "acme-web",
        "redirect_uri": WEB_REDIRECT,
        "scope": "openid",
    }
    _, query = redirect_params(client.get(authorize_path("acme", params)))
    response = post(
        "/acme/auth/token",
        {"grant_type": "authorization_code", "code": query["code"], "redirect_uri": WEB_REDIRECT},
        HTTP_AUTHORIZATION=basic("acme-web", tenant.web_secret),
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_logging_out_ends_the_sessions_single_sign_on_started_for_other_clients(tenant, signed_in):
    client, tokens = signed_in
    web_tokens = _single_sign_on_to_web(client, tenant)
    _end(client, id_token_hint=tokens["id_token"])
    assert introspect(tenant, web_tokens["access_token"]).json()["active"] is False


def test_logging_out_leaves_the_users_logins_in_other_browsers_alone(tenant, signed_in):
    client, tokens = signed_in
    elsewhere = user_tokens(tenant)
    _end(client, id_token_hint=tokens["id_token"])
    assert introspect(tenant, elsewhere["access_token"]).json()["active"] is True


# -- without a hint: the person confirms -----------------------------------------------------------


def test_without_a_hint_a_signed_in_browser_is_asked_to_confirm(tenant, signed_in):
    client, _tokens = signed_in
    response = _end(client, client_id="acme-cli", post_logout_redirect_uri=LOGGED_OUT)
    assert response.status_code == 200
    assert b'id="logout-form"' in response.content
    assert _session().revoked_at is None


def test_confirming_ends_the_session_and_returns_to_the_registered_uri(tenant, signed_in):
    client, _tokens = signed_in
    page = _end(client, client_id="acme-cli", post_logout_redirect_uri=LOGGED_OUT, state="s2")
    response = client.post(
        "/acme/auth/end-session",
        {
            "csrfmiddlewaretoken": csrf_token(page.content),
            "action": "logout",
            "client_id": "acme-cli",
            "post_logout_redirect_uri": LOGGED_OUT,
            "state": "s2",
        },
    )
    location, query = redirect_params(response)
    assert (location, query) == (LOGGED_OUT, {"state": "s2"})
    assert _session().revoked_at is not None
    assert _login_is_remembered(client, tenant) is False


def test_a_confirmation_without_the_csrf_token_ends_nothing(tenant, signed_in):
    client, _tokens = signed_in
    response = client.post(
        "/acme/auth/end-session",
        {"action": "logout", "client_id": "acme-cli", "post_logout_redirect_uri": LOGGED_OUT},
    )
    assert response.status_code == 200
    assert b'id="logout-form"' in response.content
    assert _session().revoked_at is None


def test_without_a_hint_or_a_login_the_signed_out_page_is_shown(tenant):
    response = _end(browser(), client_id="acme-cli", post_logout_redirect_uri=LOGGED_OUT)
    assert response.status_code == 200
    assert b'id="signed-out"' in response.content


# -- the organization and the page ----------------------------------------------------------------


def test_the_pages_speak_the_organizations_language(initialized):
    tenant = make_tenant("kunde", locale="de")
    client = browser()
    user_tokens(tenant, client=client)
    response = _end(client, slug="kunde", client_id="kunde-cli")
    assert "Von Kunde abmelden?" in response.content.decode()


def test_a_suspended_organization_answers_403(tenant):
    tenant.organization.status = OrganizationStatus.SUSPENDED
    tenant.organization.save(update_fields=["status"])
    assert _end(browser()).status_code == 403


def test_an_unknown_organization_answers_404(tenant):
    assert _end(browser(), slug="nowhere").status_code == 404


def test_end_session_is_rate_limited_per_ip(tenant, settings):
    settings.PORTA_OIDC_IP_LIMIT = 2
    statuses = [_end(browser()).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_put_is_not_allowed(tenant):
    response = browser().put("/acme/auth/end-session")
    assert response.status_code == 405
