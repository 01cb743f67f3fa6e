"""Roles, permissions and their assignments."""

from __future__ import annotations

import factory

from rbac.models import Permission, Role, RolePermission, UserRole
from tests.factories.applications import ApplicationFactory
from tests.factories.organizations import UserFactory


class PermissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Permission

    application = factory.SubFactory(ApplicationFactory)
    name = factory.Sequence(lambda n: f"Permission {n}")
    slug = factory.Sequence(lambda n: f"resource:action-{n}")


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role

    application = factory.SubFactory(ApplicationFactory)
    name = factory.Sequence(lambda n: f"Role {n}")
    slug = factory.Sequence(lambda n: f"role-{n}")


class RolePermissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RolePermission

    role = factory.SubFactory(RoleFactory)
    permission = factory.SubFactory(
        PermissionFactory, application=factory.SelfAttribute("..role.application")
    )


class UserRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UserRole

    user = factory.SubFactory(UserFactory)
    role = factory.SubFactory(RoleFactory)
