"""The soak's clients: HTTP with ``Idempotency-Key`` and flaky-network retries, and what each
was told (the ledger the checks compare the database with).

Every write carries its own key. A share of writes loses its answer (the client gives up after a
few milliseconds, as a tablet does when the Wi-Fi drops) and is sent again with the same key
until an answer comes; another share is sent again after its answer, which must come back
replayed, byte for byte.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass

import requests

TIMEOUT = 120.0  # gunicorn's own timeout: a request that takes longer is dropped by the server
ATTEMPTS = 5


@dataclass
class Answer:
    status: int  # 0: no answer after every attempt
    data: object = None
    code: str = ""
    key: str = ""
    body: dict | None = None


class Ledger:
    """What the clients were told. ``calls``: (kind, status, seconds, code, legitimate refusal)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[tuple[str, int, float, str, bool]] = []
        self.lost_answers = 0
        self.replays: list[tuple[str, bool, str]] = []  # kind, same answer, detail
        self.reports: list[dict] = []  # acknowledged: key, user, operation, serial, id
        self.unanswered: list[tuple[str, str]] = []  # (kind, key) with no answer at all
        # (resource, external_id) → [(outcome "acked"|"refused"|"unknown", fields)] in the order sent
        self.upserts: dict[tuple[str, str], list[tuple[str, dict]]] = defaultdict(list)
        self.released: set[int] = set()
        self.started: set[int] = set()
        self.completed: set[int] = set()

    def call(self, kind: str, status: int, seconds: float, code: str = "", legitimate: bool = False) -> None:
        self.calls.append((kind, status, seconds, code, legitimate))


class Client:
    """One user's HTTP session."""

    def __init__(self, *, base: str, token: str, name: str, ledger: Ledger, rng: random.Random,
                 lost_share: float, retry_share: float) -> None:
        self.base, self.name, self.ledger, self.rng = base, name, ledger, rng
        self.lost_share, self.retry_share = lost_share, retry_share
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.headers.update({"Authorization": f"Token {token}", "Content-Type": "application/json"})

    def get(self, kind: str, path: str, params: dict | None = None) -> Answer:
        started = time.perf_counter()
        try:
            response = self.session.get(f"{self.base}{path}", params=params, timeout=TIMEOUT)
        except requests.RequestException as exc:
            self.ledger.call(kind, 0, time.perf_counter() - started, type(exc).__name__)
            return Answer(0, code=type(exc).__name__)
        answer = _answer(response)
        self.ledger.call(kind, answer.status, time.perf_counter() - started, answer.code)
        return answer

    def write(self, kind: str, method: str, path: str, body: dict, *, legitimate: frozenset[int] = frozenset()) -> Answer:
        """Send with a fresh key; resend with that key while no answer comes. ``legitimate``:
        statuses that are a correct refusal under this load (counted apart from failures)."""
        key = f"{self.name}-{uuid.uuid4().hex}"
        data = json.dumps(body, separators=(",", ":")).encode()
        headers = {"Idempotency-Key": key}
        url = f"{self.base}{path}"
        lose = self.rng.random() < self.lost_share
        for _attempt in range(ATTEMPTS):
            timeout = (5.0, self.rng.uniform(0.002, 0.03)) if lose else TIMEOUT
            started = time.perf_counter()
            try:
                response = self.session.request(method, url, data=data, headers=headers, timeout=timeout)
            except requests.RequestException as exc:
                if lose:
                    lose = False  # the answer was lost on purpose: try again, for real this time
                    with self.ledger.lock:
                        self.ledger.lost_answers += 1
                else:
                    self.ledger.call(kind, 0, time.perf_counter() - started, type(exc).__name__)
                time.sleep(0.2)
                continue
            seconds = time.perf_counter() - started
            answer = _answer(response, key=key, body=body)
            self.ledger.call(kind, answer.status, seconds, answer.code, answer.status in legitimate)
            if answer.status < 500 and self.rng.random() < self.retry_share:
                self._replay(kind, method, url, data, headers, response)
            return answer
        self.ledger.unanswered.append((kind, key))
        return Answer(0, key=key, body=body, code="no answer")

    def _replay(self, kind: str, method: str, url: str, data: bytes, headers: dict, first: requests.Response) -> None:
        started = time.perf_counter()
        try:
            again = self.session.request(method, url, data=data, headers=headers, timeout=TIMEOUT)
        except requests.RequestException as exc:
            self.ledger.call("replay", 0, time.perf_counter() - started, type(exc).__name__)
            return
        same = again.status_code == first.status_code and again.content == first.content
        self.ledger.call("replay", again.status_code, time.perf_counter() - started, _answer(again).code, legitimate=same)
        replayed = again.headers.get("Idempotent-Replayed") == "true"
        detail = "" if same and replayed else f"{method} {url}: {first.status_code} then {again.status_code}, replayed={replayed}"
        self.ledger.replays.append((kind, same and replayed, detail))


def _answer(response: requests.Response, *, key: str = "", body: dict | None = None) -> Answer:
    try:
        data = response.json()
    except ValueError:
        data = None
    code = data.get("code", "") if isinstance(data, dict) and response.status_code >= 400 else ""
    return Answer(response.status_code, data, str(code), key, body)
