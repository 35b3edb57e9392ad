"""The soak's plant: the demo phone plant (``load_demo_factory``) with main boards built at the SMT
line from line-side lots deep enough for hours of reports, and one user per client."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import Decimal

from bench._harness import token_for

PRODUCT = "MBD-100"  # the main board: one SMT operation, serial-tracked output
SCANNED = {  # component → quantity per board, scanned by lot at the line
    "PCB-100": "1",
    "SOC-A1": "1",
    "MEM-8G": "1",
    "SLD-PASTE": "0.004",
}
BACKFLUSHED = ("RES-10K", "CAP-100N")  # untracked reels, backflushed by every report
LOT_SIZE = {"PCB-100": "200000", "SOC-A1": "200000", "MEM-8G": "200000", "SLD-PASTE": "2000.000"}
REEL_SIZE = "50000000"


@dataclass
class Plant:
    product_id: int
    smt_id: int
    scanned: list[tuple[int, str, list[str]]]  # component item id, quantity per board, lot codes at the line
    item_ids: dict[str, int]
    tokens: dict[str, list[str]] = field(default_factory=dict)  # role → tokens
    users: dict[str, list[str]] = field(default_factory=dict)  # role → usernames


def build(*, lots_per_component: int, clients: dict[str, int]) -> Plant:
    """Load the demo plant, receive the soak's stock, and make ``clients[role]`` users per role
    (``operator``, ``planner``, ``integration``, ``quality``) with tokens."""
    from django.core.management import call_command

    from inventory.models import Item, Location
    from inventory.services import receive
    from orders.models import WorkCenter

    call_command("load_demo_factory", "--no-users", stdout=io.StringIO())
    line = Location.objects.get(code="LINE-SMT")
    items = {item.code: item for item in Item.objects.filter(code__in=[PRODUCT, *SCANNED, *BACKFLUSHED])}
    scanned = []
    for code, per_board in SCANNED.items():
        codes = [f"{code}-SOAK-{n:02d}" for n in range(lots_per_component)]
        for lot_code in codes:
            receive(item=items[code], location=line, quantity=Decimal(LOT_SIZE[code]), lot_code=lot_code,
                    reference="SOAK-OPENING", user=None)
        scanned.append((items[code].pk, per_board, codes))
    for code in BACKFLUSHED:
        receive(item=items[code], location=line, quantity=Decimal(REEL_SIZE), reference="SOAK-OPENING", user=None)
    plant = Plant(
        product_id=items[PRODUCT].pk,
        smt_id=WorkCenter.objects.get(code="SMT").pk,
        scanned=scanned,
        item_ids={code: item.pk for code, item in items.items()},
    )
    for role, count in clients.items():
        plant.users[role] = [f"soak-{role}-{n:02d}" for n in range(count)]
        plant.tokens[role] = [token_for(username=name, role=role) for name in plant.users[role]]
    return plant
