from django.contrib import admin
from django.urls import include, path, re_path

from invitations import views as invitation_views
from issuedkeys.api.verify_views import SelfRevokeView
from oidc import views as oidc_views
from porta import views
from porta.core import metrics
from recovery import views as recovery_views

handler500 = "porta.api.database.server_error"

urlpatterns = [
    path("api/admin/", include("porta.api_urls")),
    path("admin/", admin.site.urls),
    re_path(r"^api/public/api-keys/revoke/?$", SelfRevokeView.as_view(), name="public-api-key-revoke"),
    re_path(r"^health/alive/?$", views.alive, name="health-alive"),
    re_path(r"^health/ready/?$", views.ready, name="health-ready"),
    re_path(r"^metrics/prometheus/?$", metrics.prometheus_view, name="metrics"),
    re_path(
        r"^(?P<org_slug>[a-z0-9][a-z0-9-]{1,98}[a-z0-9])/auth/token/?$", oidc_views.token, name="oidc-token"
    ),
    re_path(
        r"^(?P<org_slug>[a-z0-9][a-z0-9-]{1,98}[a-z0-9])/auth/jwks/?$", oidc_views.jwks, name="oidc-jwks"
    ),
    re_path(
        r"^(?P<org_slug>[a-z0-9][a-z0-9-]{1,98}[a-z0-9])/recovery/(?P<token>[A-Za-z0-9_-]{16,100})/?$",
        recovery_views.recovery_page,
        name="recovery-page",
    ),
    re_path(
        r"^(?P<org_slug>[a-z0-9][a-z0-9-]{1,98}[a-z0-9])/auth/accept-invite/(?P<token>[A-Za-z0-9_-]{16,100})/?$",
        invitation_views.accept_invitation_page,
        name="accept-invitation",
    ),
]
