"""Electronic signatures (21 CFR 11.50 / 11.70 style).

A signature binds a person, the meaning of the act ("released from hold", "dispositioned as
scrap"), the time, and a SHA-256 hash of the signed record's content. The signer re-enters the
password at the moment of signing; the row can never be edited or deleted.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.contrib.auth import authenticate
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from mes.errors import ApplicationError
from mes.models import ElectronicSignature


class SignatureRefused(ApplicationError):
    status = 403
    code = "signature_refused"


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
    if authenticate(username=user.get_username(), password=password) is None:
        raise SignatureRefused("The password does not match: the signature was not applied.", field="signature_password")
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
