"""Printable labels with a Code 128 barcode for lots, serial numbers and work orders."""

from performance.labels.content import (
    KINDS,
    Label,
    label_for,
    lot_label,
    serial_label,
    work_order_label,
)
from performance.labels.render import (
    CONTENT_TYPES,
    modules,
    render,
    render_pdf,
    render_png,
    render_zpl,
)

__all__ = [
    "CONTENT_TYPES",
    "KINDS",
    "Label",
    "label_for",
    "lot_label",
    "modules",
    "render",
    "render_pdf",
    "render_png",
    "render_zpl",
    "serial_label",
    "work_order_label",
]
