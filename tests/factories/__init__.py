"""factory_boy factories, one module per app, for every model: rows a test needs but does not
create through the API. ``tests/test_factories.py`` keeps the list complete."""

from tests.factories.apikeys import AdminApiKeyFactory
from tests.factories.applications import (
    ApplicationFactory,
    ClaimDefinitionFactory,
    ClaimValueFactory,
    ClientFactory,
    ClientSecretFactory,
    ModuleFactory,
)
from tests.factories.audit import AuditEntryFactory
from tests.factories.branding import BrandingAssetFactory
from tests.factories.courier import AttemptFactory, MessageFactory
from tests.factories.issuedkeys import IssuedApiKeyFactory, IssuedApiKeySettingsFactory
from tests.factories.jobs import JobFactory
from tests.factories.keys import SigningKeyFactory
from tests.factories.oidc import RefreshTokenFactory, SessionFactory
from tests.factories.organizations import InvitationFactory, OrganizationFactory, UserFactory
from tests.factories.rbac import PermissionFactory, RoleFactory, RolePermissionFactory, UserRoleFactory
from tests.factories.recovery import RecoveryTokenFactory
from tests.factories.stats import TallyDeltaFactory, TallyFactory
from tests.factories.systemconfig import ConfigEntryFactory

__all__ = [
    "AdminApiKeyFactory",
    "ApplicationFactory",
    "AttemptFactory",
    "AuditEntryFactory",
    "BrandingAssetFactory",
    "ClaimDefinitionFactory",
    "ClaimValueFactory",
    "ClientFactory",
    "ClientSecretFactory",
    "ConfigEntryFactory",
    "InvitationFactory",
    "JobFactory",
    "IssuedApiKeyFactory",
    "IssuedApiKeySettingsFactory",
    "MessageFactory",
    "ModuleFactory",
    "OrganizationFactory",
    "PermissionFactory",
    "RecoveryTokenFactory",
    "RefreshTokenFactory",
    "RoleFactory",
    "RolePermissionFactory",
    "SessionFactory",
    "SigningKeyFactory",
    "TallyDeltaFactory",
    "TallyFactory",
    "UserFactory",
    "UserRoleFactory",
]
