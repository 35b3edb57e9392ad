"""Electronic signatures (21 CFR 11.50 / 11.70 style).

A signature binds a person, the meaning of the act ("released from hold", "dispositioned as
scrap"), the time, and a SHA-256 hash of the signed record's content. The signer re-enters the
password at the moment of signing; the row can never be edited or deleted.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from mes.errors import ApplicationError
from mes.models import ElectronicSignature

security_log = logging.getLogger("mes.security")


class SignatureRefused(ApplicationError):
    status = 403
    code = "signature_refused"


class SignatureLocked(SignatureRefused):
    code = "signature_locked"


def _failures_key(user) -> str:
    return f"mes:signature-failures:{user.pk}"


def signing_locked(user) -> bool:
    """True while the user has had too many wrong signature passwords (21 CFR 11.300(d))."""
    return cache.get(_failures_key(user), 0) >= settings.MES_SIGNATURE_MAX_FAILURES


def _count_failure(user, *, record_type: str, record_id) -> None:
    """Count a wrong password in the shared cache (it outlives the refused change's rollback);
    on reaching the limit, lock signing for the lockout period and alert through the log."""
    key = _failures_key(user)
    timeout = settings.MES_SIGNATURE_LOCKOUT_MINUTES * 60
    cache.add(key, 0, timeout)
    try:
        failures = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout)
        failures = 1
    if failures == settings.MES_SIGNATURE_MAX_FAILURES:
        cache.touch(key, timeout)
        security_log.warning(
            "signature locked after repeated wrong passwords",
            extra={"user_id": user.pk, "username": user.get_username(), "record_type": record_type, "record_id": str(record_id)},
        )


def record_hash(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(canonical.encode()).hexdigest()


def sign_record(
    *, user, password: str | None, meaning: str, record_type: str, record_id: int | str, content: dict[str, Any]
) -> ElectronicSignature:
    """Re-authenticate ``user`` with ``password`` and store the signature; raises 403 when it fails."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("sign_record must be called inside the signed change's transaction")
    if user is None or not getattr(user, "is_authenticated", False):
        raise SignatureRefused("Only a signed-in user can sign.", field="signature_password")
    if not password:
        raise SignatureRefused(
            "This action needs an electronic signature: re-enter your password.", field="signature_password"
        )
    if signing_locked(user):
        raise SignatureLocked(
            f"Signing is locked for {settings.MES_SIGNATURE_LOCKOUT_MINUTES} minutes after "
            f"{settings.MES_SIGNATURE_MAX_FAILURES} wrong passwords; a supervisor has been alerted.",
            field="signature_password",
        )
    if authenticate(username=user.get_username(), password=password) is None:
        _count_failure(user, record_type=record_type, record_id=record_id)
        raise SignatureRefused("The password does not match: the signature was not applied.", field="signature_password")
    cache.delete(_failures_key(user))
    return ElectronicSignature.objects.create(
        user=user,
        signer_name=user.get_full_name() or user.get_username(),
        meaning=meaning,
        signed_at=timezone.now(),
        record_type=record_type,
        record_id=str(record_id),
        record_hash=record_hash(content),
    )


def signatures_of(*, record_type: str, record_id: int | str):
    """The signatures on one record, oldest first."""
    return ElectronicSignature.objects.filter(record_type=record_type, record_id=str(record_id)).order_by("signed_at", "pk")
