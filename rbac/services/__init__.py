"""Writes of rbac: roles, the permissions they grant, and role assignments to users."""
