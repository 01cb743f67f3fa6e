"""What the apps built on organizations add to it, registered from their ``AppConfig.ready``.

Those apps import organizations, so organizations may not import them: it asks through these
registries instead (cascade counts of an organization delete, sections of a user's export,
users protected from lifecycle actions). Each entry is answered by the owning app's selectors.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from organizations.models import Organization, User

#: Rows of another app an organization delete removes, by the name the API reports them under.
cascade_counters: dict[str, Callable[[Organization], int]] = {}
#: Sections of a user's GDPR export, by name, each rendered by the app that holds the data.
user_export_sections: dict[str, Callable[[User], list[dict[str, Any]]]] = {}
#: The ids of users that may not be suspended, locked or deleted (rbac: the super-admin user);
#: ids rather than a per-user check so a set-based bulk change can exclude them in one query.
protected_user_ids: list[Callable[[], Collection[uuid.UUID]]] = []
