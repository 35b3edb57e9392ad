"""A client generated from the OpenAPI schema (openapi-python-client) drives the ERP round trip:
log in, upsert an item and a work order, release it, read the events."""

import hashlib
import importlib
import shutil
import subprocess
import tempfile
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from tests.factories import UserFactory, WorkCenterFactory

GENERATOR = Path(sys.executable).parent / "openapi-python-client"


@pytest.fixture
def generated_client(anonymous_client):
    """Generate (once per schema version: it takes a minute) and import the client package."""
    schema = anonymous_client.get("/api/schema/?format=json").content
    folder = Path(tempfile.gettempdir()) / f"mes-generated-client-{hashlib.sha256(schema).hexdigest()[:16]}"
    if not (folder / "gen" / "mes_client" / "__init__.py").exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        (folder / "openapi.json").write_bytes(schema)
        (folder / "config.yml").write_text(
            "post_hooks: []\nproject_name_override: mes-client\npackage_name_override: mes_client\n"
        )
        subprocess.run(
            [
                str(GENERATOR), "generate", "--path", str(folder / "openapi.json"),
                "--config", str(folder / "config.yml"), "--output-path", str(folder / "gen"),
            ],
            check=True,
            capture_output=True,
            timeout=600,
        )
    sys.path.insert(0, str(folder / "gen"))
    try:
        yield importlib.import_module("mes_client")
    finally:
        sys.path.remove(str(folder / "gen"))
        for name in [m for m in sys.modules if m == "mes_client" or m.startswith("mes_client.")]:
            del sys.modules[name]


@pytest.mark.django_db(transaction=True)
def test_generated_client_round_trips_the_erp_flow(generated_client, live_server):
    from orders.models import Routing, RoutingOperation

    mes_client = generated_client
    from mes_client.api.auth import auth_token_create
    from mes_client.api.events import events_list
    from mes_client.api.items import items_by_external_id_update
    from mes_client.api.work_orders import work_orders_by_external_id_update, work_orders_release_create
    from mes_client.models import ItemRequest, ReleaseInputRequest, TokenRequestRequest, WorkOrderDetailRequest

    UserFactory(username="erp-gen", roles=["integration"])
    anonymous = mes_client.Client(base_url=live_server.url)
    token = auth_token_create.sync(client=anonymous, body=TokenRequestRequest(username="erp-gen", password="secret-pass-123"))
    client = mes_client.AuthenticatedClient(base_url=live_server.url, token=token.token, prefix="Token")

    item = items_by_external_id_update.sync(
        "SAP-MAT-1", client=client, body=ItemRequest(code="GEN-1", name="Generated part", unit="pcs")
    )
    assert item.code == "GEN-1"
    routing = Routing.objects.create(item_id=item.id, revision="A", status="active")
    RoutingOperation.objects.create(routing=routing, sequence=10, name="Assemble", work_center=WorkCenterFactory())

    order = work_orders_by_external_id_update.sync(
        "SAP-PO-1",
        client=client,
        body=WorkOrderDetailRequest(item=item.id, quantity="5.000", due_at=timezone.now()),
        idempotency_key="po-1",
    )
    assert order.status.value == "draft"
    released = work_orders_release_create.sync(order.id, client=client, body=ReleaseInputRequest(), idempotency_key="rel-1")
    assert released.status.value == "released"

    events = events_list.sync(client=client, type_=["work_order.released"])
    assert [e.aggregate_id for e in events.results] == [str(order.id)]
