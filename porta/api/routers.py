from rest_framework.routers import SimpleRouter


class PortaRouter(SimpleRouter):
    """Paths have no trailing slash; the same path with one is served identically (no redirect)."""

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"
