"""Secrets the catalogue keeps for talking to other systems (an upstream endpoint's API key).

They are encrypted at rest with a key derived from SECRET_KEY, so a database dump or a backup alone
does not give them away. Keys in SECRET_KEY_FALLBACKS still decrypt, so SECRET_KEY can be rotated
the way Django rotates it for sessions; a secret that no key reads any more (SECRET_KEY replaced
without a fallback) reads as an error, and an admin types the secret in again.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.utils.encoding import force_bytes

# A purpose of its own: the derived key opens these secrets and nothing else that SECRET_KEY signs.
PURPOSE = b"civicfix:departments.UpstreamEndpoint.api_key"


class UnreadableSecret(Exception):
    """The stored secret was encrypted under a SECRET_KEY that is gone."""


def _fernet_for(secret_key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=PURPOSE, info=b"fernet").derive(
        force_bytes(secret_key)
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _keys() -> MultiFernet:
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet_for(s) for s in secrets])


def encrypt(raw: str) -> str:
    """The secret as stored: empty stays empty (no key set)."""
    if not raw:
        return ""
    return _keys().encrypt(raw.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored:
        return ""
    try:
        return _keys().decrypt(stored.encode()).decode()
    except InvalidToken:
        raise UnreadableSecret(
            "The stored secret cannot be read with SECRET_KEY (or its fallbacks); set it again."
        ) from None
