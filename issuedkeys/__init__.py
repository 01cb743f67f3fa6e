"""Issued API keys: the API-key product organizations hand to their own users and services, after
Ory Network's issued keys (Talos) and Unkey. Not the admin API's own keys (``apikeys/``): an issued
key is never an admin credential."""
