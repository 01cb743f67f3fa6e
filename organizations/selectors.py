"""Reads of organizations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet

from organizations.models import Organization, OrganizationStatus, User, UserStatus


def organizations() -> QuerySet[Organization]:
    return Organization.objects.all()


def super_admin_organization() -> Organization | None:
    return Organization.objects.filter(is_super_admin=True).first()


def organization_by_slug(slug: str) -> Organization | None:
    return Organization.objects.filter(slug=slug).first()


@dataclass(frozen=True, slots=True)
class UserStanding:
    """What authentication needs to know about a user, read fresh on every request."""

    id: uuid.UUID
    email: str
    status: str
    organization_id: uuid.UUID
    organization_slug: str
    organization_status: str
    organization_is_super_admin: bool
    is_authenticated: bool = True  # DRF's request.user protocol

    @property
    def is_active(self) -> bool:
        return self.status == UserStatus.ACTIVE and self.organization_status == OrganizationStatus.ACTIVE


def standing_sql(extra_columns: str = "") -> str:
    """The standing of one user (``WHERE u.id = %s``, the last parameter). ``extra_columns``
    (each starting with a comma, their parameters first) lets authentication read what its
    credential rests on in the same round trip."""
    user, org = User._meta, Organization._meta
    return (
        'SELECT u."id", u."email", u."status", o."id", o."slug", o."status", o."is_super_admin"'
        f"{extra_columns} "
        f'FROM "{user.db_table}" u JOIN "{org.db_table}" o ON o."id" = u."organization_id" '
        f'WHERE u."id" = %s'
    )


def standing_from_row(row) -> UserStanding:
    to_uuid = User._meta.pk.to_python
    return UserStanding(
        id=to_uuid(row[0]),
        email=row[1],
        status=row[2],
        organization_id=to_uuid(row[3]),
        organization_slug=row[4],
        organization_status=row[5],
        organization_is_super_admin=bool(row[6]),
    )


def user_standing(user_id: uuid.UUID) -> UserStanding | None:
    """One fixed statement on the hottest path of the API (every authenticated request): the
    ORM's query building costs three times the round trip here, and a fixed text lets
    PostgreSQL keep it prepared."""
    with connection.cursor() as cursor:
        cursor.execute(standing_sql(), [User._meta.pk.get_db_prep_value(user_id, connection)])
        row = cursor.fetchone()
    return None if row is None else standing_from_row(row)
