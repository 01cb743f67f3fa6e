"""Queued e-mail messages (bodies sealed as courier seals them) and their delivery attempts."""

from __future__ import annotations

import factory
from django.utils import timezone

from courier.models import Attempt, Message


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message
        skip_postgeneration_save = True  # the hook saves the sealed body itself

    recipient = factory.Sequence(lambda n: f"recipient{n}@example.com")
    template = "invitation"
    subject = "You are invited"

    @factory.post_generation
    def body(message, create, extracted, **kwargs):
        message.seal_body(extracted or "Hello", "")
        if create:
            message.save(update_fields=["kek_id", "body_ciphertext"])


class AttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attempt

    message = factory.SubFactory(MessageFactory)
    number = factory.Sequence(lambda n: n + 1)
    started_at = factory.LazyFunction(timezone.now)
