# Old import paths → new ones (issue 11, "layers"). Apply with:
#   git ls-files -z '*.py' '*.toml' '*.md' '*.cfg' Makefile | xargs -0 sed -i -f RENAMES.sed
# Logger names ("porta.versions", "porta.ratelimit", ...) are part of the log contract: lines that
# name a logger are left alone.
/getLogger(/!{
# 1. The core: porta.<module> → porta.core.<module>
s/\bporta\.\(ids\|db\|hashers\|tokens\|onetime\|slugs\|durations\|versions\|redis\|ratelimit\|metrics\|config\)\b/porta.core.\1/g
s/^\([[:space:]]*\)from porta import \(ids\|db\|hashers\|tokens\|onetime\|slugs\|durations\|versions\|redis\|ratelimit\|metrics\|config\)$/\1from porta.core import \2/
s/^\([[:space:]]*\)from porta import \(ids\|db\|hashers\|tokens\|onetime\|slugs\|durations\|versions\|redis\|ratelimit\|metrics\|config\), \(ids\|db\|hashers\|tokens\|onetime\|slugs\|durations\|versions\|redis\|ratelimit\|metrics\|config\)$/\1from porta.core import \2, \3/
}
# File paths named in comments and docs.
s#\bporta/\(ids\|db\|hashers\|tokens\|onetime\|slugs\|durations\|versions\|redis\|ratelimit\|metrics\|config\)\.py\b#porta/core/\1.py#g
/getLogger(/!{
# 2. The domain exceptions → porta.core.errors (rendering stays in porta.api.errors); the request
#    context (Actor, RequestContext) → porta.core.context; the database-outage 503s → the kernel.
/error_response\|error_body\|response_for_exception\|exception_handler\|flatten_details/!s/\bfrom porta\.api\.errors import\b/from porta.core.errors import/
s/\baudit\.context\b/porta.core.context/g
s#\baudit/context\.py\b#porta/core/context.py#g
# (not the logger name "porta.database", kept in docs and log filters)
s/\bporta\.database\./porta.api.database./g
s/\bfrom porta\.database import\b/from porta.api.database import/g
s#\bporta/database\.py\b#porta/api/database.py#g
s/^\([[:space:]]*\)from porta import database$/\1from porta.api import database/
}
# 3. Cache invalidation: the receivers → porta.core.invalidation; porta.invalidation keeps connect().
s/^\([[:space:]]*\)from porta\.invalidation import \([^c]\)/\1from porta.core.invalidation import \2/
s/`porta\.invalidation\.principals_changed`/`porta.core.invalidation.principals_changed`/g
# 4. Admin authentication → the authn package (the Principal stays in the kernel, porta.api.principal).
s/\bporta\.api\.authentication\b/authn.authentication/g
s#\bporta/api/authentication\.py\b#authn/authentication.py#g
s/^\([[:space:]]*\)from porta\.api import authentication$/\1from authn import authentication/
s/\bporta\.api\.spectacular_ext\b/authn.schema/g
s/^\([[:space:]]*\)from porta\.api import spectacular_ext\b/\1from authn import schema/
# 5. Test-only code leaves the shipped package: porta.testing → testing (top level, not in the wheel).
s/\bporta\.testing\b/testing/g
s#\bporta/testing/#testing/#g
# 6. Django admin helpers: read-only admin and per-row actions → the kernel (porta.api.modeladmin),
#    actions gated by API permissions → rbac.admin_actions; porta.admin keeps only the admin site.
s/^\([[:space:]]*\)from porta\.admin import ApiPermissionActions, \(.*\)$/\1from porta.api.modeladmin import \2\n\1from rbac.admin_actions import ApiPermissionActions/
s/^\([[:space:]]*\)from porta\.admin import \(holds_admin_permission\|ApiPermissionActions\)\(.*\)$/\1from rbac.admin_actions import \2\3/
/PortaAdminSite/!s/^\([[:space:]]*\)from porta\.admin import /\1from porta.api.modeladmin import /
# 7. The admin API's router and urls are wiring: porta.api.urls → porta.api_urls.
s/\bporta\.api\.urls\b/porta.api_urls/g
s#\bporta/api/urls\.py\b#porta/api_urls.py#g
