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
