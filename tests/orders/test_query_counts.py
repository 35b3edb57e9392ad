"""List and detail endpoints read in a bounded number of queries, whatever the number of rows."""

from decimal import Decimal

import pytest

from orders import services
from tests.factories import (
    BOMFactory,
    BOMLineFactory,
    CalendarExceptionFactory,
    CalendarFactory,
    ItemFactory,
    RoutingFactory,
    RoutingOperationFactory,
    ShiftFactory,
    WorkCenterFactory,
    WorkOrderFactory,
)

pytestmark = pytest.mark.django_db

# Authentication (token + user + roles) and pagination's count: a handful of queries on top.
BUDGET = 8


@pytest.fixture
def big_bom(db):
    """A BOM of 200 lines, each component itself made from 2 parts (600 explosion rows)."""
    bom = BOMFactory(item=ItemFactory(code="BIG"))
    for n in range(200):
        component = ItemFactory(code=f"C{n:03d}")
        BOMLineFactory(bom=bom, component=component, quantity=Decimal("2"), operation_sequence=10)
        if n % 2 == 0:
            sub = BOMFactory(item=component)
            BOMLineFactory(bom=sub, component=ItemFactory(), quantity=Decimal("3"))
            BOMLineFactory(bom=sub, component=ItemFactory(), quantity=Decimal("1"))
    return bom


def test_bom_detail_of_200_lines(big_bom, operator_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(BUDGET):
        response = operator_client.get(f"/api/v1/boms/{big_bom.pk}/")
    assert response.status_code == 200 and len(response.json()["lines"]) == 200


def test_bom_list_with_many_boms(big_bom, operator_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(BUDGET):
        response = operator_client.get("/api/v1/boms/?page_size=200")
    assert response.status_code == 200 and response.json()["count"] == 101


def test_bom_explosion_of_200_lines(big_bom, operator_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(BUDGET):
        response = operator_client.get(f"/api/v1/boms/{big_bom.pk}/explosion/?quantity=5")
    assert response.status_code == 200
    body = response.json()
    assert len(body["lines"]) == 200 + 100 * 2
    assert len(body["requirements"]) == 100 + 200


def test_where_used(big_bom, operator_client, django_assert_max_num_queries):
    leaf = big_bom.lines.first().component.boms.get().lines.first().component
    with django_assert_max_num_queries(BUDGET):
        response = operator_client.get(f"/api/v1/items/{leaf.pk}/where-used/")
    assert [row["path"] for row in response.json()["results"]] == [[leaf.code, "C000"], [leaf.code, "C000", "BIG"]]


def test_bom_create_and_update_of_200_lines(planner_client, django_assert_max_num_queries):
    parent = ItemFactory(code="NEW")
    components = [ItemFactory() for _ in range(200)]
    body = {"item": parent.pk, "revision": "1", "lines": [{"component": c.pk, "quantity": "1"} for c in components]}
    with django_assert_max_num_queries(30):
        response = planner_client.post("/api/v1/boms/", body, format="json")
    assert response.status_code == 201 and len(response.json()["lines"]) == 200
    body["lines"].reverse()
    with django_assert_max_num_queries(30):
        response = planner_client.put(f"/api/v1/boms/{response.json()['id']}/", body, format="json")
    assert response.status_code == 200


def test_routing_list_and_detail(operator_client, django_assert_max_num_queries):
    routings = [RoutingFactory() for _ in range(20)]
    for routing in routings:
        for sequence in (10, 20, 30):
            RoutingOperationFactory(routing=routing, sequence=sequence)
    with django_assert_max_num_queries(BUDGET):
        listing = operator_client.get("/api/v1/routings/")
    assert listing.json()["count"] == 20
    with django_assert_max_num_queries(BUDGET):
        detail = operator_client.get(f"/api/v1/routings/{routings[0].pk}/")
    assert len(detail.json()["operations"]) == 3


def test_calendar_and_work_center_lists(operator_client, django_assert_max_num_queries):
    for _ in range(10):
        calendar = CalendarFactory()
        for weekday in range(5):
            ShiftFactory(calendar=calendar, weekday=weekday)
        CalendarExceptionFactory(calendar=calendar)
        WorkCenterFactory(calendar=calendar)
    with django_assert_max_num_queries(BUDGET):
        calendars = operator_client.get("/api/v1/calendars/")
    assert calendars.json()["count"] == 10 and len(calendars.json()["results"][0]["shifts"]) == 5
    with django_assert_max_num_queries(BUDGET):
        centers = operator_client.get("/api/v1/work-centers/")
    assert centers.json()["count"] == 10


def test_work_order_list_detail_and_operations(phone_stock, operator_client, django_assert_max_num_queries):
    orders = [WorkOrderFactory(item=phone_stock.items.phone, quantity=Decimal("1")) for _ in range(5)]
    for order in orders:
        services.work_order_release(work_order=order)
    for _ in range(30):
        WorkOrderFactory(item=phone_stock.items.board)
    with django_assert_max_num_queries(BUDGET):
        listing = operator_client.get("/api/v1/work-orders/?page_size=100")
    assert listing.json()["count"] == 35
    with django_assert_max_num_queries(BUDGET):
        detail = operator_client.get(f"/api/v1/work-orders/{orders[0].pk}/")
    assert len(detail.json()["operations"]) == 3 and len(detail.json()["materials"]) == 5
    with django_assert_max_num_queries(BUDGET):
        operations = operator_client.get("/api/v1/operations/?page_size=100")
    assert operations.json()["count"] == 15
