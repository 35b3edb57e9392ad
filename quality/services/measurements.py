"""Measurements of an inspection: one row per characteristic and sampled unit, checked against the
plan and the sample before it is recorded."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from quality import errors
from quality.models import Characteristic, Inspection, Measurement
from quality.models.plans import SPEC_DIGITS, SPEC_PLACES
from quality.services._common import to_decimal

VALUE_QUANTUM = Decimal(1).scaleb(-SPEC_PLACES)
VALUE_LIMIT = Decimal(10) ** (SPEC_DIGITS - SPEC_PLACES)


def measurement_from_row(
    index: int, row: dict, *, inspection: Inspection, characteristics: dict[int, Characteristic]
) -> tuple[Measurement, Characteristic]:
    def field(name: str) -> str:
        return f"measurements.{index}.{name}"

    reference = row.get("characteristic")
    characteristic_id = getattr(reference, "pk", reference)
    characteristic = characteristics.get(characteristic_id) if isinstance(characteristic_id, int) else None
    if characteristic is None:
        raise errors.invalid(
            f"Characteristic {characteristic_id!r} is not a characteristic of plan '{inspection.plan}'.",
            field=field("characteristic"),
            code=errors.CHARACTERISTIC_NOT_IN_PLAN,
            extra={"characteristics": sorted(characteristics)},
        )
    sample_index = row.get("sample_index")
    if isinstance(sample_index, bool) or not isinstance(sample_index, int) or not 1 <= sample_index <= inspection.sample_size:
        raise errors.invalid(
            f"The sample index must be 1 to {inspection.sample_size} (the sample size), not {sample_index!r}.",
            field=field("sample_index"),
            code=errors.SAMPLE_INDEX_OUT_OF_RANGE,
        )
    value, passed = row.get("value"), row.get("passed")
    if characteristic.kind == Characteristic.Kind.VARIABLE:
        if value is None:
            raise errors.invalid(
                f"'{characteristic.name}' is measured: give its value.", field=field("value"), code=errors.VALUE_REQUIRED
            )
        if passed is not None:
            raise errors.invalid(
                f"'{characteristic.name}' is measured, not passed or failed: give a value only.",
                field=field("passed"),
                code="unexpected",
            )
        value = to_decimal(value, field=field("value"))
        if abs(value) >= VALUE_LIMIT:
            raise errors.invalid(f"The value {value} is too large.", field=field("value"), code="value_too_large")
        value = value.quantize(VALUE_QUANTUM, rounding=ROUND_HALF_UP)
    else:
        if not isinstance(passed, bool):
            raise errors.invalid(
                f"'{characteristic.name}' is an attribute: say whether the unit passed (true or false).",
                field=field("passed"),
                code=errors.PASSED_REQUIRED,
            )
        if value is not None:
            raise errors.invalid(
                f"'{characteristic.name}' is an attribute, not a measured value: give passed only.",
                field=field("value"),
                code="unexpected",
            )
    return (
        Measurement(
            inspection=inspection,
            characteristic=characteristic,
            sample_index=sample_index,
            value=value,
            passed=passed,
            in_spec=characteristic.conforms(value=value, passed=passed),
        ),
        characteristic,
    )
