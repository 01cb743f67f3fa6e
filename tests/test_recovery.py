"""Account recovery: admin-issued one-time links and codes, and the page that sets a new password."""

from __future__ import annotations

import datetime
import uuid
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditEntry
from organizations.models import Organization, User
from recovery.models import RecoveryToken
from tests.conftest import post_form

LINK = "/api/admin/recovery/link"
CODE = "/api/admin/recovery/code"
NEW_PASSWORD = "a-brand-new-password"


def _path(link: str) -> str:
    return urlsplit(link).path


def _tenant_login(password: str):
    return post_form(
        Client(),
        "/tenant-org/auth/token",
        {"grant_type": "password", "client_id": "tenant-cli", "username": "someone@tenant.example",
         "password": password},
    )  # fmt: skip


def _set_password(link: str, password: str = NEW_PASSWORD, **extra: str):
    return Client().post(_path(link), {"password": password, "password_confirm": password, **extra})


@pytest.fixture
def link(api, tenant_user) -> str:
    return api.post(LINK, {"userId": str(tenant_user.id)}).json()["recoveryLink"]


# -- the admin API --------------------------------------------------------------------------------


def test_a_recovery_link_is_created_with_201(api, tenant_user):
    response = api.post(LINK, {"userId": str(tenant_user.id)})
    assert response.status_code == 201
    assert response.json()["recoveryLink"].startswith("http")


def test_a_recovery_link_points_at_the_users_organization(api, tenant_user):
    body = api.post(LINK, {"userId": str(tenant_user.id)}).json()
    assert _path(body["recoveryLink"]).startswith("/tenant-org/recovery/")


def test_a_recovery_link_expires_in_one_hour_by_default(api, tenant_user):
    before = timezone.now()
    body = api.post(LINK, {"userId": str(tenant_user.id)}).json()
    expires_at = datetime.datetime.fromisoformat(body["expiresAt"].replace("Z", "+00:00"))
    assert (
        before + datetime.timedelta(minutes=59) < expires_at <= timezone.now() + datetime.timedelta(hours=1)
    )


def test_expires_in_sets_the_lifetime(api, tenant_user):
    before = timezone.now()
    body = api.post(LINK, {"userId": str(tenant_user.id), "expiresIn": "7d"}).json()
    expires_at = datetime.datetime.fromisoformat(body["expiresAt"].replace("Z", "+00:00"))
    assert expires_at > before + datetime.timedelta(days=6, hours=23)


@pytest.mark.parametrize("expires_in", ["0s", "-1h", "soon", "1.5h", ""])
def test_a_zero_negative_or_unparsable_expires_in_is_a_400(api, tenant_user, expires_in):
    response = api.post(LINK, {"userId": str(tenant_user.id), "expiresIn": expires_in})
    assert response.status_code == 400
    assert "expiresIn" in response.json()["details"]


def test_an_unknown_user_is_a_404(api):
    response = api.post(LINK, {"userId": str(uuid.uuid4())})
    assert response.status_code == 404
    assert response.json()["message"] == "User not found"


@pytest.mark.parametrize("user_id", ["not-a-uuid", "12345", "x" * 100])
def test_a_malformed_user_id_is_a_404(api, user_id):
    response = api.post(CODE, {"userId": user_id})
    assert response.status_code == 404


def test_a_missing_user_id_is_a_400(api):
    response = api.post(LINK, {})
    assert response.status_code == 400
    assert "userId" in response.json()["details"]


def test_an_unknown_body_field_is_a_400(api, tenant_user):
    response = api.post(LINK, {"userId": str(tenant_user.id), "sendEmail": True})
    assert response.status_code == 400
    assert "sendEmail" in response.json()["details"]


def test_the_token_is_stored_only_as_a_keyed_hash(api, tenant_user):
    link = api.post(LINK, {"userId": str(tenant_user.id)}).json()["recoveryLink"]
    token = _path(link).rsplit("/", 1)[1]
    stored = RecoveryToken.objects.get(user=tenant_user)
    assert token not in stored.token_hash
    assert len(stored.token_hash) == 64


def test_creating_a_recovery_link_is_audited(api, tenant_user):
    api.post(LINK, {"userId": str(tenant_user.id)})
    entry = AuditEntry.objects.get(event_type="recovery.link.created")
    assert entry.target_id == str(tenant_user.id)


def test_a_recovery_code_has_eight_digits(api, tenant_user):
    response = api.post(CODE, {"userId": str(tenant_user.id)})
    assert response.status_code == 201
    code = response.json()["recoveryCode"]
    assert len(code) == 8
    assert code.isdigit()


def test_creating_a_recovery_code_is_audited(api, tenant_user):
    api.post(CODE, {"userId": str(tenant_user.id)})
    assert AuditEntry.objects.filter(
        event_type="recovery.code.created", target_id=str(tenant_user.id)
    ).exists()


def test_the_code_is_never_stored_in_plaintext(api, tenant_user):
    code = api.post(CODE, {"userId": str(tenant_user.id)}).json()["recoveryCode"]
    stored = RecoveryToken.objects.get(user=tenant_user)
    assert code not in stored.code_hash
    assert code not in stored.token_hash


# -- the recovery page ----------------------------------------------------------------------------


def test_the_recovery_page_shows_a_password_form(link):
    response = Client().get(_path(link))
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_a_recovery_link_sets_a_new_password_that_works_at_the_token_endpoint(link):
    response = _set_password(link)
    assert response.status_code == 200
    assert _tenant_login(NEW_PASSWORD).status_code == 200


def test_the_old_password_no_longer_works_after_recovery(link):
    _set_password(link)
    assert _tenant_login("admin-password-1").status_code == 400


def test_a_recovery_link_works_only_once(link):
    _set_password(link)
    response = _set_password(link, "yet-another-password")
    assert response.status_code == 410
    assert b"already been used" in response.content


def test_a_used_link_does_not_change_the_password_again(link):
    _set_password(link)
    _set_password(link, "yet-another-password")
    assert _tenant_login(NEW_PASSWORD).status_code == 200


def test_using_a_recovery_link_is_audited(link, tenant_user):
    _set_password(link)
    assert AuditEntry.objects.filter(event_type="recovery.used", target_id=str(tenant_user.id)).exists()


def test_an_expired_link_fails(link):
    RecoveryToken.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = _set_password(link)
    assert response.status_code == 410
    assert b"expired" in response.content


def test_an_unknown_token_is_a_404_page(initialized, tenant_user):
    response = Client().get("/tenant-org/recovery/" + "A" * 43)
    assert response.status_code == 404
    assert b"not valid" in response.content


def test_a_link_used_under_another_organizations_slug_is_a_404(link):
    Organization.objects.create(name="Other", slug="other-org")
    response = Client().get(_path(link).replace("/tenant-org/", "/other-org/"))
    assert response.status_code == 404


def test_a_too_short_password_is_refused_and_the_link_stays_usable(link):
    response = _set_password(link, "short")
    assert response.status_code == 400
    assert Client().get(_path(link)).status_code == 200


def test_a_password_longer_than_128_characters_is_refused(link):
    response = _set_password(link, "x" * 129)
    assert response.status_code == 400
    assert b"at most 128" in response.content


def test_mismatched_passwords_are_refused(link):
    response = Client().post(_path(link), {"password": NEW_PASSWORD, "password_confirm": "something-else"})
    assert response.status_code == 400
    assert b"do not match" in response.content


def test_a_recovery_code_sets_the_password_when_entered_on_the_page(api, tenant_user):
    body = api.post(CODE, {"userId": str(tenant_user.id)}).json()
    response = _set_password(body["recoveryLink"], code=body["recoveryCode"])
    assert response.status_code == 200
    assert _tenant_login(NEW_PASSWORD).status_code == 200


def test_a_wrong_recovery_code_is_refused(api, tenant_user):
    body = api.post(CODE, {"userId": str(tenant_user.id)}).json()
    wrong = f"{(int(body['recoveryCode']) + 1) % 10**8:08d}"
    response = _set_password(body["recoveryLink"], code=wrong)
    assert response.status_code == 400
    assert b"not correct" in response.content


def test_five_wrong_codes_make_the_link_unusable(api, tenant_user):
    body = api.post(CODE, {"userId": str(tenant_user.id)}).json()
    wrong = f"{(int(body['recoveryCode']) + 1) % 10**8:08d}"
    for _ in range(5):
        _set_password(body["recoveryLink"], code=wrong)
    response = _set_password(body["recoveryLink"], code=body["recoveryCode"])
    assert response.status_code == 410


def test_recovery_works_for_a_super_admin_organization_user(api, make_admin):
    from tests.conftest import issue_token

    admin = make_admin()
    link = api.post(LINK, {"userId": str(admin.id)}).json()["recoveryLink"]
    _set_password(link)
    assert issue_token(Client(), admin.email, NEW_PASSWORD)["access_token"]


def test_recovery_leaves_other_users_untouched(link, make_admin):
    other = make_admin()
    _set_password(link)
    assert User.objects.get(pk=other.pk).check_password("admin-password-1")


def test_org_scoped_credentials_cannot_recover_a_user_of_another_organization(tenant_user):
    from rest_framework.test import force_authenticate

    from recovery.api.views import RecoveryViewSet
    from tests.factories import OrganizationFactory
    from tests.test_tenancy import factory, scoped_to

    principal = scoped_to(OrganizationFactory())
    request = factory.post("/", {"userId": str(tenant_user.id)}, format="json")
    force_authenticate(request, user=principal.user, token=principal)
    response = RecoveryViewSet.as_view({"post": "link"})(request)
    assert response.status_code == 404


def test_the_django_admin_lists_recovery_tokens_without_their_hashes(api, tenant_user):
    from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

    api.post(LINK, {"userId": str(tenant_user.id)})
    row = RecoveryToken.objects.get(user=tenant_user)
    client = Client()
    assert client.login(username=ADMIN_EMAIL, password=ADMIN_PASSWORD)
    response = client.get(f"/admin/recovery/recoverytoken/{row.id}/change/")
    assert response.status_code == 200
    assert row.token_hash.encode() not in response.content
