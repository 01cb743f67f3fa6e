"""Real e-mail backend substitutes for tests: they stand where an SMTP server would."""

from __future__ import annotations

import smtplib

from django.core.mail.backends.base import BaseEmailBackend


class RefusingBackend(BaseEmailBackend):
    """An e-mail backend whose server always refuses, as an SMTP relay that is down."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPException("relay refused the message")


class FlakyBackend(BaseEmailBackend):
    """Refuses the first ``failures`` sends (a relay that recovers), then delivers to
    django.core.mail.outbox like the locmem backend."""

    failures = 1
    attempts = 0
    #: Every message handed to the backend, refused or not.
    tried: list = []

    def send_messages(self, email_messages):
        from django.core import mail

        type(self).attempts += 1
        type(self).tried.extend(email_messages)
        if type(self).attempts <= type(self).failures:
            raise smtplib.SMTPServerDisconnected("connection dropped")
        mail.outbox.extend(email_messages)
        return len(email_messages)


class SecondCopyBackend(BaseEmailBackend):
    """While the first send is under way, runs a second delivery of the same message in another
    thread (its own database connection), as a task the broker handed out twice would; then
    delivers to django.core.mail.outbox. ``second_result`` is what that second delivery returned."""

    second_result: object = None
    started = False

    def send_messages(self, email_messages):
        import threading

        from django.core import mail
        from django.db import connections

        from courier.services import message_attempt

        cls = type(self)
        if not cls.started:
            cls.started = True
            message_id = email_messages[0].extra_headers["Message-ID"].strip("<>").partition("@")[0]

            def second_copy() -> None:
                try:
                    cls.second_result = message_attempt(message_id)
                finally:
                    connections.close_all()

            thread = threading.Thread(target=second_copy)
            thread.start()
            thread.join(timeout=30)
        mail.outbox.extend(email_messages)
        return len(email_messages)
