"""The ledger invariant under random sequences of stock operations (hypothesis).

Every example runs a random list of receipts, transfers, adjustments, issues, scraps,
reservations, holds and reversals, some of them refused, against a small plant, and after
every step checks: each balance equals the sum of its moves (``ledger_discrepancies``), no
balance is negative or reserved beyond its quantity, and the balances equal an independent model
that applies only the operations the services accepted. Refusals change nothing.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory import services
from inventory.models import (
    Hold,
    Item,
    Lot,
    Reservation,
    SerialNumber,
    StockBalance,
    StockMove,
)
from inventory.selectors import available_quantity, ledger_discrepancies
from mes.errors import ApplicationError
from tests.factories import PASSWORD

LOCATIONS = ("STORES", "LINE")
LOTS = ("A", "B")
SERIALS = tuple(f"S{n}" for n in range(1, 7))

qty = st.integers(min_value=1, max_value=12)
location = st.sampled_from(LOCATIONS)
serial_set = st.lists(st.sampled_from(SERIALS), min_size=1, max_size=3, unique=True)
item_choice = st.sampled_from(["screws", "chips", "boards"])

operation = st.one_of(
    st.tuples(st.just("receive"), item_choice, location, qty, st.sampled_from(LOTS), serial_set),
    st.tuples(st.just("transfer"), item_choice, location, qty, st.sampled_from(LOTS), serial_set),
    st.tuples(st.just("adjust"), item_choice, location, st.integers(-8, 8).filter(bool), st.sampled_from(LOTS), serial_set),
    st.tuples(st.just("issue"), item_choice, location, qty, st.sampled_from(LOTS), serial_set, st.booleans()),
    st.tuples(st.just("scrap"), item_choice, location, qty, st.sampled_from(LOTS), serial_set),
    st.tuples(st.just("reserve"), item_choice, qty, st.one_of(st.none(), location)),
    st.tuples(st.just("release"), st.integers(0, 20)),
    st.tuples(st.just("hold"), st.sampled_from(LOTS)),
    st.tuples(st.just("unhold"), st.integers(0, 20)),
    st.tuples(st.just("reverse"), st.integers(0, 60)),
)


class Model:
    """On hand per (item code, location code, lot code or None), from accepted operations only."""

    def __init__(self):
        self.stock: dict[tuple, Decimal] = defaultdict(Decimal)
        self.serial_at: dict[str, str] = {}

    def apply(self, moves):
        for move in moves:
            lot = move.lot.code if move.lot_id else None
            if move.from_location_id:
                key = (move.item.code, move.from_location.code, lot)
                self.stock[key] -= move.quantity
                assert self.stock[key] >= 0, f"negative stock accepted at {key}"
                if move.serial_id:
                    assert self.serial_at.pop(move.serial.code) == move.from_location.code, "serial moved from where it was not"
            if move.to_location_id:
                self.stock[(move.item.code, move.to_location.code, lot)] += move.quantity
                if move.serial_id:
                    assert move.serial.code not in self.serial_at, "serial in two places"
                    self.serial_at[move.serial.code] = move.to_location.code


def check(model: Model):
    assert ledger_discrepancies() == []
    actual = {
        (b.item.code, b.location.code, b.lot.code if b.lot_id else None): b.quantity
        for b in StockBalance.objects.select_related("item", "location", "lot")
        if b.quantity
    }
    assert actual == {k: v for k, v in model.stock.items() if v}
    assert not StockBalance.objects.filter(quantity__lt=0).exists()
    in_stock = dict(SerialNumber.objects.filter(current_location__isnull=False).values_list("code", "current_location__code"))
    assert in_stock == model.serial_at
    for item in Item.objects.all():
        assert available_quantity(item=item) >= 0


def run(op, ctx, model: Model):
    kind, *args = op
    user = ctx["user"]
    loc = ctx["locations"]

    def tracking(item, lot_code, serials, quantity):
        if item.tracking == Item.Tracking.LOT:
            return {"lot": lot_code}, quantity
        if item.tracking == Item.Tracking.SERIAL:
            return {"serials": serials}, len(serials)
        return {}, quantity

    moves = []
    if kind == "receive":
        name, where, quantity, lot_code, serials = args
        item = ctx["items"][name]
        extra = {"lot_code": lot_code} if item.tracking == "lot" else {"serial_codes": serials} if item.tracking == "serial" else {}
        quantity = len(serials) if item.tracking == "serial" else quantity
        moves = services.receive(item=item, location=loc[where], quantity=quantity, **extra, user=user)
    elif kind == "transfer":
        name, where, quantity, lot_code, serials = args
        item = ctx["items"][name]
        extra, quantity = tracking(item, lot_code, serials, quantity)
        other = loc["LINE" if where == "STORES" else "STORES"]
        moves = services.transfer(item=item, from_location=loc[where], to_location=other, quantity=quantity, **extra, user=user)
    elif kind == "adjust":
        name, where, quantity, lot_code, serials = args
        item = ctx["items"][name]
        extra, size = tracking(item, lot_code, serials, abs(quantity))
        signed = size if quantity > 0 else -size
        moves = services.adjust(item=item, location=loc[where], quantity=signed, reason="count", **extra, user=user)
    elif kind == "issue":
        name, where, quantity, lot_code, serials, use_reservation = args
        item = ctx["items"][name]
        extra, quantity = tracking(item, lot_code, serials, quantity)
        reservation = None
        if use_reservation:
            reservation = Reservation.objects.filter(item=item, status="open").order_by("pk").first()
        moves = services.issue(item=item, location=loc[where], quantity=quantity, reservation=reservation, work_order_id=1, **extra, user=user)
    elif kind == "scrap":
        name, where, quantity, lot_code, serials = args
        item = ctx["items"][name]
        extra, quantity = tracking(item, lot_code, serials, quantity)
        moves = services.scrap(item=item, location=loc[where], quantity=quantity, reason="damaged", **extra, user=user)
    elif kind == "reserve":
        name, quantity, where = args
        item = ctx["items"][name]
        if item.tracking == "serial":
            quantity = min(quantity, 3)
        services.reserve(item=item, quantity=quantity, demand_type="work_order", demand_id=1, location=loc[where] if where else None, user=user)
    elif kind == "release":
        open_ones = list(Reservation.objects.filter(status="open").order_by("pk"))
        if open_ones:
            services.release_reservation(reservation=open_ones[args[0] % len(open_ones)], user=user)
    elif kind == "hold":
        lot = Lot.objects.filter(code=args[0]).first()
        if lot:
            services.place_hold(lot=lot, reason="suspect", user=user)
    elif kind == "unhold":
        holds = list(Hold.objects.filter(status="active").order_by("pk"))
        if holds:
            services.release_hold(hold=holds[args[0] % len(holds)], reason="cleared", user=user, signature_password=PASSWORD)
    elif kind == "reverse":
        moves_so_far = list(StockMove.objects.order_by("pk"))
        if moves_so_far:
            moves = [services.reverse_move(move=moves_so_far[args[0] % len(moves_so_far)], reason="mistake", user=user)]
    model.apply(StockMove.objects.filter(pk__in=[m.pk for m in moves]).select_related("item", "from_location", "to_location", "lot", "serial"))


@pytest.mark.django_db
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=st.lists(operation, min_size=5, max_size=20))
def test_balances_always_equal_the_ledger(ops, screws, chips, boards, stores, line, clerk):
    ctx = {
        "user": clerk,
        "items": {"screws": screws, "chips": chips, "boards": boards},
        "locations": {"STORES": stores, "LINE": line},
    }
    with transaction.atomic():
        model = Model()
        for op in ops:
            before = ledger_state()
            try:
                run(op, ctx, model)
            except ApplicationError:
                assert ledger_state() == before, f"a refused {op[0]} changed the books"
            check(model)
        transaction.set_rollback(True)


def ledger_state():
    return (
        list(StockMove.objects.order_by("pk").values_list("pk", flat=True)),
        list(StockBalance.objects.order_by("pk").values_list("quantity", "reserved")),
        list(Reservation.objects.order_by("pk").values_list("status", "quantity_consumed", "quantity_released")),
    )
