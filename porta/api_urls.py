"""Everything under /api/admin/."""

from django.urls import re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apikeys.api.views import ApiKeyViewSet
from applications.api.claim_views import ClaimViewSet
from applications.api.client_views import ClientViewSet
from applications.api.views import ApplicationViewSet, ModuleViewSet
from audit.api.views import AuditViewSet
from branding.api.views import BrandingViewSet
from bulk.api.views import BulkOrganizationViewSet, BulkUserViewSet
from courier.api.views import CourierMessageViewSet
from exports.api.views import (
    AuditExportViewSet,
    ClientExportViewSet,
    OrganizationExportViewSet,
    RoleExportViewSet,
    UserExportViewSet,
)
from imports.api.views import ImportViewSet
from invitations.api.urls import urlpatterns as invitation_urls
from issuedkeys.api.verify_urls import urlpatterns as issued_key_verify_urls
from issuedkeys.api.views import ApiKeySettingsViewSet, IssuedApiKeyViewSet
from jobs.api.views import JobViewSet
from keys.api.views import SigningKeyViewSet
from oidc.api.views import SessionViewSet, UserSessionViewSet
from organizations.api.user_views import OrganizationUserViewSet, UserViewSet
from organizations.api.views import OrganizationViewSet
from porta.api.routers import PortaRouter
from porta.views import admin_metadata
from rbac.api.role_views import RoleViewSet
from rbac.api.urls import urlpatterns as user_role_urls
from rbac.api.views import PermissionViewSet
from recovery.api.views import RecoveryViewSet
from stats.api.views import StatsViewSet
from systemconfig.api.views import AuditCleanupViewSet, ConfigViewSet

router = PortaRouter()
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("organizations", BrandingViewSet, basename="organization-branding")
router.register("api-keys", ApiKeyViewSet, basename="api-key")
router.register(
    r"organizations/(?P<organization_id>[^/]+)/users", OrganizationUserViewSet, basename="org-user"
)
router.register(
    r"organizations/(?P<organization_id>[^/]+)/api-keys", IssuedApiKeyViewSet, basename="org-issued-api-key"
)
router.register(r"organizations/(?P<pk>[^/]+)", ApiKeySettingsViewSet, basename="org-api-key-settings")
router.register("users", UserViewSet, basename="user")
router.register(r"users/(?P<user_id>[^/]+)", UserSessionViewSet, basename="user-session")
router.register("sessions", SessionViewSet, basename="session")
router.register("audit/cleanup", AuditCleanupViewSet, basename="audit-cleanup")  # before audit/{id}
router.register("audit", AuditViewSet, basename="audit")
router.register("config", ConfigViewSet, basename="config")
router.register("keys", SigningKeyViewSet, basename="signing-key")
router.register("courier/messages", CourierMessageViewSet, basename="courier-message")
router.register("jobs", JobViewSet, basename="job")
router.register("recovery", RecoveryViewSet, basename="recovery")
router.register("clients", ClientViewSet, basename="client")
router.register("applications", ApplicationViewSet, basename="application")
router.register(r"applications/(?P<application_id>[^/]+)/modules", ModuleViewSet, basename="module")
router.register(r"applications/(?P<application_id>[^/]+)/claims", ClaimViewSet, basename="claim")
router.register(
    r"applications/(?P<application_id>[^/]+)/permissions", PermissionViewSet, basename="permission"
)
router.register(r"applications/(?P<application_id>[^/]+)/roles", RoleViewSet, basename="role")
router.register("bulk/organizations", BulkOrganizationViewSet, basename="bulk-organization")
router.register("bulk/users", BulkUserViewSet, basename="bulk-user")
router.register("import", ImportViewSet, basename="import")
router.register("stats", StatsViewSet, basename="stats")
router.register("export/users", UserExportViewSet, basename="export-users")
router.register("export/organizations", OrganizationExportViewSet, basename="export-organizations")
router.register("export/clients", ClientExportViewSet, basename="export-clients")
router.register("export/roles", RoleExportViewSet, basename="export-roles")
router.register("export/audit", AuditExportViewSet, basename="export-audit")

urlpatterns = [
    re_path(r"^metadata/?$", admin_metadata, name="admin-metadata"),
    re_path(r"^schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^docs/?$", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    # Apps that add routes under another app's resource register them themselves; invitations
    # first, so that ``users/invite`` is not read as a user id.
    *invitation_urls,
    *user_role_urls,
    # Before the router: ``api-keys/verify`` is not an admin API key's id.
    *issued_key_verify_urls,
    *router.urls,
]
