"""Admin authentication: a JWT or an admin API key → the kernel's Principal.

Above the domain apps (it reads keys, API keys, sessions, users' standing and rbac's admin roles)
and below the wiring, which plugs it in through REST_FRAMEWORK's DEFAULT_AUTHENTICATION_CLASSES:
the kernel only sees the Principal it puts on ``request.auth``.
"""
