"""Product structure reads: effective revisions, multi-level BOM explosion, where-used, cycles.

Explosion and where-used are each one recursive CTE (plain SQL that SQLite and PostgreSQL both
run), plus at most one query to name the items on the paths. Quantities are computed in Python
with ``Decimal``, never in SQL, so no database turns them into floats.

Quantity rules (the same for the explosion endpoint and for release):

* a line needs ``parent quantity × quantity per × (1 + scrap_factor)``;
* every requirement is rounded **up** to what its unit can count (whole pieces for ``pcs``,
  thousandths for ``kg``): nobody issues 0.4 of a screw;
* a manufactured sub-assembly is built in that rounded quantity, so its own components are
  exploded from the rounded figure, level by level;
* a phantom is never built or stocked: it is not a requirement itself, its quantity is not
  rounded, and its components are required instead, at the operation where the phantom
  line is consumed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from inventory.models import Item, UnitOfMeasure
from mes.errors import ApplicationError
from orders import errors
from orders.models import BillOfMaterials, BOMLine, RevisionStatus, Routing

MAX_DEPTH = 30
# The largest quantity a ledger field holds (18 digits, 3 decimal places).
MAX_QUANTITY = Decimal("999999999999999.999")

_BOM = BillOfMaterials._meta.db_table
_LINE = BOMLine._meta.db_table
_ITEM = Item._meta.db_table
_UNIT = UnitOfMeasure._meta.db_table


def _as_date(on: dt.date | dt.datetime | None) -> dt.date:
    if on is None:
        return timezone.localdate()
    if isinstance(on, dt.datetime):
        return timezone.localdate(on) if timezone.is_aware(on) else on.date()
    return on


def round_up(quantity: Decimal, decimals: int) -> Decimal:
    """Round up to the number of decimals a unit can count (0 for pieces)."""
    return quantity.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_CEILING).quantize(Decimal("0.001"))


def _effective(queryset, on: dt.date):
    return (
        queryset.filter(status=RevisionStatus.ACTIVE)
        .filter(Q(effective_from__isnull=True) | Q(effective_from__lte=on))
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=on))
        .order_by("-effective_from", "-id")
    )


def effective_bom(*, item: Item | int, on: dt.date | dt.datetime | None = None) -> BillOfMaterials | None:
    """The active BOM revision of ``item`` in effect on ``on`` (a date, or a time read in the
    site's time zone; default today), or None."""
    return _effective(BillOfMaterials.objects.filter(item=item), _as_date(on)).select_related("item").first()


def effective_routing(*, item: Item | int, on: dt.date | dt.datetime | None = None) -> Routing | None:
    """The active routing revision of ``item`` in effect on ``on``, or None."""
    return _effective(Routing.objects.filter(item=item), _as_date(on)).select_related("item").first()


# --- explosion ---------------------------------------------------------------------------------


@dataclass
class ExplosionLine:
    level: int
    path: list[str]
    parent_item: int
    parent_item_code: str
    component: int
    component_code: str
    component_name: str
    unit: str
    quantity_per: Decimal
    scrap_factor: Decimal
    quantity: Decimal
    operation_sequence: int | None
    via_phantom: str | None
    has_bom: bool
    stocked: bool
    bom_line: int


@dataclass
class Requirement:
    item: int
    item_code: str
    unit: str
    quantity: Decimal


@dataclass
class Explosion:
    bom: BillOfMaterials
    quantity: Decimal
    on: dt.date
    lines: list[ExplosionLine] = field(default_factory=list)

    @property
    def requirements(self) -> list[Requirement]:
        """Totals of everything bought or taken from stock at the bottom of the tree."""
        totals: dict[int, Requirement] = {}
        for line in self.lines:
            if line.has_bom:
                continue
            row = totals.get(line.component)
            if row is None:
                totals[line.component] = Requirement(line.component, line.component_code, line.unit, line.quantity)
            else:
                row.quantity += line.quantity
        return sorted(totals.values(), key=lambda r: r.item_code)


_EXPLOSION_SQL = f"""
WITH RECURSIVE tree (line_id, bom_id, component_id, is_phantom, depth, item_path, line_path) AS (
    SELECT l.id, l.bom_id, l.component_id, l.is_phantom, 1,
           CAST(',' || CAST(b.item_id AS VARCHAR(20)) || ',' || CAST(l.component_id AS VARCHAR(20)) || ',' AS VARCHAR(4000)),
           CAST(',' || CAST(l.id AS VARCHAR(20)) || ',' AS VARCHAR(4000))
    FROM {_LINE} l JOIN {_BOM} b ON b.id = l.bom_id
    WHERE l.bom_id = %s
  UNION ALL
    SELECT l.id, l.bom_id, l.component_id, l.is_phantom, t.depth + 1,
           CAST(t.item_path || CAST(l.component_id AS VARCHAR(20)) || ',' AS VARCHAR(4000)),
           CAST(t.line_path || CAST(l.id AS VARCHAR(20)) || ',' AS VARCHAR(4000))
    FROM tree t
    JOIN {_BOM} b ON b.item_id = t.component_id AND b.status = 'active'
         AND (b.effective_from IS NULL OR b.effective_from <= %s)
         AND (b.effective_to IS NULL OR b.effective_to > %s)
    JOIN {_LINE} l ON l.bom_id = b.id
    WHERE t.depth < %s {{through}}
      AND t.item_path NOT LIKE '%%,' || CAST(l.component_id AS VARCHAR(20)) || ',%%'
)
SELECT t.line_id, t.depth, t.line_path, l.quantity, l.scrap_factor, l.operation_sequence, l.is_phantom,
       l.position, l.component_id, i.code, i.name, i.kind, i.unit_id, u.decimals, t.item_path
FROM tree t
JOIN {_LINE} l ON l.id = t.line_id
JOIN {_ITEM} i ON i.id = l.component_id
JOIN {_UNIT} u ON u.code = i.unit_id
"""


def _dec(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def explode_bom(
    *, bom: BillOfMaterials, quantity: Decimal, on: dt.date | dt.datetime | None = None, single_level: bool = False
) -> Explosion:
    """Requirements to make ``quantity`` of ``bom.item`` with this BOM revision.

    Sub-assemblies are exploded with their revision in effect on ``on``. ``single_level`` stops
    at the BOM's own components (phantoms are still exploded through): what a work order for
    this item consumes.
    """
    day = _as_date(on)
    quantity = _dec(quantity)
    through = "AND t.is_phantom = %s" if single_level else ""
    params: list = [bom.pk, day, day, MAX_DEPTH] + ([True] if single_level else [])
    with connection.cursor() as cursor:
        cursor.execute(_EXPLOSION_SQL.replace("{through}", through), params)
        rows = cursor.fetchall()

    nodes: dict[str, dict] = {}
    children: dict[str, list[str]] = defaultdict(list)
    for line_id, depth, line_path, qty, scrap, op_seq, is_phantom, position, comp_id, code, name, kind, unit, decimals, _ in rows:
        nodes[line_path] = {
            "line": line_id,
            "depth": depth,
            "quantity_per": _dec(qty),
            "scrap": _dec(scrap),
            "op": op_seq,
            "phantom": bool(is_phantom),
            "position": position,
            "component": comp_id,
            "code": code,
            "name": name,
            "kind": kind,
            "unit": unit,
            "decimals": decimals,
        }
        parent = line_path[: line_path.rstrip(",").rfind(",") + 1]
        children[parent].append(line_path)
    for parent_key, keys in children.items():
        keys.sort(key=lambda k: (nodes[k]["position"], nodes[k]["line"]))

    for key, node in nodes.items():
        if node["phantom"] and not children.get(key):
            raise ApplicationError(
                f"Phantom {node['code']} has no active BOM in effect on {day}: it cannot be exploded.",
                code=errors.PHANTOM_WITHOUT_BOM,
                extra={"item": node["component"], "item_code": node["code"]},
            )
        if node["depth"] >= MAX_DEPTH:
            raise ApplicationError(
                f"The BOM of {bom.item.code} is deeper than {MAX_DEPTH} levels.", code=errors.BOM_TOO_DEEP
            )

    item = bom.item
    explosion = Explosion(bom=bom, quantity=quantity, on=day)

    def walk(parent_key: str, parent_qty: Decimal, level: int, path: list[str], parent: tuple[int, str],
             via: str | None, via_op: int | None) -> None:
        for key in children.get(parent_key, ()):
            node = nodes[key]
            exact = parent_qty * node["quantity_per"] * (1 + node["scrap"])
            if exact > MAX_QUANTITY:
                raise ApplicationError(
                    f"{node['code']} would need more than {MAX_QUANTITY} {node['unit']}: the quantity is too large.",
                    code=errors.QUANTITY_TOO_LARGE,
                    status=400,
                    field="quantity",
                )
            # Components of a phantom are consumed where the phantom line is consumed.
            op = via_op if via else node["op"]
            if node["phantom"]:
                walk(key, exact, level, path, parent, via or node["code"], op)
                continue
            required = round_up(exact, node["decimals"])
            has_children = bool(children.get(key))
            explosion.lines.append(
                ExplosionLine(
                    level=level,
                    path=[*path, node["code"]],
                    parent_item=parent[0],
                    parent_item_code=parent[1],
                    component=node["component"],
                    component_code=node["code"],
                    component_name=node["name"],
                    unit=node["unit"],
                    quantity_per=node["quantity_per"],
                    scrap_factor=node["scrap"],
                    quantity=required,
                    operation_sequence=op,
                    via_phantom=via,
                    has_bom=has_children,
                    stocked=node["kind"] != Item.Kind.PHANTOM,
                    bom_line=node["line"],
                )
            )
            if has_children:
                walk(key, required, level + 1, [*path, node["code"]], (node["component"], node["code"]), None, None)

    walk(",", quantity, 1, [item.code], (item.pk, item.code), None, None)
    return explosion


# --- where-used and cycles ---------------------------------------------------------------------

_WHERE_USED_SQL = f"""
WITH RECURSIVE used (bom_id, item_id, line_id, depth, item_path) AS (
    SELECT b.id, b.item_id, l.id, 1,
           CAST(',' || CAST(l.component_id AS VARCHAR(20)) || ',' || CAST(b.item_id AS VARCHAR(20)) || ',' AS VARCHAR(4000))
    FROM {_LINE} l JOIN {_BOM} b ON b.id = l.bom_id
    WHERE l.component_id = %s {{statuses}} {{exclude}}
  UNION ALL
    SELECT b.id, b.item_id, l.id, u.depth + 1,
           CAST(u.item_path || CAST(b.item_id AS VARCHAR(20)) || ',' AS VARCHAR(4000))
    FROM used u
    JOIN {_LINE} l ON l.component_id = u.item_id
    JOIN {_BOM} b ON b.id = l.bom_id
    WHERE u.depth < %s {{statuses}} {{exclude}}
      AND u.item_path NOT LIKE '%%,' || CAST(b.item_id AS VARCHAR(20)) || ',%%'
)
SELECT u.depth, u.item_path, b.id, b.revision, b.status, b.effective_from, b.effective_to,
       b.item_id, i.code, i.name, l.id, l.quantity, l.unit_id, l.is_phantom, l.operation_sequence, l.component_id
FROM used u
JOIN {_BOM} b ON b.id = u.bom_id
JOIN {_ITEM} i ON i.id = b.item_id
JOIN {_LINE} l ON l.id = u.line_id
ORDER BY u.depth, i.code, b.revision, l.id
"""


@dataclass
class WhereUsedRow:
    level: int
    path: list[str]
    bom: int
    bom_revision: str
    bom_status: str
    effective_from: dt.date | None
    effective_to: dt.date | None
    parent_item: int
    parent_item_code: str
    parent_item_name: str
    component: int
    component_code: str
    quantity: Decimal
    unit: str
    is_phantom: bool
    operation_sequence: int | None


def _where_used_rows(*, item_id: int, statuses: list[str] | None, exclude_bom_id: int | None, max_depth: int):
    status_sql = ""
    status_params: list = []
    if statuses:
        status_sql = "AND b.status IN (" + ", ".join(["%s"] * len(statuses)) + ")"
        status_params = list(statuses)
    exclude_sql, exclude_params = ("AND b.id <> %s", [exclude_bom_id]) if exclude_bom_id else ("", [])
    sql = _WHERE_USED_SQL.replace("{statuses}", status_sql).replace("{exclude}", exclude_sql)
    params = [item_id, *status_params, *exclude_params, max_depth, *status_params, *exclude_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _ids_in(path: str) -> list[int]:
    return [int(part) for part in path.strip(",").split(",") if part]


def where_used(
    *, item: Item | int, statuses: list[str] | None = None, max_levels: int = MAX_DEPTH
) -> list[WhereUsedRow]:
    """Every BOM that uses ``item``, directly (level 1) or through sub-assemblies and phantoms
    (level 2, 3, …), with the parent item and the path ``[item, parent, grandparent, …]``."""
    item_id = getattr(item, "pk", item)
    rows = _where_used_rows(item_id=item_id, statuses=statuses, exclude_bom_id=None, max_depth=max(1, min(max_levels, MAX_DEPTH)))
    ids = {pk for row in rows for pk in _ids_in(row[1])}
    codes = dict(Item.objects.filter(pk__in=ids).values_list("pk", "code")) if ids else {}
    return [
        WhereUsedRow(
            level=depth,
            path=[codes.get(pk, str(pk)) for pk in _ids_in(path)],
            bom=bom_id,
            bom_revision=revision,
            bom_status=status,
            effective_from=_date(effective_from),
            effective_to=_date(effective_to),
            parent_item=parent_id,
            parent_item_code=parent_code,
            parent_item_name=parent_name,
            component=component_id,
            component_code=codes.get(component_id, str(component_id)),
            quantity=_dec(quantity),
            unit=unit,
            is_phantom=bool(is_phantom),
            operation_sequence=op_seq,
        )
        for (depth, path, bom_id, revision, status, effective_from, effective_to, parent_id, parent_code, parent_name,
             _line, quantity, unit, is_phantom, op_seq, component_id) in rows
    ]


def _date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def find_bom_cycle(*, item: Item | int, component_ids: list[int], exclude_bom_id: int | None = None) -> list[int] | None:
    """If ``item`` using these components would close a loop through the BOMs in use (draft or
    active), the loop as item ids ``[item, component, …, item]``; else None."""
    item_id = getattr(item, "pk", item)
    components = set(component_ids)
    if item_id in components:
        return [item_id, item_id]
    if not components:
        return None
    rows = _where_used_rows(
        item_id=item_id,
        statuses=[RevisionStatus.DRAFT, RevisionStatus.ACTIVE],
        exclude_bom_id=exclude_bom_id,
        max_depth=MAX_DEPTH * 2,
    )
    for row in rows:
        parent_id, path = row[7], row[1]
        if parent_id in components:
            chain = _ids_in(path)  # item, user of item, …, parent_id
            return [item_id, *reversed(chain[1:]), item_id]
    return None


def item_codes(ids: list[int]) -> dict[int, str]:
    return dict(Item.objects.filter(pk__in=set(ids)).values_list("pk", "code"))
