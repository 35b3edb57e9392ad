"""Writing the genealogy: consumed lot/serial → produced lot/serial."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import ROUND_DOWN, Decimal

from django.db import transaction

from inventory import errors
from inventory.models import GenealogyLink, Lot, SerialNumber
from inventory.models.genealogy import node_key
from inventory.selectors.trace import descendant_keys
from inventory.services._common import to_decimal
from mes import sql
from mes.quantities import QUANTUM, quantize


def _key(node) -> int:
    if isinstance(node, SerialNumber):
        return node_key(serial_id=node.pk)
    if isinstance(node, Lot):
        return node_key(lot_id=node.pk)
    raise errors.invalid("A consumed entry must be a lot or a serial number.", field="consumed", code="invalid")


def _link(consumed, produced, quantity: Decimal, refs: dict) -> GenealogyLink:
    link = sql.new_row(
        GenealogyLink,
        consumed_lot=consumed if isinstance(consumed, Lot) else consumed.lot,
        consumed_serial=consumed if isinstance(consumed, SerialNumber) else None,
        produced_lot=produced if isinstance(produced, Lot) else produced.lot,
        produced_serial=produced if isinstance(produced, SerialNumber) else None,
        quantity=quantity,
        **refs,
    )
    link.consumed_key = _key(consumed)
    link.produced_key = _key(produced)
    return link


def _check_acyclic(pairs: list[tuple[int, int]], *, produced_new: bool = False) -> None:
    """Refuse a link that would make a product its own component (one query when all is well;
    none when the produced nodes are new, as nothing can have been made from them yet)."""
    by_produced: dict[int, set[int]] = defaultdict(set)
    for consumed, produced in pairs:
        if consumed == produced:
            raise errors.invalid("A lot or serial cannot be consumed into itself.", field="consumed", code=errors.GENEALOGY_CYCLE)
        by_produced[produced].add(consumed)
    if produced_new:
        return
    consumed_keys = {c for c, _ in pairs}
    if not consumed_keys & descendant_keys(by_produced):
        return
    for produced, consumed in by_produced.items():
        if consumed & descendant_keys([produced]):
            raise errors.invalid(
                "That link would make a product a component of itself.", field="consumed", code=errors.GENEALOGY_CYCLE
            )


def _shares(quantity: Decimal, parts: int) -> list[Decimal]:
    """Split a consumed lot quantity over several produced nodes; each share at least one quantum."""
    if parts == 1:
        return [quantity]
    base = (quantity / parts).quantize(QUANTUM, rounding=ROUND_DOWN)
    shares = [max(base, QUANTUM)] * parts
    remainder = quantity - base * parts
    index = 0
    while remainder >= QUANTUM and base >= QUANTUM:
        shares[index % parts] += QUANTUM
        remainder -= QUANTUM
        index += 1
    return shares


def link_consumed(
    *,
    consumed,
    produced_lot: Lot | None,
    produced_serials: list[SerialNumber],
    work_order_id=None,
    operation_id=None,
    document_type: str = "",
    document_id: str = "",
    produced_new: bool = False,
    also: Sequence[list] = (),
) -> list[GenealogyLink]:
    """Links from each consumed ``(lot or serial, quantity[, produced serial code])`` to the produced
    nodes (the serials, else the lot). A lot consumed into several serials is shared out between
    them; a consumed serial needs its produced serial named when several are produced. An
    untracked product has no node, so nothing is linked. ``produced_new``: the produced serials
    were created in this transaction (so no link can close a cycle through them). ``also``: the
    caller's writes that read nothing back, sent in the same statement as the links (written even
    when there is nothing to link)."""
    consumed = list(consumed or [])
    produced = list(produced_serials) or ([produced_lot] if produced_lot is not None else [])
    if not consumed or not produced:
        sql.write_together(*also)
        return []
    by_code = {s.code: s for s in produced_serials}
    refs = {
        "work_order_id": work_order_id,
        "operation_id": operation_id,
        "document_type": document_type or "",
        "document_id": str(document_id or ""),
    }
    links: list[GenealogyLink] = []
    for index, entry in enumerate(consumed):
        node, quantity, *target = entry
        quantity = quantize(to_decimal(quantity, field=f"consumed[{index}].quantity"))
        if quantity <= 0:
            raise errors.invalid(
                "A consumed quantity must be positive.", field=f"consumed[{index}].quantity", code=errors.QUANTITY_NOT_POSITIVE
            )
        _key(node)
        if isinstance(node, SerialNumber) and quantity != 1:
            raise errors.invalid(
                "A serial number is consumed one at a time.", field=f"consumed[{index}].quantity", code=errors.QUANTITY_NOT_WHOLE
            )
        if target and target[0]:
            if target[0] not in by_code:
                raise errors.invalid(
                    f"{target[0]} is not among the produced serial numbers.",
                    field=f"consumed[{index}].produced_serial",
                    code=errors.SERIAL_NOT_FOUND,
                )
            links.append(_link(node, by_code[target[0]], quantity, refs))
        elif len(produced) == 1:
            links.append(_link(node, produced[0], quantity, refs))
        elif isinstance(node, SerialNumber):
            raise errors.invalid(
                f"Serial {node.code} went into one of {len(produced)} produced serials: say which.",
                field=f"consumed[{index}]",
                code=errors.AMBIGUOUS_GENEALOGY,
            )
        else:
            for target_node, share in zip(produced, _shares(quantity, len(produced)), strict=True):
                links.append(_link(node, target_node, share, refs))
    _check_acyclic([(link.consumed_key, link.produced_key) for link in links], produced_new=produced_new and bool(produced_serials))
    return sql.insert_rows(GenealogyLink, links, also=also)


@transaction.atomic
def link_genealogy(
    *,
    consumed_lot: Lot | None = None,
    consumed_serial: SerialNumber | None = None,
    produced_lot: Lot | None = None,
    produced_serial: SerialNumber | None = None,
    quantity,
    work_order_id=None,
    operation_id=None,
    document_type: str = "",
    document_id: str = "",
) -> GenealogyLink:
    """One link, when consumption and production are recorded apart (e.g. a rework or a kit)."""
    consumed = consumed_serial or consumed_lot
    produced = produced_serial or produced_lot
    if consumed is None:
        raise errors.invalid("Name the consumed lot or serial.", field="consumed_lot", code="required")
    if produced is None:
        raise errors.invalid("Name the produced lot or serial.", field="produced_lot", code="required")
    (link,) = link_consumed(
        consumed=[(consumed, quantity)],
        produced_lot=produced_lot,
        produced_serials=[produced_serial] if produced_serial else [],
        work_order_id=work_order_id,
        operation_id=operation_id,
        document_type=document_type,
        document_id=document_id,
    )
    return link
