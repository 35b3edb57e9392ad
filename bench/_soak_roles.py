"""What each client of the soak does, in a loop until told to stop.

* **ERP** — keeps a backlog of draft work orders for main boards (``PUT
  /work-orders/by-external-id/``, sometimes ``POST /work-orders/bulk/``), changes the priority
  of some (409 ``work_order_not_draft`` when a planner released it first: a correct refusal),
  and otherwise upserts items one by one and in bulk.
* **Planner** — lists draft orders and releases one (409 when another planner released it
  first), handing its operation to the floor; reads the released orders while the floor is busy.
* **Operator** — takes a released operation, starts it, reports one board per report (lots
  scanned for four components, one new serial, two reels backflushed), sometimes one board too
  many (409 ``over_report``), and completes it; reads the SMT dispatch list while idle.
* **Tracer** — backward traces of boards made during the run, forward traces of component lots.
"""

from __future__ import annotations

import datetime as dt
import queue
import random
import threading
import time
import uuid

from bench._soak_clients import Client, Ledger
from bench._soak_plant import Plant

CONFLICT = frozenset({409})


class Floor:
    """What the clients share: the released operations waiting for an operator, the boards made."""

    def __init__(self, plant: Plant, operators: int) -> None:
        self.plant = plant
        self.operators = operators
        self.ready: queue.Queue[tuple[int, int]] = queue.Queue()
        self.serials: list[str] = []
        self.orders_created = 0
        self.orders_released = 0
        self.order_ids: list[str] = []  # external ids of the ERP's orders
        self.item_ids: list[str] = []  # external ids of the ERP's items
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def backlog(self) -> int:
        return self.orders_created - self.orders_released


def _pause(rng: random.Random, think: float) -> None:
    if think > 0:
        time.sleep(rng.uniform(0.5, 1.5) * think)


def erp(client: Client, floor: Floor, think: float) -> None:
    rng, ledger, plant = client.rng, client.ledger, floor.plant
    while not floor.stop.is_set():
        draw = rng.random()
        if floor.backlog() < 2 * floor.operators + 4:
            if draw < 0.75:
                _put_order(client, floor, ledger, _new_order_id(floor), plant)
            else:
                _bulk_orders(client, floor, ledger, plant, rng.randint(3, 8))
        elif draw < 0.15 and floor.order_ids:
            _put_order(client, floor, ledger, rng.choice(floor.order_ids), plant)
        elif draw < 0.65:
            known = floor.item_ids and rng.random() < 0.5
            _put_item(client, floor, ledger, rng.choice(floor.item_ids) if known else _new_item_id(floor))
        else:
            _bulk_items(client, floor, ledger, rng.randint(20, 100))
        _pause(rng, think * 2)


def _new_order_id(floor: Floor) -> str:
    return f"SOAK-WO-{uuid.uuid4().hex[:10]}"


def _new_item_id(floor: Floor) -> str:
    return f"SOAK-IT-{uuid.uuid4().hex[:10]}"


def _order_fields(client: Client, plant: Plant) -> dict:
    due = dt.datetime.now(dt.UTC) + dt.timedelta(days=client.rng.randint(1, 20))
    return {
        "item": plant.product_id,
        "quantity": f"{client.rng.randint(3, 12)}.000",
        "due_at": due.replace(microsecond=0).isoformat(),
        "priority": client.rng.randint(1, 99),
    }


def _put_order(client: Client, floor: Floor, ledger: Ledger, external_id: str, plant: Plant) -> None:
    fields = _order_fields(client, plant)
    answer = client.write("erp: work order PUT", "PUT", f"/api/v1/work-orders/by-external-id/{external_id}/", fields,
                          legitimate=CONFLICT)
    _record_upsert(ledger, "work_order", external_id, answer.status, fields)
    if answer.status == 201:
        with floor.lock:
            floor.order_ids.append(external_id)
            floor.orders_created += 1


def _bulk_orders(client: Client, floor: Floor, ledger: Ledger, plant: Plant, count: int) -> None:
    records = [{"external_id": _new_order_id(floor), **_order_fields(client, plant)} for _ in range(count)]
    answer = client.write("erp: work orders bulk", "POST", "/api/v1/work-orders/bulk/", {"records": records})
    for record in records:
        _record_upsert(ledger, "work_order", record["external_id"], answer.status, record)
    if answer.status == 200:
        with floor.lock:
            floor.order_ids.extend(r["external_id"] for r in records)
            floor.orders_created += count


def _item_fields(client: Client, external_id: str) -> dict:
    return {"code": external_id.replace("SOAK-IT-", "SK-"), "name": f"Soak part rev {client.rng.randint(1, 10**6)}",
            "tracking": "lot", "unit": "pcs"}


def _put_item(client: Client, floor: Floor, ledger: Ledger, external_id: str) -> None:
    fields = _item_fields(client, external_id)
    answer = client.write("erp: item PUT", "PUT", f"/api/v1/items/by-external-id/{external_id}/", fields)
    _record_upsert(ledger, "item", external_id, answer.status, fields)
    if answer.status == 201:
        with floor.lock:
            floor.item_ids.append(external_id)


def _bulk_items(client: Client, floor: Floor, ledger: Ledger, count: int) -> None:
    known = client.rng.sample(floor.item_ids, min(len(floor.item_ids), count // 2))
    ids = known + [_new_item_id(floor) for _ in range(count - len(known))]
    records = [{"external_id": external_id, **_item_fields(client, external_id)} for external_id in ids]
    answer = client.write("erp: items bulk", "POST", "/api/v1/items/bulk/", {"records": records})
    for record in records:
        _record_upsert(ledger, "item", record["external_id"], answer.status, record)
    if answer.status == 200:
        with floor.lock:
            floor.item_ids.extend(i for i in ids if i not in known)


def _record_upsert(ledger: Ledger, resource: str, external_id: str, status: int, fields: dict) -> None:
    outcome = "acked" if status in (200, 201) else "unknown" if status == 0 else "refused"
    ledger.upserts[(resource, external_id)].append((outcome, fields))


def planner(client: Client, floor: Floor, think: float) -> None:
    rng, plant = client.rng, floor.plant
    while not floor.stop.is_set():
        if floor.ready.qsize() >= 2 * floor.operators:
            client.get("planner: released list", "/api/v1/work-orders/", {"status": "released", "page_size": 20})
            _pause(rng, think * 4)
            continue
        answer = client.get(
            "planner: draft list", "/api/v1/work-orders/", {"status": "draft", "item": plant.product_id, "page_size": 20}
        )
        drafts = [row for row in (answer.data or {}).get("results", []) if (row.get("external_id") or "").startswith("SOAK-")]
        if not drafts:
            _pause(rng, think * 4)
            continue
        order = rng.choice(drafts[:4])
        answer = client.write("planner: release", "POST", f"/api/v1/work-orders/{order['id']}/release/", {},
                              legitimate=CONFLICT)
        if answer.status == 200:
            client.ledger.released.add(order["id"])
            with floor.lock:
                floor.orders_released += 1
            operation = min(answer.data["operations"], key=lambda row: row["sequence"])
            floor.ready.put((operation["id"], int(float(answer.data["quantity"]))))
        _pause(rng, think)


def operator(client: Client, floor: Floor, think: float, over_report_share: float) -> None:
    rng, plant, ledger = client.rng, floor.plant, client.ledger
    while not floor.stop.is_set():
        try:
            operation, quantity = floor.ready.get(timeout=0.5)
        except queue.Empty:
            client.get("operator: dispatch list", f"/api/v1/work-centers/{plant.smt_id}/dispatch-list/")
            continue
        answer = client.write("operator: start", "POST", f"/api/v1/operations/{operation}/start/", {})
        if answer.status != 200:
            continue
        ledger.started.add(operation)
        consumed = [{"item": item, "lot": rng.choice(codes), "quantity": per_board} for item, per_board, codes in plant.scanned]
        extra = 1 if rng.random() < over_report_share else 0
        for n in range(quantity + extra):
            if floor.stop.is_set():
                return
            serial = f"SB-{client.name[-2:]}-{operation}-{n}-{uuid.uuid4().hex[:6]}"
            body = {
                "quantity_good": "1",
                "consumed": consumed,
                "produced_serials": [serial],
                "recorded_at": dt.datetime.now(dt.UTC).isoformat(),
            }
            answer = client.write("operator: report", "POST", f"/api/v1/operations/{operation}/reports/", body,
                                  legitimate=CONFLICT if n >= quantity else frozenset())
            if answer.status == 201:
                ledger.reports.append(
                    {"key": answer.key, "user": client.name, "operation": operation, "serial": serial, "id": answer.data["id"],
                     "over": n >= quantity}
                )
                floor.serials.append(serial)
            _pause(rng, think)
        answer = client.write("operator: complete", "POST", f"/api/v1/operations/{operation}/complete/", {})
        if answer.status == 200:
            ledger.completed.add(operation)


def tracer(client: Client, floor: Floor, think: float) -> None:
    rng, plant = client.rng, floor.plant
    lots = [(item, code) for item, _per_board, codes in plant.scanned for code in codes]
    while not floor.stop.is_set():
        if floor.serials and rng.random() < 0.6:
            serial = floor.serials[-rng.randint(1, min(len(floor.serials), 500))]
            client.get("trace: backward", "/api/v1/trace/backward/", {"serial": serial})
        else:
            item, code = rng.choice(lots)
            client.get("trace: forward", "/api/v1/trace/forward/", {"lot": code, "item": item})
        _pause(rng, think * 4)
