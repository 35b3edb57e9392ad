"""``Idempotency-Key`` for every state-changing API request.

For POST/PUT/PATCH under ``/api/`` carrying the header, the request is served inside one
transaction that first inserts an :class:`~mes.models.IdempotencyRecord` for (user, key) with a
hash of the request. Outcomes:

* new key: the view runs; its response is stored in the same transaction (a 5xx rolls
  everything back and stores nothing, so the client can retry). The services of a view marked
  :func:`savepoints_optional` take no savepoints the first time: when one of them refuses, that
  attempt is rolled back whole and the request served again with savepoints, so what is stored
  and answered is the same;
* a retry with the same key and body: the stored response is returned unchanged
  (``Idempotent-Replayed: true``) and nothing runs;
* the same key with another method, path or body: 422 ``idempotency_key_reused``;
* two concurrent requests with one key: the second waits on the unique index until the first
  commits, then replays its response — one effect.

The record is claimed with ``INSERT … ON CONFLICT DO NOTHING`` (no savepoint to catch a unique
violation) and its response stored with one ``UPDATE``, both written as SQL once: every
state-changing request from a tablet pays for them.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone

from mes.api.auth import authenticate_token_once
from mes.api.errors import PROBLEM_CONTENT_TYPE, problem
from mes import sql
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


_CLAIM = (
    "INSERT INTO mes_idempotencyrecord (user_id, key, request_hash, method, path, content_type, created_at)"
    " VALUES (%s, %s, %s, %s, %s, '', %s) ON CONFLICT (user_id, key) DO NOTHING RETURNING id"
)
_STORE = "UPDATE mes_idempotencyrecord SET status_code = %s, content_type = %s, response_body = %s WHERE id = %s"


def _claim(*, user, key: str, fingerprint: str, request) -> int | None:
    """The new record's id, or ``None`` when (user, key) has one already (committed; a concurrent
    claim of the same key waits here until the other request's transaction ends)."""
    rows = sql.fetch(_CLAIM, [user.pk, key, fingerprint, request.method, request.path[:512], timezone.now()])
    return rows[0][0] if rows else None


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
        response = self._serve(request, user=user, key=key, fingerprint=fingerprint, first=True)
        if response is None:  # refused inside a service, with nothing to roll back to: served again, as usual
            response = self._serve(request, user=user, key=key, fingerprint=fingerprint, first=False)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        """On a first attempt, a view marked :func:`savepoints_optional` runs without savepoints."""
        connection = getattr(request, "_idempotency_first_attempt", None)
        if connection is not None and _savepoints_optional(view_func, request):
            connection._savepoint_allowed = _no  # asked by Django before every savepoint
        return None

    def _serve(self, request, *, user, key: str, fingerprint: str, first: bool):
        """Claim the key, run the view and store its response, in one transaction.

        On the ``first`` attempt a view marked :func:`savepoints_optional` runs without
        savepoints (a savepoint and its release are two round trips of every request, there for
        the refusals only): a refusal inside one of its services then leaves the transaction to
        be rolled back whole, and ``None`` says so — the request is served again, with
        savepoints, so that what it stores and answers is what it would have been. Nothing a
        refused attempt wrote is kept; its on-commit work is dropped with it."""
        connection = transaction.get_connection()
        with transaction.atomic():
            record_id = _claim(user=user, key=key, fingerprint=fingerprint, request=request)
            if record_id is None:
                record = IdempotencyRecord.objects.get(user=user, key=key)
                if record.request_hash != fingerprint:
                    return _problem(
                        request,
                        422,
                        "idempotency_key_reused",
                        f"This {HEADER} was already used for a different request.",
                    )
                return _replay(record)

            if not first:
                response = self.get_response(request)
            else:
                request._idempotency_first_attempt = connection
                try:
                    response = self.get_response(request)
                except Exception:
                    if _first_attempt_refused(request, connection):
                        return None
                    raise
                if _first_attempt_refused(request, connection):
                    return None  # leaving the block rolls the transaction back
            if response.status_code >= 500:
                transaction.set_rollback(True)
                return response
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
            content_type = response.get("Content-Type", "application/json")
            sql.execute(_STORE, [response.status_code, content_type[:100], response.content, record_id])
            return response


def savepoints_optional(view):
    """Mark a view, or a viewset's action, whose first attempt under an ``Idempotency-Key`` may
    run without savepoints: one whose services change nothing outside the database that a
    second attempt would change again (no counters in the cache, no messages sent before the
    commit). A refusal inside it costs a second attempt (and counts twice against the caller's
    request rate); every answer that succeeds, two round trips fewer."""
    view.savepoints_optional = True
    return view


def _savepoints_optional(view_func, request) -> bool:
    if getattr(view_func, "savepoints_optional", False):
        return True
    actions = getattr(view_func, "actions", None)  # a viewset's view: its action for this method
    handler = actions and actions.get(request.method.lower())
    return bool(handler) and getattr(getattr(view_func.cls, handler, None), "savepoints_optional", False)


def _first_attempt_refused(request, connection) -> bool:
    """End the first attempt (the connection's savepoints as the backend has them again);
    whether the view ran without them and a refusal left the transaction to be rolled back whole."""
    del request._idempotency_first_attempt
    if "_savepoint_allowed" not in vars(connection):
        return False
    del connection._savepoint_allowed  # the backend's own method again
    return connection.needs_rollback


def _no() -> bool:
    return False


def stored_json(record: IdempotencyRecord):
    return json.loads(bytes(record.response_body or b"{}"))
