"""Trace trees on a hand-built 3-level genealogy: phones ← boards ← component lots."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory import services
from inventory.errors import AMBIGUOUS_GENEALOGY, GENEALOGY_CYCLE
from inventory.models import GenealogyLink, Item, Lot, SerialNumber
from inventory.selectors import trace_backward, trace_forward
from inventory.selectors.trace import forward_leaf_keys
from mes.errors import InvalidInput
from tests.factories import ItemFactory, LocationFactory

pytestmark = pytest.mark.django_db


def trace_queries():
    """One recursive statement for the links, one for the nodes (and where the lots are)."""
    return 2


@pytest.fixture
def plant(chips, paste, boards, phones, stores, line, clerk):
    """Two boards from chip lot C1 (+ paste P1), a third from C2; phone PH1 from board B1 and
    housing lot H1, PH2 from B2 and H1, PH3 from B3. Components are issued, then produced."""
    housings = ItemFactory(code="HOUSING", tracking=Item.Tracking.LOT)
    fg = LocationFactory(code="FG")
    services.receive(item=chips, location=line, quantity=10, lot_code="C1", user=clerk)
    services.receive(item=chips, location=line, quantity=10, lot_code="C2", user=clerk)
    services.receive(item=paste, location=line, quantity="1.000", lot_code="P1", user=clerk)
    services.receive(item=housings, location=line, quantity=5, lot_code="H1", user=clerk)
    lots = {lot.code: lot for lot in Lot.objects.all()}

    def build_board(code, chip_lot, operation_id):
        services.issue(item=chips, location=line, quantity=2, lot=chip_lot, work_order_id=1, operation_id=operation_id, user=clerk)
        consumed = [(lots[chip_lot], 2)]
        if chip_lot == "C1":
            services.issue(item=paste, location=line, quantity="0.010", lot="P1", work_order_id=1, operation_id=operation_id, user=clerk)
            consumed.append((lots["P1"], Decimal("0.010")))
        services.produce(
            item=boards, location=line, quantity=1, serial_codes=[code], work_order_id=1, operation_id=operation_id,
            consumed=consumed, user=clerk,
        )

    build_board("B1", "C1", 11)
    build_board("B2", "C1", 11)
    build_board("B3", "C2", 11)
    for phone, board in (("PH1", "B1"), ("PH2", "B2"), ("PH3", "B3")):
        services.issue(item=boards, location=line, quantity=1, serials=[board], work_order_id=2, operation_id=21, user=clerk)
        services.issue(item=housings, location=line, quantity=1, lot="H1", work_order_id=2, operation_id=21, user=clerk)
        services.produce(
            item=phones, location=fg, quantity=1, serial_codes=[phone], work_order_id=2, operation_id=21,
            consumed=[(SerialNumber.objects.get(code=board), 1), (lots["H1"], 1)], user=clerk,
        )
    return {"lots": lots, "fg": fg, "line": line}


def shape(node):
    """The tree as (type, code, item, quantity, operation, depth, locations, children) tuples."""
    return (
        node["type"],
        node["code"],
        node["item"]["code"],
        node.get("quantity"),
        node.get("operation_id"),
        node["depth"],
        [loc["code"] for loc in node["locations"]],
        [shape(child) for child in node["children"]],
    )


def test_backward_trace_of_a_phone_is_the_exact_tree(plant, django_assert_max_num_queries):
    phone = SerialNumber.objects.get(code="PH1")
    with django_assert_max_num_queries(trace_queries()):
        tree = trace_backward(serial=phone)
    assert shape(tree) == (
        "serial", "PH1", "PHONE", None, None, 0, ["FG"],
        [
            ("serial", "B1", "BOARD", Decimal("1.000"), 21, 1, [],
             [
                 ("lot", "C1", "CHIP", Decimal("2.000"), 11, 2, ["LINE"], []),
                 ("lot", "P1", "PASTE", Decimal("0.010"), 11, 2, ["LINE"], []),
             ]),
            ("lot", "H1", "HOUSING", Decimal("1.000"), 21, 1, ["LINE"], []),
        ],
    )
    assert (tree["node_count"], tree["link_count"]) == (4, 4)
    board = tree["children"][0]
    assert board["status"] == "consumed" and board["work_order_id"] == 2 and board["lot_code"] is None


def test_forward_trace_of_a_chip_lot_reaches_every_phone(plant, django_assert_max_num_queries):
    with django_assert_max_num_queries(trace_queries()):
        tree = trace_forward(lot=plant["lots"]["C1"])
    assert shape(tree) == (
        "lot", "C1", "CHIP", None, None, 0, ["LINE"],
        [
            ("serial", "B1", "BOARD", Decimal("2.000"), 11, 1, [], [("serial", "PH1", "PHONE", Decimal("1.000"), 21, 2, ["FG"], [])]),
            ("serial", "B2", "BOARD", Decimal("2.000"), 11, 1, [], [("serial", "PH2", "PHONE", Decimal("1.000"), 21, 2, ["FG"], [])]),
        ],
    )
    phones = {s.code: -s.pk for s in SerialNumber.objects.filter(code__in=["PH1", "PH2"])}
    assert forward_leaf_keys(lot=plant["lots"]["C1"]) == sorted(phones.values())


def test_max_depth_cuts_the_tree(plant):
    tree = trace_backward(serial=SerialNumber.objects.get(code="PH1"), max_depth=1)
    assert [c["code"] for c in tree["children"]] == ["B1", "H1"]
    assert all(c["children"] == [] for c in tree["children"])


def test_a_lot_that_went_nowhere_is_its_own_leaf(plant):
    lot = plant["lots"]["C2"]
    unused = Lot.objects.create(item=lot.item, code="C9")
    assert trace_forward(lot=unused)["children"] == []
    assert forward_leaf_keys(lot=unused) == [unused.pk]


def test_trace_api_by_serial_and_by_lot_code(plant, operator_client):
    response = operator_client.get("/api/v1/trace/backward/?serial=PH2")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["direction"] == "backward" and [c["code"] for c in body["children"]] == ["B2", "H1"]
    assert body["children"][0]["children"][0]["quantity"] == "2.000"
    item = plant["lots"]["C2"].item_id
    forward = operator_client.get(f"/api/v1/trace/forward/?lot=C2&item={item}").json()
    assert [c["code"] for c in forward["children"]] == ["B3"] and forward["children"][0]["children"][0]["code"] == "PH3"


def test_a_trace_over_the_api_is_the_token_and_the_two_trace_statements(plant, operator_client):
    """The token with its user and roles in one statement, then the walk and the nodes."""
    with CaptureQueriesContext(connection) as queries:
        response = operator_client.get("/api/v1/trace/backward/?serial=PH2")
    assert response.status_code == 200, response.content
    assert len(queries.captured_queries) == 1 + trace_queries()


def test_trace_api_refusals(plant, operator_client):
    missing = operator_client.get("/api/v1/trace/backward/?serial=NOPE")
    assert missing.status_code == 404 and missing["Content-Type"].startswith("application/problem+json")
    neither = operator_client.get("/api/v1/trace/backward/")
    assert neither.status_code == 400 and neither.json()["code"] == "lot_or_serial"
    other = ItemFactory(code="OTHER", tracking=Item.Tracking.LOT)
    Lot.objects.create(item=other, code="C1")
    ambiguous = operator_client.get("/api/v1/trace/forward/?lot=C1")
    assert ambiguous.status_code == 400 and ambiguous.json()["errors"][0]["field"] == "item"


def test_consumed_serial_into_several_products_must_say_which(chips, boards, phones, line, clerk):
    services.receive(item=boards, location=line, quantity=1, serial_codes=["BX"], user=clerk)
    board = SerialNumber.objects.get(code="BX")
    with pytest.raises(InvalidInput) as refused:
        services.produce(item=phones, location=line, quantity=2, serial_codes=["P1", "P2"], consumed=[(board, 1)], user=clerk)
    assert refused.value.code == AMBIGUOUS_GENEALOGY
    services.produce(item=phones, location=line, quantity=2, serial_codes=["P1", "P2"], consumed=[(board, 1, "P2")], user=clerk)
    link = GenealogyLink.objects.get()
    assert (link.consumed_serial_id, link.produced_serial.code) == (board.pk, "P2")


def test_genealogy_refuses_a_cycle(chips, line, clerk):
    services.receive(item=chips, location=line, quantity=5, lot_code="A", user=clerk)
    services.receive(item=chips, location=line, quantity=5, lot_code="B", user=clerk)
    a, b = Lot.objects.get(code="A"), Lot.objects.get(code="B")
    services.link_genealogy(consumed_lot=a, produced_lot=b, quantity=1)
    with pytest.raises(InvalidInput) as refused:
        services.link_genealogy(consumed_lot=b, produced_lot=a, quantity=1)
    assert refused.value.code == GENEALOGY_CYCLE
    with pytest.raises(InvalidInput):
        services.link_genealogy(consumed_lot=a, produced_lot=a, quantity=1)
    assert GenealogyLink.objects.count() == 1


def test_a_lot_shared_out_over_several_produced_serials(chips, boards, line, clerk):
    services.receive(item=chips, location=line, quantity=10, lot_code="C", user=clerk)
    lot = Lot.objects.get(code="C")
    services.produce(item=boards, location=line, quantity=3, serial_codes=["X1", "X2", "X3"], consumed=[(lot, "1.000")], user=clerk)
    shares = sorted(GenealogyLink.objects.values_list("quantity", flat=True))
    assert shares == [Decimal("0.333"), Decimal("0.333"), Decimal("0.334")]
