"""``Idempotency-Key`` for every state-changing API request.

For POST/PUT/PATCH under ``/api/`` carrying the header, the request is served inside one
transaction that first inserts an :class:`~mes.models.IdempotencyRecord` for (user, key) with a
hash of the request. Outcomes:

* new key: the view runs; its response is stored in the same transaction (a 5xx rolls
  everything back and stores nothing, so the client can retry);
* a retry with the same key and body: the stored response is returned unchanged
  (``Idempotent-Replayed: true``) and nothing runs;
* the same key with another method, path or body: 422 ``idempotency_key_reused``;
* two concurrent requests with one key: the second waits on the unique index until the first
  commits, then replays its response — one effect.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse

from mes.api.auth import authenticate_token_once
from mes.api.errors import PROBLEM_CONTENT_TYPE, problem
from mes.models import IdempotencyRecord

HEADER = "Idempotency-Key"
METHODS = frozenset({"POST", "PUT", "PATCH"})
MAX_KEY_LENGTH = 255


def request_fingerprint(request) -> str:
    # Keyed: a body may carry a re-entered password (an electronic signature), and a plain hash
    # of it kept in the database could be guessed offline far faster than the password's own hash.
    digest = hmac.new(settings.SECRET_KEY.encode(), digestmod=hashlib.sha256)
    digest.update(request.method.encode())
    digest.update(b"\0")
    digest.update(request.get_full_path().encode())
    digest.update(b"\0")
    digest.update(request.body or b"")
    return digest.hexdigest()


def _authenticated_user(request):
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    return authenticate_token_once(request)


def _problem(request, status_code: int, code: str, detail: str) -> JsonResponse:
    body = problem(status_code=status_code, code=code, detail=detail)
    body["instance"] = request.path
    return JsonResponse(body, status=status_code, content_type=PROBLEM_CONTENT_TYPE)


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.response_body or b""), status=record.status_code, content_type=record.content_type
    )
    response["Idempotent-Replayed"] = "true"
    return response


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(HEADER)
        if key is None or request.method not in METHODS or not request.path.startswith("/api/"):
            return self.get_response(request)
        if not key or len(key) > MAX_KEY_LENGTH:
            return _problem(
                request, 400, "invalid_idempotency_key", f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters."
            )
        user = _authenticated_user(request)
        if user is None:
            return self.get_response(request)  # the view answers 401
        fingerprint = request_fingerprint(request)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        user=user, key=key, request_hash=fingerprint, method=request.method, path=request.path[:512]
                    )
            except IntegrityError:
                record = IdempotencyRecord.objects.get(user=user, key=key)
                if record.request_hash != fingerprint:
                    return _problem(
                        request,
                        422,
                        "idempotency_key_reused",
                        f"This {HEADER} was already used for a different request.",
                    )
                return _replay(record)

            response = self.get_response(request)
            if response.status_code >= 500:
                transaction.set_rollback(True)
                return response
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
            record.status_code = response.status_code
            record.content_type = response.get("Content-Type", "application/json")
            record.response_body = response.content
            record.save(update_fields=["status_code", "content_type", "response_body"])
            return response


def stored_json(record: IdempotencyRecord):
    return json.loads(bytes(record.response_body or b"{}"))
