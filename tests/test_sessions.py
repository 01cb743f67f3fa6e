"""Login sessions (contract §3 Sessions): created by the token endpoint, carried in access tokens
as ``sid``, listed, revoked and extended through the admin API, and enforced on the next request."""

from __future__ import annotations

import datetime
import uuid

import jwt
import pytest
import redis as redis_lib
from django.test import Client, override_settings
from django.utils import timezone

from audit.models import AuditEntry
from oidc.models import RefreshToken, Session
from oidc.session_services import sessions_purge
from organizations.models import User
from porta.core import versions
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, TENANT_PASSWORD, ApiClient, post_form

SESSIONS = "/api/admin/sessions"
TOKEN_PATH = "/porta-admin/auth/token"


def login(
    email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD, org: str = "porta-admin", **headers: str
) -> dict:
    client_id = "porta-cli" if org == "porta-admin" else "tenant-cli"
    response = post_form(
        Client(),
        f"/{org}/auth/token",
        {"grant_type": "password", "client_id": client_id, "username": email, "password": password},
        **headers,
    )
    assert response.status_code == 200, response.content
    return response.json()


def refresh(refresh_token: str):
    return post_form(
        Client(),
        TOKEN_PATH,
        {"grant_type": "refresh_token", "client_id": "porta-cli", "refresh_token": refresh_token},
    )


def sid_of(access_token: str) -> str:
    return jwt.decode(access_token, options={"verify_signature": False})["sid"]


@pytest.fixture
def other_admin(make_admin) -> User:
    return make_admin("porta-super-admin", email="other@example.com", password="other-password-1")


# -- created by the token endpoint -----------------------------------------------------------------


def test_a_password_login_creates_a_session_named_by_the_access_token(super_admin, super_admin_org):
    body = login(HTTP_USER_AGENT="porta-cli/1.0")
    session = Session.objects.get(pk=sid_of(body["access_token"]))
    assert session.user_id == super_admin.id
    assert session.organization_id == super_admin_org.id
    assert session.client.client_id == "porta-cli"
    assert session.ip_address == "127.0.0.1"
    assert session.user_agent == "porta-cli/1.0"
    assert session.revoked_at is None
    assert session.expires_at - session.created_at == datetime.timedelta(hours=24)
    assert RefreshToken.objects.get(session=session).family_id


@override_settings(PORTA_SESSION_LIFESPAN=3600)
def test_the_session_lifespan_is_a_setting(initialized):
    session = Session.objects.get(pk=sid_of(login()["access_token"]))
    assert session.expires_at - session.created_at == datetime.timedelta(hours=1)


def test_each_login_is_its_own_session(initialized):
    assert sid_of(login()["access_token"]) != sid_of(login()["access_token"])
    assert Session.objects.count() == 2


def test_a_refresh_keeps_the_session_and_records_activity(initialized):
    first = login()
    session = Session.objects.get(pk=sid_of(first["access_token"]))
    response = refresh(first["refresh_token"])
    assert response.status_code == 200, response.content
    assert sid_of(response.json()["access_token"]) == str(session.id)
    assert Session.objects.get(pk=session.pk).last_activity_at > session.last_activity_at
    assert Session.objects.count() == 1


def test_an_access_token_never_outlives_its_session(initialized):
    first = login()
    Session.objects.update(expires_at=timezone.now() + datetime.timedelta(seconds=120))
    body = refresh(first["refresh_token"]).json()
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert body["expires_in"] <= 120
    assert claims["exp"] - claims["iat"] == body["expires_in"]


def test_a_refresh_token_from_before_sessions_is_adopted_into_a_new_session(initialized):
    first = login()
    RefreshToken.objects.update(session=None)
    Session.objects.all().delete()
    response = refresh(first["refresh_token"])
    assert response.status_code == 200, response.content
    assert Session.objects.filter(pk=sid_of(response.json()["access_token"])).exists()


# -- revocation ------------------------------------------------------------------------------------


def test_a_revoked_sessions_access_token_fails_on_the_next_request(api, other_admin):
    victim = login("other@example.com", "other-password-1")
    victim_api = ApiClient(Client(), victim["access_token"])
    assert victim_api.get(SESSIONS).status_code == 200

    response = api.delete(f"{SESSIONS}/{sid_of(victim['access_token'])}")
    assert response.status_code == 204, response.content

    response = victim_api.get(SESSIONS)
    assert response.status_code == 401
    assert response.json()["error"] == "Unauthorized"


def test_reusing_a_spent_refresh_token_revokes_the_session_and_its_access_tokens(initialized):
    first = login()
    second = refresh(first["refresh_token"]).json()
    thief = ApiClient(Client(), second["access_token"])
    assert thief.get(SESSIONS).status_code == 200

    assert refresh(first["refresh_token"]).status_code == 400  # the spent token, presented again

    assert thief.get(SESSIONS).status_code == 401
    assert Session.objects.get(pk=sid_of(first["access_token"])).revoked_at is not None
    entry = AuditEntry.objects.get(event_type="token.refresh.reused")
    assert entry.metadata["sessionRevoked"] is True


def test_a_revoked_sessions_refresh_token_is_refused(api, other_admin):
    victim = login("other@example.com", "other-password-1")
    api.delete(f"{SESSIONS}/{sid_of(victim['access_token'])}")
    response = refresh(victim["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert not AuditEntry.objects.filter(event_type="token.refresh.reused").exists()


def test_revoking_a_session_revokes_its_refresh_tokens_and_is_audited(api, other_admin):
    victim = login("other@example.com", "other-password-1")
    sid = sid_of(victim["access_token"])
    api.delete(f"{SESSIONS}/{sid}")
    assert not RefreshToken.objects.filter(session_id=sid, revoked_at__isnull=True).exists()
    entry = AuditEntry.objects.get(event_type="session.revoked")
    assert entry.target_id == sid
    assert entry.organization_id == other_admin.organization_id
    assert entry.metadata["userId"] == str(other_admin.id)


def test_revoking_one_session_leaves_the_users_other_sessions_working(api, other_admin):
    first = login("other@example.com", "other-password-1")
    second = login("other@example.com", "other-password-1")
    api.delete(f"{SESSIONS}/{sid_of(first['access_token'])}")
    assert ApiClient(Client(), second["access_token"]).get(SESSIONS).status_code == 200
    assert refresh(second["refresh_token"]).status_code == 200


def test_revoking_a_revoked_session_again_is_204_and_changes_nothing(api, other_admin):
    sid = sid_of(login("other@example.com", "other-password-1")["access_token"])
    assert api.delete(f"{SESSIONS}/{sid}").status_code == 204
    revoked_at = Session.objects.get(pk=sid).revoked_at
    assert api.delete(f"{SESSIONS}/{sid}").status_code == 204
    assert Session.objects.get(pk=sid).revoked_at == revoked_at
    assert AuditEntry.objects.filter(event_type="session.revoked").count() == 1


def test_delete_user_sessions_revokes_every_active_session_and_counts_them(api, other_admin):
    tokens = [login("other@example.com", "other-password-1") for _ in range(3)]
    api.delete(f"{SESSIONS}/{sid_of(tokens[0]['access_token'])}")  # already revoked: not counted
    response = api.delete(f"/api/admin/users/{other_admin.id}/sessions")
    assert response.status_code == 200, response.content
    assert response.json() == {"revoked": 2}
    assert not Session.objects.filter(user=other_admin, revoked_at__isnull=True).exists()
    for token in tokens:
        assert ApiClient(Client(), token["access_token"]).get(SESSIONS).status_code == 401
    entry = AuditEntry.objects.get(event_type="user.sessions.revoked")
    assert entry.target_id == str(other_admin.id)
    assert entry.metadata["revoked"] == 2


def test_delete_user_sessions_of_an_unknown_user_is_404(api):
    response = api.delete(f"/api/admin/users/{uuid.uuid4()}/sessions")
    assert response.status_code == 404
    assert response.json()["message"] == "User not found"


def test_an_admin_can_revoke_their_own_session(api):
    assert api.delete(f"{SESSIONS}/{sid_of(api.token)}").status_code == 204
    assert api.get(SESSIONS).status_code == 401


# -- extend ----------------------------------------------------------------------------------------


def test_extend_moves_expires_at_to_now_plus_the_lifespan_and_is_audited(api, other_admin):
    sid = sid_of(login("other@example.com", "other-password-1")["access_token"])
    Session.objects.filter(pk=sid).update(expires_at=timezone.now() + datetime.timedelta(minutes=5))
    before = timezone.now()
    response = api.patch(f"{SESSIONS}/{sid}/extend")
    assert response.status_code == 200, response.content
    expires_at = Session.objects.get(pk=sid).expires_at
    lifespan = datetime.timedelta(hours=24)
    assert before + lifespan <= expires_at <= timezone.now() + lifespan
    assert response.json()["expiresAt"].startswith(expires_at.strftime("%Y-%m-%dT%H:%M:%S"))
    entry = AuditEntry.objects.get(event_type="session.extended")
    assert entry.target_id == sid
    assert entry.organization_id == other_admin.organization_id
    assert set(entry.metadata["changes"]) == {"expiresAt"}


def test_extending_a_revoked_session_is_a_conflict(api, other_admin):
    sid = sid_of(login("other@example.com", "other-password-1")["access_token"])
    api.delete(f"{SESSIONS}/{sid}")
    response = api.patch(f"{SESSIONS}/{sid}/extend")
    assert response.status_code == 409
    assert response.json()["error"] == "Conflict"


def test_extending_an_expired_session_is_a_conflict(api, other_admin):
    sid = sid_of(login("other@example.com", "other-password-1")["access_token"])
    Session.objects.filter(pk=sid).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert api.patch(f"{SESSIONS}/{sid}/extend").status_code == 409
    assert not AuditEntry.objects.filter(event_type="session.extended").exists()


def test_extend_refuses_unknown_body_fields(api):
    response = api.patch(f"{SESSIONS}/{sid_of(api.token)}/extend", {"lifespan": "48h"})
    assert response.status_code == 400
    assert "lifespan" in response.json()["details"]


def test_an_expired_sessions_refresh_token_is_refused(initialized):
    first = login()
    Session.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = refresh(first["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error_description"] == "Session has expired"


# -- reads -----------------------------------------------------------------------------------------


def test_a_session_is_represented_in_camel_case(api, super_admin, super_admin_org):
    sid = sid_of(api.token)
    response = api.get(f"{SESSIONS}/{sid}")
    assert response.status_code == 200
    assert response["ETag"]
    body = response.json()
    session = Session.objects.get(pk=sid)
    assert set(body) == {
        "id", "userId", "clientId", "organizationId", "ipAddress", "userAgent", "active",
        "createdAt", "lastActivityAt", "expiresAt", "revokedAt",
    }  # fmt: skip
    assert body["id"] == sid
    assert body["userId"] == str(super_admin.id)
    assert body["clientId"] == str(session.client_id)
    assert body["organizationId"] == str(super_admin_org.id)
    assert body["active"] is True
    assert body["revokedAt"] is None
    assert body["createdAt"].endswith("Z")


def test_an_unknown_session_is_404(api):
    response = api.get(f"{SESSIONS}/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json()["message"] == "Session not found"


def test_sessions_are_listed_newest_first_with_page_totals(api, other_admin):
    login("other@example.com", "other-password-1")
    body = api.get(SESSIONS).json()
    assert body["pagination"] == {"total": 2, "page": 1, "pageSize": 20, "totalPages": 1}
    created = [row["createdAt"] for row in body["data"]]
    assert created == sorted(created, reverse=True)


def test_sessions_filter_by_user(api, other_admin):
    login("other@example.com", "other-password-1")
    body = api.get(SESSIONS, {"userId": str(other_admin.id)}).json()
    assert [row["userId"] for row in body["data"]] == [str(other_admin.id)]


def test_sessions_filter_by_organization_and_client(api, tenant_user):
    login(tenant_user.email, TENANT_PASSWORD, org="tenant-org")
    tenant_session = Session.objects.get(user=tenant_user)
    by_org = api.get(SESSIONS, {"organizationId": str(tenant_user.organization_id)}).json()
    assert [row["id"] for row in by_org["data"]] == [str(tenant_session.id)]
    by_client = api.get(SESSIONS, {"clientId": str(tenant_session.client_id)}).json()
    assert [row["id"] for row in by_client["data"]] == [str(tenant_session.id)]


def test_active_only_leaves_out_revoked_and_expired_sessions(api, other_admin):
    revoked = sid_of(login("other@example.com", "other-password-1")["access_token"])
    expired = sid_of(login("other@example.com", "other-password-1")["access_token"])
    api.delete(f"{SESSIONS}/{revoked}")
    Session.objects.filter(pk=expired).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    active = {row["id"] for row in api.get(SESSIONS, {"activeOnly": "true"}).json()["data"]}
    assert active == {sid_of(api.token)}
    everything = {row["id"] for row in api.get(SESSIONS, {"activeOnly": "false"}).json()["data"]}
    assert {revoked, expired} <= everything


@pytest.mark.parametrize(
    ("name", "value"), [("activeOnly", "yes"), ("userId", "nope"), ("clientId", "1"), ("organizationId", "x")]
)
def test_an_invalid_filter_is_400_naming_it(api, name, value):
    response = api.get(SESSIONS, {name: value})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "ValidationError"
    assert name in body["details"]


def test_an_unknown_sort_is_400(api):
    assert api.get(SESSIONS, {"sort": "userAgent"}).status_code == 400


def test_sessions_support_cursor_mode(api):
    for _ in range(2):
        login()
    first = api.get(SESSIONS, {"limit": 2, "cursor": ""}).json()
    assert len(first["data"]) == 2
    assert first["pagination"]["hasMore"] is True
    second = api.get(SESSIONS, {"limit": 2, "cursor": first["pagination"]["nextCursor"]}).json()
    assert len(second["data"]) == 1
    assert second["pagination"]["hasMore"] is False
    ids = [row["id"] for row in first["data"] + second["data"]]
    assert len(set(ids)) == 3


def test_sessions_support_page_mode(api):
    for _ in range(2):
        login()
    body = api.get(SESSIONS, {"page": 2, "pageSize": 2}).json()
    assert len(body["data"]) == 1
    assert body["pagination"] == {"total": 3, "page": 2, "pageSize": 2, "totalPages": 2}


def test_listing_sessions_costs_a_fixed_number_of_queries(api, django_assert_max_num_queries):
    for _ in range(5):
        login()
    with django_assert_max_num_queries(6):
        assert len(api.get(SESSIONS).json()["data"]) == 6


# -- purge -----------------------------------------------------------------------------------------


def test_purge_deletes_sessions_expired_for_more_than_seven_days_only(initialized):
    old, recent, live = (sid_of(login()["access_token"]) for _ in range(3))
    now = timezone.now()
    Session.objects.filter(pk=old).update(expires_at=now - datetime.timedelta(days=8))
    Session.objects.filter(pk=recent).update(expires_at=now - datetime.timedelta(days=6))
    assert sessions_purge() == 1
    assert set(Session.objects.values_list("pk", flat=True)) == {uuid.UUID(recent), uuid.UUID(live)}
    assert not RefreshToken.objects.filter(session_id=old).exists()


def test_the_purge_task_runs_the_purge(initialized):
    from oidc.tasks import purge_expired_sessions

    sid = sid_of(login()["access_token"])
    Session.objects.filter(pk=sid).update(expires_at=timezone.now() - datetime.timedelta(days=30))
    assert purge_expired_sessions() == 1


# -- Redis outage ----------------------------------------------------------------------------------


@pytest.fixture
def unreachable_redis(monkeypatch):
    """Every Redis call of the version stamps fails to connect."""
    dead = redis_lib.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.05, socket_timeout=0.05)

    def install() -> None:
        monkeypatch.setattr(versions, "get_redis", lambda: dead)

    return install


def test_a_session_can_be_revoked_while_redis_is_unreachable(api, other_admin, unreachable_redis):
    victim = login("other@example.com", "other-password-1")
    sid = sid_of(victim["access_token"])
    unreachable_redis()
    response = api.delete(f"{SESSIONS}/{sid}")
    assert response.status_code == 204, response.content
    assert Session.objects.get(pk=sid).revoked_at is not None
    assert ApiClient(Client(), victim["access_token"]).get(SESSIONS).status_code == 401


def test_without_redis_the_database_refuses_a_revoked_sessions_token(api, other_admin, unreachable_redis):
    victim = login("other@example.com", "other-password-1")
    api.delete(f"{SESSIONS}/{sid_of(victim['access_token'])}")
    unreachable_redis()
    assert ApiClient(Client(), victim["access_token"]).get(SESSIONS).status_code == 401
    assert api.get(SESSIONS).status_code == 200


# -- Django admin ----------------------------------------------------------------------------------


def test_the_django_admin_lists_sessions_read_only(api, super_admin):
    client = Client()
    client.force_login(super_admin)
    listing = client.get("/admin/oidc/session/")
    assert listing.status_code == 200
    assert ADMIN_EMAIL.encode() in listing.content
    assert client.get("/admin/oidc/session/add/").status_code == 403


def test_the_django_admin_revoke_action_goes_through_the_service(api, super_admin, other_admin):
    sid = sid_of(login("other@example.com", "other-password-1")["access_token"])
    client = Client()
    client.force_login(super_admin)
    response = client.post(
        "/admin/oidc/session/", {"action": "revoke_selected", "_selected_action": [sid]}, follow=True
    )
    assert response.status_code == 200
    assert Session.objects.get(pk=sid).revoked_at is not None
    assert AuditEntry.objects.get(event_type="session.revoked").actor_id == super_admin.id
