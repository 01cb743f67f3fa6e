"""One door for passwords: the Django admin login and the recovery page's code are checked by the
same login service as the token endpoint, with the same per-IP and per-account throttles,
lockout, audit of failures and metrics. Driven through HTTP as a browser would (CSRF included)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.test import Client

from audit.models import AuditEntry
from organizations.models import User, UserStatus
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, post_form

LOGIN = "/admin/login/"
TOKEN_PATH = "/porta-admin/auth/token"


def browser(ip: str = "127.0.0.1") -> Client:
    return Client(enforce_csrf_checks=True, REMOTE_ADDR=ip)


def admin_login(password: str, email: str = ADMIN_EMAIL, ip: str = "127.0.0.1"):
    """GET the login form for its CSRF token, then POST it, as a browser does; returns the
    client (to inspect its session) and the response."""
    client = browser(ip)
    form = client.get(LOGIN)
    csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form.content).group(1).decode()
    response = client.post(
        LOGIN,
        {"username": email, "password": password, "csrfmiddlewaretoken": csrf, "next": "/admin/"},
    )
    return client, response


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def token_login(password: str, email: str = ADMIN_EMAIL, ip: str = "127.0.0.1"):
    form = {"grant_type": "password", "client_id": "porta-cli", "username": email, "password": password}
    return post_form(Client(), TOKEN_PATH, form, REMOTE_ADDR=ip)


def failed_admin_entries(user: User):
    return AuditEntry.objects.filter(
        event_type="user.login.failed", target_id=str(user.id), metadata__channel="django_admin"
    )


def test_the_right_password_logs_in_to_the_django_admin(super_admin):
    client, response = admin_login(ADMIN_PASSWORD)
    assert response.status_code == 302
    assert logged_in(client)


def test_a_django_admin_login_is_audited(super_admin):
    admin_login(ADMIN_PASSWORD)
    login = AuditEntry.objects.get(event_type="user.login", target_id=str(super_admin.id))
    assert login.metadata["channel"] == "django_admin"


def test_brute_forcing_the_django_admin_locks_the_account_so_the_right_password_no_longer_logs_in(
    super_admin,
):
    for _ in range(40):
        client, response = admin_login("wrong-password")
        assert response.status_code == 200
        assert not logged_in(client)
    client, response = admin_login(ADMIN_PASSWORD)
    assert response.status_code == 200
    assert not logged_in(client)
    super_admin.refresh_from_db()
    assert super_admin.status == UserStatus.LOCKED


def test_the_django_admin_tells_a_locked_account_it_is_locked_whatever_the_password(super_admin, settings):
    settings.PORTA_MAX_FAILED_LOGINS = 3
    for _ in range(3):
        admin_login("wrong-password")
    _, right = admin_login(ADMIN_PASSWORD)
    _, wrong = admin_login("another-wrong-password")
    assert b"Account is locked" in right.content
    assert b"Account is locked" in wrong.content


def test_each_failed_django_admin_login_is_audited(super_admin, settings):
    settings.PORTA_MAX_FAILED_LOGINS = 3
    for _ in range(3):
        admin_login("wrong-password")
    assert failed_admin_entries(super_admin).count() == 3
    locked = AuditEntry.objects.get(event_type="user.locked", target_id=str(super_admin.id))
    assert locked.metadata["channel"] == "django_admin"


def test_a_django_admin_login_refused_for_a_locked_account_is_audited_too(super_admin, settings):
    settings.PORTA_MAX_FAILED_LOGINS = 2
    for _ in range(2):
        admin_login("wrong-password")
    admin_login(ADMIN_PASSWORD)
    refused = failed_admin_entries(super_admin).order_by("-created_at").first()
    assert refused.metadata["reason"] == "locked"


def test_too_many_failures_from_one_ip_throttle_the_django_admin_login_from_that_ip(initialized, settings):
    settings.PORTA_LOGIN_IP_LIMIT = 3
    for n in range(3):
        admin_login("wrong", email=f"nobody{n}@example.com", ip="10.9.0.1")
    client, response = admin_login(ADMIN_PASSWORD, ip="10.9.0.1")
    assert not logged_in(client)
    assert b"Too many failed login attempts from this address" in response.content


def test_the_django_admin_ip_throttle_does_not_affect_other_addresses(initialized, settings):
    settings.PORTA_LOGIN_IP_LIMIT = 3
    for n in range(3):
        admin_login("wrong", email=f"nobody{n}@example.com", ip="10.9.0.2")
    client, _ = admin_login(ADMIN_PASSWORD, ip="10.9.0.3")
    assert logged_in(client)


def test_failures_against_one_account_from_many_ips_throttle_its_django_admin_login(super_admin, settings):
    settings.PORTA_LOGIN_ACCOUNT_LIMIT = 3
    settings.PORTA_AUTO_LOCKOUT = False
    for n in range(3):
        admin_login("wrong", ip=f"10.9.1.{n}")
    client, response = admin_login(ADMIN_PASSWORD, ip="10.9.1.99")
    assert not logged_in(client)
    assert b"Too many failed login attempts for this account" in response.content


def test_the_django_admin_and_the_token_endpoint_count_failures_against_one_lock(super_admin, settings):
    settings.PORTA_MAX_FAILED_LOGINS = 4
    for _ in range(2):
        token_login("wrong-password")
        admin_login("wrong-password")
    super_admin.refresh_from_db()
    assert super_admin.status == UserStatus.LOCKED


def test_failures_at_the_django_admin_throttle_the_token_endpoint_from_that_ip(initialized, settings):
    settings.PORTA_LOGIN_IP_LIMIT = 3
    for n in range(3):
        admin_login("wrong", email=f"nobody{n}@example.com", ip="10.9.2.1")
    assert token_login(ADMIN_PASSWORD, ip="10.9.2.1").status_code == 429


def metric(name: str, **labels: str) -> float:
    text = Client().get("/metrics/prometheus").content.decode()
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(name + "{"):
            found = ",".join(sorted(line[len(name) + 1 : line.index("}")].split(",")))
            if found == wanted:
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_a_failed_django_admin_login_is_counted_in_the_login_failures_metric(super_admin):
    labels = {"channel": "django_admin", "reason": "invalid_password"}
    before = metric("porta_login_failures_total", **labels)
    admin_login("wrong-password")
    assert metric("porta_login_failures_total", **labels) == before + 1


# -- the Django admin's "change password" page ----------------------------------------------------

CHANGE = "/admin/password_change/"


def change_password(client: Client, old: str, new: str = "a-brand-new-password"):
    page = client.get(CHANGE)
    csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()
    form = {"old_password": old, "new_password1": new, "new_password2": new, "csrfmiddlewaretoken": csrf}
    return client.post(CHANGE, form)


def test_wrong_current_passwords_on_the_admin_password_change_page_lock_the_account(super_admin, settings):
    settings.PORTA_MAX_FAILED_LOGINS = 3
    client, _ = admin_login(ADMIN_PASSWORD)
    for _ in range(3):
        assert change_password(client, "wrong-password").status_code == 200
    super_admin.refresh_from_db()
    assert super_admin.status == UserStatus.LOCKED
    assert failed_admin_entries(super_admin).count() == 3


def test_a_password_changed_in_the_django_admin_is_audited_and_works_at_the_token_endpoint(super_admin):
    client, _ = admin_login(ADMIN_PASSWORD)
    response = change_password(client, ADMIN_PASSWORD, new="a-brand-new-password")
    assert response.status_code == 302
    assert AuditEntry.objects.filter(event_type="user.password.set", target_id=str(super_admin.id)).exists()
    assert token_login("a-brand-new-password").status_code == 200
    assert client.get("/admin/").status_code == 200  # the session survives its own password change


def test_the_django_admin_refuses_a_new_password_shorter_than_the_api_allows(super_admin):
    client, _ = admin_login(ADMIN_PASSWORD)
    assert change_password(client, ADMIN_PASSWORD, new="short").status_code == 200
    assert token_login(ADMIN_PASSWORD).status_code == 200


# -- the recovery page's code ----------------------------------------------------------------------


@pytest.fixture
def recovery_code(api, tenant_user) -> dict:
    return api.post("/api/admin/recovery/code", {"userId": str(tenant_user.id)}).json()


def enter_code(body: dict, code: str, ip: str = "127.0.0.1"):
    password = "a-brand-new-password"
    return Client(REMOTE_ADDR=ip).post(
        urlsplit(body["recoveryLink"]).path,
        {"password": password, "password_confirm": password, "code": code},
    )


def wrong_code(body: dict) -> str:
    return f"{(int(body['recoveryCode']) + 1) % 10**8:08d}"


def test_a_wrong_recovery_code_is_audited_as_a_failed_login(recovery_code, tenant_user):
    enter_code(recovery_code, wrong_code(recovery_code))
    failed = AuditEntry.objects.get(event_type="user.login.failed", target_id=str(tenant_user.id))
    assert (failed.metadata["channel"], failed.metadata["reason"]) == ("recovery", "invalid_code")


def test_recovery_codes_are_throttled_per_ip_like_passwords(recovery_code, settings):
    settings.PORTA_LOGIN_IP_LIMIT = 2
    for _ in range(2):
        enter_code(recovery_code, wrong_code(recovery_code), ip="10.9.3.1")
    response = enter_code(recovery_code, recovery_code["recoveryCode"], ip="10.9.3.1")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0


def test_wrong_passwords_for_an_account_throttle_its_recovery_code(recovery_code, tenant_user, settings):
    settings.PORTA_LOGIN_ACCOUNT_LIMIT = 2
    settings.PORTA_AUTO_LOCKOUT = False
    for n in range(2):
        post_form(
            Client(),
            "/tenant-org/auth/token",
            {"grant_type": "password", "client_id": "tenant-cli", "username": tenant_user.email,
             "password": "wrong"},
            REMOTE_ADDR=f"10.9.4.{n}",
        )  # fmt: skip
    assert enter_code(recovery_code, recovery_code["recoveryCode"], ip="10.9.4.99").status_code == 429
