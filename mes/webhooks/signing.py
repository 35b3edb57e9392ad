"""Standard Webhooks signatures (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``)."""

from __future__ import annotations

import base64
import binascii
import secrets
from datetime import datetime
from functools import lru_cache

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_is_valid(secret: str) -> bool:
    body = secret[len(SECRET_PREFIX):] if secret.startswith(SECRET_PREFIX) else ""
    try:
        key = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return False
    return 24 <= len(key) <= 64


@lru_cache(maxsize=256)
def _signer(secret: str) -> Webhook:
    """The decoded key, once per secret rather than once per delivery."""
    return Webhook(secret)


def signed_headers(*, secret: str, message_id: str, timestamp: datetime, body: str) -> dict[str, str]:
    signature = _signer(secret).sign(msg_id=message_id, timestamp=timestamp, data=body)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }
