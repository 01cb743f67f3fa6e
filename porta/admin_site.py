"""The Django admin app with Porta's site (``porta.admin.PortaAdminSite``) as its default site.

Its own module: ``porta.apps`` may declare one default AppConfig only, and ``porta.admin``
imports models, which cannot happen while INSTALLED_APPS is being read."""

from django.contrib.admin.apps import AdminConfig


class PortaAdminConfig(AdminConfig):
    default_site = "porta.admin.PortaAdminSite"
