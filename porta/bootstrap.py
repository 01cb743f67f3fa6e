"""``porta_init``: the super-admin organization, the admin application with its roles and
permissions, the ``porta-cli`` client, the first signing key and the first admin. Idempotent:
every step creates only what is missing. Every row is written by the service the API uses for
it, so the same rules hold and each creation is audited as it would be there."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from applications.models import Application, Client
from applications.services.applications import application_create
from applications.services.clients import client_create
from keys.models import SigningKey, SigningKeyStatus
from keys.services import signing_key_generate
from organizations.models import Organization, User
from organizations.services import RESERVED_ORG_SLUGS, organization_create
from organizations.user_services import user_create
from porta.core.context import Actor
from porta.core.slugs import slug_problem
from rbac.admin_roles import ADMIN_APP_SLUG, ADMIN_ROLES, ALL_ADMIN_PERMISSIONS
from rbac.models import Permission, Role, UserRole
from rbac.selectors import AdminAuthorization
from rbac.services.assignments import user_roles_assign
from rbac.services.permissions import permission_create
from rbac.services.roles import role_create, role_permissions_assign

CLI_CLIENT_ID = "porta-cli"
SUPER_ADMIN_ROLE = "porta-super-admin"
ACTOR = Actor.system("porta_init")
CREATESUPERUSER_ACTOR = Actor.system("createsuperuser")
#: What the system may grant while seeding: every admin permission (the services' guard against
#: granting more than one holds sees a super-admin).
SYSTEM_AUTHORIZATION = AdminAuthorization(
    roles=frozenset({SUPER_ADMIN_ROLE}), permissions=frozenset(ALL_ADMIN_PERMISSIONS)
)


@dataclass
class InitReport:
    created: list[str] = field(default_factory=list)
    admin_email: str = ""
    admin_created: bool = False


def is_initialized() -> bool:
    return (
        Organization.objects.filter(is_super_admin=True).exists()
        and Application.objects.filter(slug=ADMIN_APP_SLUG).exists()
    )


@transaction.atomic
def porta_init(*, admin_email: str, admin_password: str, slug: str = "porta-admin") -> InitReport:
    report = InitReport(admin_email=admin_email)
    organization = Organization.objects.filter(is_super_admin=True).first()
    if organization is None:
        problem = slug_problem(slug, RESERVED_ORG_SLUGS)
        if problem is not None:
            raise ValueError(f"Invalid super-admin organization slug: {problem}")
        organization = organization_create(actor=ACTOR, name="Porta Admin", slug=slug, is_super_admin=True)
        report.created.append(f"super-admin organization '{slug}'")

    application = Application.objects.filter(slug=ADMIN_APP_SLUG).first()
    if application is None:
        application = application_create(
            actor=ACTOR, name="Porta Admin", slug=ADMIN_APP_SLUG, description="Porta's own admin API"
        )
        report.created.append("application 'porta-admin'")

    permissions = {p.slug: p for p in Permission.objects.filter(application=application)}
    new_permissions = sorted(ALL_ADMIN_PERMISSIONS - set(permissions))
    for slug_ in new_permissions:
        permissions[slug_] = permission_create(actor=ACTOR, application=application, name=slug_, slug=slug_)
        report.created.append(f"permission {slug_}")
    for role_slug, (name, description, granted) in ADMIN_ROLES.items():
        role = Role.objects.filter(application=application, slug=role_slug).first()
        made = role is None
        if made:
            role = role_create(
                actor=ACTOR,
                application=application,
                name=name,
                slug=role_slug,
                description=description,
                is_system=True,
            )
            report.created.append(f"role {role_slug}")
        # A new role gets its whole grant; an existing one only the permissions new in this run (an
        # upgrade that grew the catalogue), so links an operator removed on purpose stay removed.
        linked = sorted(granted) if made else [p for p in new_permissions if p in granted]
        if linked:
            role_permissions_assign(
                actor=ACTOR,
                authorization=SYSTEM_AUTHORIZATION,
                role=role,
                permission_ids=[permissions[p].id for p in linked],
            )

    if not Client.objects.filter(client_id=CLI_CLIENT_ID).exists():
        client_create(
            actor=ACTOR,
            organization_id=organization.id,
            application_id=application.id,
            client_id=CLI_CLIENT_ID,
            client_name="Porta CLI",
            client_type="public",
            application_type="native",
            redirect_uris=["http://127.0.0.1:8765/callback", "http://localhost:8765/callback"],
            grant_types=["password", "refresh_token", "authorization_code"],
            response_types=["code"],
            scope="openid profile email offline_access",
            token_endpoint_auth_method="none",
            require_pkce=True,
        )
        report.created.append("client 'porta-cli'")

    if not SigningKey.objects.filter(status=SigningKeyStatus.ACTIVE).exists():
        signing_key_generate(actor=ACTOR)
        report.created.append("ES256 signing key")

    super_role = Role.objects.get(application=application, slug=SUPER_ADMIN_ROLE)
    if not UserRole.objects.filter(role=super_role).exists():
        _make_super_admin(report, organization, super_role, admin_email, admin_password, actor=ACTOR)
    return report


def _make_super_admin(
    report: InitReport, organization: Organization, role: Role, email: str, password: str, *, actor: Actor
) -> None:
    """``email`` (a user of the super-admin organization, made if missing) holds ``role``."""
    user = User.objects.filter(organization=organization, email__iexact=email).first()
    if user is None:
        user = user_create(
            actor=actor, organization=organization, email=email, password=password, email_verified=True
        )
        report.admin_created = True
        report.created.append(f"admin user {email}")
    user_roles_assign(actor=actor, authorization=SYSTEM_AUTHORIZATION, user=user, role_ids=[role.id])
    report.created.append(f"role {role.slug} for {email}")


@transaction.atomic
def super_admin_create(*, email: str, password: str) -> InitReport:
    """Django's ``createsuperuser``: one more super-admin, made as ``porta_init`` makes the first.

    Whatever ``porta_init`` would create is created first (on a fresh database ``email`` simply
    becomes the first admin); otherwise ``email`` becomes a new user of the super-admin
    organization holding porta-super-admin. An address already used there is refused rather than
    silently promoted: granting roles to an existing user is the API's job.
    """
    if User.objects.filter(organization__is_super_admin=True, email__iexact=email).exists():
        raise ValueError(f"A user with the e-mail {email} already exists in the super-admin organization")
    report = porta_init(admin_email=email, admin_password=password)
    if not report.admin_created:
        organization = Organization.objects.get(is_super_admin=True)
        role = Role.objects.get(application__slug=ADMIN_APP_SLUG, slug=SUPER_ADMIN_ROLE)
        _make_super_admin(report, organization, role, email, password, actor=CREATESUPERUSER_ACTOR)
    return report
