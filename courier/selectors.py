from __future__ import annotations

from django.db.models import QuerySet

from courier.models import Message


def messages() -> QuerySet[Message]:
    return Message.objects.all()
