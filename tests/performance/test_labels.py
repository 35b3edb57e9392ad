"""Labels of lots, serial numbers and work orders as PDF, PNG and ZPL, each with a Code 128
barcode of the code an operator scans."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from PIL import Image

from inventory.models import Item
from inventory.services import receive
from performance.labels import Label, modules, render_png, render_zpl
from tests.factories import ItemFactory, LocationFactory, WorkOrderFactory


@pytest.fixture
def things(db, make_user):
    clerk = make_user("planner")
    stores = LocationFactory(code="STORES")
    paste = ItemFactory(code="SLD-PASTE", name="Solder paste SAC305", tracking=Item.Tracking.LOT, unit_id="kg")
    display = ItemFactory(code="DSP-61", name="Display module 6.1 inch", tracking=Item.Tracking.SERIAL)
    receive(item=paste, location=stores, quantity=Decimal("2.500"), lot_code="SP-24-118", user=clerk)
    receive(item=display, location=stores, quantity=Decimal(1), serial_codes=["DSP61-000001"], user=clerk)
    order = WorkOrderFactory(number="WO-DEMO-0042", quantity=Decimal(20))
    return {
        "lot": (paste.lots.get().pk, "SP-24-118"),
        "serial": (display.serials.get().pk, "DSP61-000001"),
        "work-order": (order.pk, "WO-DEMO-0042"),
    }


KINDS = ["lot", "serial", "work-order"]


@pytest.mark.parametrize("kind", KINDS)
def test_pdf_label(kind, things, operator_client):
    pk, code = things[kind]
    response = operator_client.get(f"/api/v1/labels/{kind}/{pk}.pdf")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert response.content.rstrip().endswith(b"%%EOF")
    assert f'filename="{kind}-{code}.pdf"' in response["Content-Disposition"]


@pytest.mark.parametrize("kind", KINDS)
def test_png_label_decodes_and_carries_the_barcode(kind, things, quality_client):
    pk, code = things[kind]
    response = quality_client.get(f"/api/v1/labels/{kind}/{pk}.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    image.load()
    assert image.format == "PNG" and image.size == (1181, 732)
    assert round(image.info["dpi"][0]) == 300
    assert _bars_in(image) == modules(code)


def _bars_in(image: Image.Image) -> str:
    """Read the barcode back from the PNG: the most frequent pixel row with many dark runs (the
    bars are ~190 identical rows), cut to its bars and turned into modules."""
    from collections import Counter

    gray = image.convert("1", dither=Image.Dither.NONE)
    width, height = gray.size
    pixels = gray.load()
    rows = Counter()
    for y in range(height):
        row = "".join("1" if pixels[x, y] == 0 else "0" for x in range(width))
        if row.count("01") > 20:
            rows[row] += 1
    row, count = rows.most_common(1)[0]
    assert count > 100, "the bars are tall"
    bars = row.strip("0")
    runs = re.findall(r"1+|0+", bars)
    module = min(len(run) for run in runs)
    assert all(len(run) % module == 0 for run in runs), "every bar and space is whole modules"
    return "".join(run[0] * (len(run) // module) for run in runs)


@pytest.mark.parametrize("kind", KINDS)
def test_zpl_label(kind, things, erp_client):
    pk, code = things[kind]
    response = erp_client.get(f"/api/v1/labels/{kind}/{pk}.zpl")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert text.startswith("^XA") and text.rstrip().endswith("^XZ")
    assert re.search(r"\^BY\d\^BCN,\d+,Y,N,N,A\^FH\\\^FD" + re.escape(code) + r"\^FS", text), text


def test_the_lot_label_says_what_the_lot_is(things):
    from performance.labels import lot_label

    label = lot_label(pk=things["lot"][0])
    assert label.heading == "SLD-PASTE  Solder paste SAC305"
    assert "Lot SP-24-118" in label.lines and "On hand 2.5 kg" in label.lines


def test_zpl_escapes_what_the_printer_would_read_as_commands():
    text = render_zpl(Label(kind="lot", title="LOT", code="A^B~C", heading="X^Y", lines=["back\\slash"]))
    assert "^FDA\\5EB\\7EC^FS" in text
    assert "^FDX\\5EY^FS" in text and "^FDback\\5Cslash^FS" in text
    assert text.count("^XA") == 1 and text.count("^XZ") == 1


def test_a_long_code_still_fits_the_label():
    code = "WO-" + "7" * 40
    image = Image.open(io.BytesIO(render_png(Label(kind="work-order", title="WORK ORDER", code=code, heading=code))))
    assert _bars_in(image) == modules(code)


def test_a_code_code128_cannot_carry_is_refused_not_a_500(db, operator_client):
    order = WorkOrderFactory(number="WO-ÄÖÜ")
    response = operator_client.get(f"/api/v1/labels/work-order/{order.pk}.pdf")
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "barcode_not_encodable"


@pytest.mark.parametrize("fmt", ["pdf", "png", "zpl"])
def test_a_missing_thing_is_404_problem(fmt, db, operator_client):
    response = operator_client.get(f"/api/v1/labels/lot/999999.{fmt}")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == "There is no lot 999999."


def test_anonymous_callers_get_no_label(things, anonymous_client):
    assert anonymous_client.get(f"/api/v1/labels/lot/{things['lot'][0]}.pdf").status_code == 401
