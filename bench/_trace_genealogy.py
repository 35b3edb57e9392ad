"""The trace benchmark's plant: a year of phone genealogy written with set-based SQL.

One million finished phones (by default), each a 3-level tree: phone serial ← main-board serial
← component lots, plus a display serial and battery, housing and screw lots on the phone — ten
genealogy links per phone, written by ``INSERT … SELECT generate_series`` on the server.
"""

from __future__ import annotations

import time

from bench._harness import drop_and_create, log  # noqa: F401 (log: used by trace.py)

# Components per phone: (item code, tracking, lots of how many phones, level)
PHONE_PARTS = [("DSP-61", "serial", None), ("BAT-4000", "lot", 10_000), ("HSG-100", "lot", 5_000), ("SCR-M1", "lot", 50_000)]
BOARD_PARTS = [("PCB-100", "lot", 5_000), ("SOC-A1", "lot", 125_000), ("MEM-8G", "lot", 20_000), ("SLD-PASTE", "lot", 2_000), ("CAP-100N", "lot", 10_000)]
RECALL_ITEM = "SOC-A1"


def create_database(args) -> None:
    drop_and_create(args.pg_url, args.db)


def lot_plan(phones: int) -> list[tuple[str, str, int, int]]:
    """(item code, level, phones per lot, lot count) of every lot-tracked part."""
    plan = []
    for parts, level in ((PHONE_PARTS, "phone"), (BOARD_PARTS, "board")):
        for code, tracking, size in parts:
            if tracking == "lot":
                size = min(size, max(phones // 8, 1)) if code == RECALL_ITEM else size
                plan.append((code, level, size, -(-phones // size)))
    return plan


def build(args, cursor_factory) -> dict:
    """Write items, locations, lots, serials and links with set-based SQL; return the ids used."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    from inventory import demo
    from inventory.models import Item, Location

    demo.load_master_data()
    customer, _ = Location.objects.update_or_create(
        code="CUSTOMER", defaults={"name": "Shipped to customers", "kind": "site", "purpose": "customer"}
    )
    items = {item.code: item.pk for item in Item.objects.all()}
    locations = {loc.code: loc.pk for loc in Location.objects.all()}
    user, _ = get_user_model().objects.get_or_create(username="bench-quality")
    user.groups.add(Group.objects.get(name="quality"))
    token, _ = Token.objects.get_or_create(user=user)

    n = args.phones
    plan = lot_plan(n)
    t0 = time.perf_counter()
    with cursor_factory() as cur:
        # The generator is consistent by construction: foreign-key triggers are off for the load.
        cur.execute("SET session_replication_role = replica")
        cur.execute("SET synchronous_commit = off")
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("SET max_parallel_maintenance_workers = 1")
        cur.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'inventory_genealogylink' AND indexname LIKE 'genealogy_%%'")
        link_indexes = [row[0] for row in cur.fetchall()]
        for definition in link_indexes:
            cur.execute("DROP INDEX " + definition.split(" INDEX ")[1].split(" ON ")[0])

        # Lots: ids from 1, by part; lot k of a part covers phones [k*size+1, (k+1)*size].
        lot_base = {}
        next_id = 1
        for code, _level, size, count in plan:
            lot_base[code] = next_id
            cur.execute(
                """
                INSERT INTO inventory_lot (id, item_id, code, status, expires_on, supplier_lot, created_at)
                SELECT %s + k, %s, %s || '-L' || lpad(k::text, 5, '0'), 'consumed', NULL, 'SUP-' || k,
                       timestamptz '2026-01-01' + k * interval '1 hour'
                FROM generate_series(0, %s - 1) k
                """,
                [next_id, items[code], code, count],
            )
            next_id += count
        log(f"lots: {next_id - 1}")

        # Serials: phones 1..n, boards n+1..2n, displays 2n+1..3n.
        fg, shipped = locations["FG"], customer.pk
        cur.execute(
            """
            INSERT INTO inventory_serialnumber (id, item_id, code, status, current_location_id, lot_id, created_at)
            SELECT i, %s, 'PHN' || lpad(i::text, 8, '0'), 'available',
                   CASE WHEN i %% 5 = 0 THEN %s ELSE %s END, NULL,
                   timestamptz '2026-01-01' + i * interval '30 seconds'
            FROM generate_series(1, %s) i
            """,
            [items["PHN-100"], fg, shipped, n],
        )
        for offset, code, prefix in ((n, "MBD-100", "MBD"), (2 * n, "DSP-61", "DSP")):
            cur.execute(
                """
                INSERT INTO inventory_serialnumber (id, item_id, code, status, current_location_id, lot_id, created_at)
                SELECT %s + i, %s, %s || lpad(i::text, 8, '0'), 'consumed', NULL, NULL,
                       timestamptz '2026-01-01' + i * interval '30 seconds'
                FROM generate_series(1, %s) i
                """,
                [offset, items[code], prefix, n],
            )
        log(f"serials: {3 * n} ({time.perf_counter() - t0:.0f} s)")

        # Links. Work orders of 1,000 phones; operation 1 builds boards, operation 2 assembles.
        common = "1.000, 'production_report', '', timestamptz '2026-01-01' + i * interval '30 seconds'"
        cur.execute(
            f"""
            INSERT INTO inventory_genealogylink (consumed_lot_id, consumed_serial_id, produced_lot_id, produced_serial_id,
                consumed_key, produced_key, quantity, document_type, document_id, created_at, work_order_id, operation_id)
            SELECT NULL, s.sid, NULL, i, -s.sid, -i, {common}, (i - 1) / 1000 + 1, ((i - 1) / 1000 + 1) * 10 + 2
            FROM generate_series(1, %s) i
            CROSS JOIN LATERAL (VALUES (%s + i), (%s + i)) AS s(sid)
            """,
            [n, n, 2 * n],
        )
        log(f"links phone <- board, display ({time.perf_counter() - t0:.0f} s)")
        for parts, produced in ((PHONE_PARTS, "phone"), (BOARD_PARTS, "board")):
            lots = [(code, size) for code, level, size, _count in plan if level == produced]
            values = ", ".join(f"({lot_base[code]} + (i - 1) / {size})" for code, size in lots)
            produced_id = "i" if produced == "phone" else f"{n} + i"
            operation = 2 if produced == "phone" else 1
            cur.execute(
                f"""
                INSERT INTO inventory_genealogylink (consumed_lot_id, consumed_serial_id, produced_lot_id, produced_serial_id,
                    consumed_key, produced_key, quantity, document_type, document_id, created_at, work_order_id, operation_id)
                SELECT l.lid, NULL, NULL, {produced_id}, l.lid, -({produced_id}), {common},
                       (i - 1) / 1000 + 1, ((i - 1) / 1000 + 1) * 10 + {operation}
                FROM generate_series(1, %s) i
                CROSS JOIN LATERAL (VALUES {values}) AS l(lid)
                """,
                [n],
            )
            log(f"links {produced} <- lots ({time.perf_counter() - t0:.0f} s)")
        for table in ("inventory_lot", "inventory_serialnumber", "inventory_genealogylink"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        for definition in link_indexes:
            started = time.perf_counter()
            cur.execute(definition)
            log(f"{definition.split(' INDEX ')[1].split(' ON ')[0]} built in {time.perf_counter() - started:.0f} s")
    with cursor_factory() as cur:
        cur.execute("VACUUM (ANALYZE) inventory_genealogylink")
        cur.execute("VACUUM (ANALYZE) inventory_serialnumber")
        cur.execute("VACUUM (ANALYZE) inventory_lot")
    build_seconds = time.perf_counter() - t0
    log(f"built: {n} phones in {build_seconds:.0f} s")
    return {"token": token.key, "build_seconds": build_seconds}


def recall_lot(phones: int) -> tuple[int, str, int]:
    """The first system-on-chip lot (item id, code) and how many phones it went into."""
    from inventory.models import Item

    size = [size for code, _level, size, _count in lot_plan(phones) if code == RECALL_ITEM][0]
    return Item.objects.get(code=RECALL_ITEM).pk, f"{RECALL_ITEM}-L00000", min(size, phones)


PREWARM = [
    "inventory_serialnumber",
    "serial_code_idx",
    "inventory_serialnumber_pkey",
    "genealogy_backward_cover_idx",
    "genealogy_forward_idx",
    "inventory_lot",
    "inventory_lot_pkey",
    "inventory_item",
]


def prewarm(cursor_factory) -> None:
    """Read what traces touch into memory, as a running plant's database would have it (this
    server keeps PostgreSQL's default 128 MB of shared buffers, so it is the OS page cache)."""
    started = time.perf_counter()
    with cursor_factory() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        for relation in PREWARM:
            cur.execute("SELECT pg_prewarm(%s, 'read')", [relation])
    log(f"read {len(PREWARM)} relations into memory in {time.perf_counter() - started:.0f} s")
