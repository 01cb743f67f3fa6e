"""The OAuth 2 error every protocol endpoint raises (RFC 6749 §5.2), rendered by the views."""

from __future__ import annotations


class OAuthError(Exception):
    def __init__(
        self, error: str, description: str, status: int = 400, headers: dict[str, str] | None = None
    ):
        super().__init__(description)
        self.error, self.description, self.status, self.headers = error, description, status, headers or {}
