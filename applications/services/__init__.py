"""Writes to applications and modules, their OIDC clients and secrets, and custom claims."""
