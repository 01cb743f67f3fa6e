"""The one resolution of a user's roles and permissions for an application (rbac.selectors.resolve)."""

from __future__ import annotations

import pytest

from applications.models import Application
from porta.core.invalidation import principals_changed
from rbac.models import Permission, Role, RolePermission, UserRole
from rbac.selectors import Resolution, resolve
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def app() -> Application:
    return Application.objects.create(name="Shop", slug="shop")


@pytest.fixture
def user():
    return UserFactory()


def _role(app: Application, slug: str, *permission_slugs: str) -> Role:
    role = Role.objects.create(application=app, name=slug, slug=slug)
    for permission_slug in permission_slugs:
        permission, _ = Permission.objects.get_or_create(
            application=app, slug=permission_slug, defaults={"name": permission_slug}
        )
        RolePermission.objects.create(role=role, permission=permission)
    return role


def test_a_user_without_roles_resolves_to_nothing(app, user):
    assert resolve(user.id, app.id) == Resolution(roles=(), permissions=())


def test_resolution_gives_sorted_role_slugs_and_the_union_of_their_permissions(app, user):
    UserRole.objects.create(user=user, role=_role(app, "viewer", "orders:read"))
    UserRole.objects.create(user=user, role=_role(app, "editor", "orders:write", "orders:read"))

    assert resolve(user.id, app.id) == Resolution(
        roles=("editor", "viewer"), permissions=("orders:read", "orders:write")
    )


def test_roles_of_another_application_do_not_count(app, user):
    other = Application.objects.create(name="Other", slug="other")
    UserRole.objects.create(user=user, role=_role(other, "viewer", "orders:read"))

    assert resolve(user.id, app.id) == Resolution(roles=(), permissions=())


def test_a_new_user_role_is_resolved_on_the_next_call(app, user):
    role = _role(app, "viewer", "orders:read")
    resolve(user.id, app.id)

    UserRole.objects.create(user=user, role=role)

    assert resolve(user.id, app.id).permissions == ("orders:read",)


def test_a_removed_role_permission_is_gone_on_the_next_call(app, user):
    role = _role(app, "viewer", "orders:read")
    UserRole.objects.create(user=user, role=role)
    resolve(user.id, app.id)

    RolePermission.objects.filter(role=role).delete()

    assert resolve(user.id, app.id).permissions == ()


def test_a_bulk_assignment_is_resolved_once_principals_changed_is_called(app, user):
    role = _role(app, "viewer", "orders:read")
    resolve(user.id, app.id)

    UserRole.objects.bulk_create([UserRole(user=user, role=role)])
    principals_changed()

    assert resolve(user.id, app.id).roles == ("viewer",)


def test_resolution_accepts_string_ids(app, user):
    UserRole.objects.create(user=user, role=_role(app, "viewer"))

    assert resolve(str(user.id), str(app.id)).roles == ("viewer",)


def test_a_stamp_read_by_the_caller_serves_the_cached_answer_until_a_change_bumps_it(app, user):
    from porta.core import versions

    (stamp,) = versions.read(versions.PRINCIPALS)
    assert resolve(user.id, app.id, stamp=stamp) == Resolution(roles=(), permissions=())
    UserRole.objects.create(user=user, role=_role(app, "viewer", "orders:read"))  # bumps the stamp

    (fresh,) = versions.read(versions.PRINCIPALS)

    assert fresh != stamp
    assert resolve(user.id, app.id, stamp=fresh).permissions == ("orders:read",)


def test_without_a_stamp_the_database_answers(app, user):
    UserRole.objects.create(user=user, role=_role(app, "viewer", "orders:read"))

    assert resolve(user.id, app.id, stamp=None).permissions == ("orders:read",)
