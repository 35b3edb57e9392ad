"""The SPC job: judge the new points of a characteristic's control chart against the Western
Electric rules; record and announce each new violation, and hold the suspect material."""

from __future__ import annotations

from django.db import transaction

from inventory.models import Item, Lot, SerialNumber, StockMove
from mes.events import record_event
from quality.models import Characteristic, Inspection, SpcSignal, Trigger
from quality.selectors import SpcSeries, spc_series_as_judged

# Fewer points than this give limits too loose to judge anything by.
MIN_POINTS_TO_JUDGE = 5


@transaction.atomic
def spc_evaluate(*, characteristic: Characteristic, user=None) -> list[SpcSignal]:
    """Evaluate the points recorded since the last run; returns the new signals.

    The limits come from the points judged before (less those that signalled), so a new
    outlier cannot widen the limits it is judged against. Idempotent: a point is judged once
    (``spc_evaluated_through``) and a signal is unique per point and rule. When the plan says ``hold_on_spc_violation``, the material of the points
    since the last good point, and what was produced (received, for a receipt plan) since the
    first of them, is held under one nonconformance.
    """
    characteristic = (
        Characteristic.objects.select_for_update(of=("self",))
        .select_related("plan", "plan__item")
        .get(pk=characteristic.pk)
    )
    if characteristic.kind != Characteristic.Kind.VARIABLE:
        return []
    series = spc_series_as_judged(characteristic=characteristic)
    if series.chart is None or len(series.points) < MIN_POINTS_TO_JUDGE:
        return []
    watermark = characteristic.spc_evaluated_through
    new = [v for v in series.violations if series.points[v.index].key > watermark]
    chart = series.chart
    signals = []
    for violation in new:
        point = series.points[violation.index]
        signal, created = SpcSignal.objects.get_or_create(
            characteristic=characteristic,
            rule=violation.rule,
            point_key=point.key,
            defaults={
                "description": violation.description,
                "chart_type": characteristic.chart_type,
                "point_index": violation.index,
                "measurement_ids": point.measurement_ids,
                "value": point.value,
                "centre": chart.location.centre,
                "ucl": chart.location.ucl,
                "lcl": chart.location.lcl,
            },
        )
        if not created:
            continue
        signals.append(signal)
        record_event(
            type="spc.violation",
            aggregate_type="characteristic",
            aggregate_id=characteristic.pk,
            payload={
                "signal": signal.pk,
                "characteristic": characteristic.pk,
                "characteristic_name": characteristic.name,
                "plan": characteristic.plan_id,
                "item": characteristic.plan.item_id,
                "rule": signal.rule,
                "description": signal.description,
                "point_index": signal.point_index,
                "measurement_ids": signal.measurement_ids,
                "inspections": point.inspection_ids,
                "value": signal.value,
                "centre": signal.centre,
                "ucl": signal.ucl,
                "lcl": signal.lcl,
            },
            actor=user,
        )
    characteristic.spc_evaluated_through = series.points[-1].key
    characteristic.save(update_fields=["spc_evaluated_through"])
    if signals and characteristic.plan.hold_on_spc_violation:
        _hold_since_last_good_point(characteristic, series, new, signals, user=user)
    return signals


def _hold_since_last_good_point(characteristic, series: SpcSeries, new, signals: list[SpcSignal], *, user) -> None:
    from quality.services.nonconformances import nonconformance_open

    bad = {violation.index for violation in series.violations}
    first_new = min(violation.index for violation in new)
    last_good = max((index for index in range(first_new) if index not in bad), default=-1)
    suspect = series.points[last_good + 1 :]
    inspection_ids = sorted({pk for point in suspect for pk in point.inspection_ids})
    inspections = list(Inspection.objects.filter(pk__in=inspection_ids).prefetch_related("serials"))
    item: Item = characteristic.plan.item
    lot_ids = {i.lot_id for i in inspections if i.lot_id}
    serial_ids = {i.serial_id for i in inspections if i.serial_id} | {s.pk for i in inspections for s in i.serials.all()}
    if inspections:
        since = min(i.created_at for i in inspections)
        kind = StockMove.Kind.RECEIPT if characteristic.plan.trigger == Trigger.RECEIPT else StockMove.Kind.PRODUCTION
        for lot_id, serial_id in StockMove.objects.filter(item=item, kind=kind, created_at__gte=since).values_list(
            "lot_id", "serial_id"
        ):
            if lot_id:
                lot_ids.add(lot_id)
            if serial_id:
                serial_ids.add(serial_id)
    serials = list(SerialNumber.objects.filter(pk__in=serial_ids, current_location__isnull=False).order_by("pk"))
    lots = []
    if item.tracking != Item.Tracking.SERIAL:
        lots = list(Lot.objects.filter(pk__in=lot_ids, balances__quantity__gt=0).distinct().order_by("pk"))
    if not serials and not lots:
        return
    signal = signals[0]
    nonconformance_open(
        item=item,
        spc_signal=signal,
        lots=lots,
        serials=serials,
        description=(
            f"SPC rule {signal.rule} on '{characteristic.name}' (plan '{characteristic.plan}'): {signal.description}."
            f" Material since the last good point is held."
        ),
        user=user,
    )
