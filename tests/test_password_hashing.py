"""Password hashing: argon2id at OWASP's minimum parameters (m=19 MiB, t=2, p=1) for new
passwords, batches hashed in parallel, and older hashes replaced at the next successful login.

The suite normally hashes with a cheap test hasher; these tests install the production list."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, check_password
from django.test import Client

from organizations.models import Organization, User
from tests.conftest import post_form

CHOSEN = "argon2$argon2id$v=19$m=19456,t=2,p=1$"
PASSWORD = "admin-password-1"


@pytest.fixture
def production_hashers(settings) -> None:
    settings.PASSWORD_HASHERS = [h for h in settings.PASSWORD_HASHERS if not h.startswith("testing.")]


def stock_django_argon2(password: str) -> str:
    """A hash as Porta stored them before choosing its parameters (Django's m=100 MiB, p=8)."""
    hasher = Argon2PasswordHasher()
    return hasher.encode(password, hasher.salt())


@pytest.fixture
def old_hash_admin(make_admin) -> User:
    admin = make_admin("porta-super-admin", email="old-hash@example.com")
    admin.password = stock_django_argon2(PASSWORD)
    admin.save(update_fields=["password"])
    return admin


def token_login(email: str, password: str):
    form = {"grant_type": "password", "client_id": "porta-cli", "username": email, "password": password}
    return post_form(Client(), "/porta-admin/auth/token", form)


def admin_login(email: str, password: str):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/admin/login/")
    csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()
    return client.post(
        "/admin/login/", {"username": email, "password": password, "csrfmiddlewaretoken": csrf}
    )


def test_a_batch_with_plaintext_passwords_stores_every_user_as_argon2id_with_the_chosen_parameters(
    api, production_hashers
):
    organization = Organization.objects.create(name="Acme", slug="acme")
    items = [{"email": f"user{n}@acme.example", "password": f"long-enough-{n}"} for n in range(20)]
    response = api.post(f"/api/admin/organizations/{organization.id}/users/batch", {"users": items})
    assert response.status_code == 200, response.content
    assert all("id" in result for result in response.json()["results"])
    users = {u.email: u for u in User.objects.filter(organization=organization)}
    assert len(users) == 20
    for n in range(20):
        stored = users[f"user{n}@acme.example"].password
        assert stored.startswith(CHOSEN)
        assert check_password(f"long-enough-{n}", stored)


def test_a_single_created_user_is_stored_as_argon2id_with_the_chosen_parameters(api, production_hashers):
    organization = Organization.objects.create(name="Acme", slug="acme")
    body = {"email": "one@acme.example", "password": "long-enough-1"}
    user_id = api.post(f"/api/admin/organizations/{organization.id}/users", body).json()["id"]
    assert User.objects.get(pk=user_id).password.startswith(CHOSEN)


def test_a_hash_with_old_parameters_is_rehashed_at_the_next_token_endpoint_login(
    old_hash_admin, production_hashers
):
    assert token_login(old_hash_admin.email, PASSWORD).status_code == 200
    old_hash_admin.refresh_from_db()
    assert old_hash_admin.password.startswith(CHOSEN)
    assert check_password(PASSWORD, old_hash_admin.password)


def test_a_hash_with_old_parameters_is_rehashed_at_the_next_django_admin_login(
    old_hash_admin, production_hashers
):
    assert admin_login(old_hash_admin.email, PASSWORD).status_code == 302
    old_hash_admin.refresh_from_db()
    assert old_hash_admin.password.startswith(CHOSEN)


def test_a_wrong_password_leaves_a_hash_with_old_parameters_as_it_was(old_hash_admin, production_hashers):
    before = old_hash_admin.password
    token_login(old_hash_admin.email, "wrong-password")
    old_hash_admin.refresh_from_db()
    assert old_hash_admin.password == before


def test_a_hash_with_the_chosen_parameters_is_not_rewritten_at_login(make_admin, production_hashers):
    admin = make_admin("porta-super-admin", email="current@example.com", password=PASSWORD)
    before = User.objects.get(pk=admin.pk).password
    assert before.startswith(CHOSEN)
    assert token_login(admin.email, PASSWORD).status_code == 200
    assert User.objects.get(pk=admin.pk).password == before
