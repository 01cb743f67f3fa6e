"""Reads of applications and modules, their OIDC clients, and custom claims."""
