"""An email backend whose failures a test chooses, to exercise retries and permanent failures."""

from __future__ import annotations

import smtplib

from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class ScriptedBackend(LocmemBackend):
    """Pops one outcome per message from `script` (an exception to raise, or None to deliver);
    delivers normally once the script is empty. Counts the connections made."""

    script: list[Exception | None] = []
    opened = 0

    def __init__(self, *args, **kwargs):
        ScriptedBackend.opened += 1
        super().__init__(*args, **kwargs)

    def send_messages(self, messages):
        for message in messages:
            if ScriptedBackend.script:
                outcome = ScriptedBackend.script.pop(0)
                if outcome is not None:
                    raise outcome
            super().send_messages([message])
        return len(messages)


def refused(address: str, code: int = 550) -> smtplib.SMTPRecipientsRefused:
    return smtplib.SMTPRecipientsRefused({address: (code, b"5.1.1 No such user")})


def server_gone() -> smtplib.SMTPServerDisconnected:
    return smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class SlowBackend(LocmemBackend):
    """Takes its time over each message, so two senders surely overlap."""

    def send_messages(self, messages):
        import time

        time.sleep(0.3)
        return super().send_messages(messages)
