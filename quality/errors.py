"""Stable error codes of the quality app and the errors that carry them.

Input that breaks a rule tied to one field is 400 and names the field; refusals because of the
state of an inspection, a nonconformance or the switching scheme are 409.
"""

from __future__ import annotations

from mes.errors import ApplicationError, InvalidInput

INSPECTION_NOT_OPEN = "inspection_not_open"
MEASUREMENT_EXISTS = "measurement_already_recorded"
CHARACTERISTIC_NOT_IN_PLAN = "characteristic_not_in_plan"
SAMPLE_INDEX_OUT_OF_RANGE = "sample_index_out_of_range"
VALUE_REQUIRED = "value_required"
PASSED_REQUIRED = "passed_required"
DUPLICATE_MEASUREMENT = "duplicate_measurement"
NO_MEASUREMENTS = "no_measurements"
PLAN_INACTIVE = "plan_inactive"
PLAN_HAS_NO_CHARACTERISTICS = "plan_has_no_characteristics"
INSPECTION_DISCONTINUED = "inspection_discontinued"
NOT_DISCONTINUED = "inspection_not_discontinued"
LOT_SIZE_REQUIRED = "lot_size_required"
WRONG_ITEM = "wrong_item"
LOT_OR_SERIAL = "lot_or_serial"
INVALID_AQL = "invalid_aql"
CHARACTERISTIC_IN_USE = "characteristic_in_use"
PLAN_IN_USE = "plan_in_use"
DISPOSITION_NOT_ALLOWED = "disposition_not_allowed"
NO_SUPPLIER_LOCATION = "no_supplier_location"
NOT_ENOUGH_MATERIAL = "not_enough_material"
LOCATION_REQUIRED = "location_required"
NOT_A_SUPPLIER_LOCATION = "not_a_supplier_location"
OPERATION_NOT_FOUND = "operation_not_found"


def invalid(message: str, *, field: str, code: str, extra: dict | None = None) -> InvalidInput:
    return InvalidInput(message, field=field, code=code, extra=extra)


class InspectionNotOpen(ApplicationError):
    code = INSPECTION_NOT_OPEN

    def __init__(self, *, inspection):
        super().__init__(
            f"Inspection #{inspection.pk} is {inspection.status}: no more measurements can be recorded.",
            extra={"inspection": inspection.pk, "inspection_status": inspection.status},
        )


class InspectionDiscontinued(ApplicationError):
    code = INSPECTION_DISCONTINUED

    def __init__(self, *, plan):
        super().__init__(
            f"Sampling inspection under plan '{plan}' is discontinued after 5 lots were not accepted on"
            " tightened inspection (ISO 2859-1 9.4); resume it after corrective action.",
            extra={"plan": plan.pk},
            field="plan",
        )


class NotEnoughMaterial(ApplicationError):
    code = NOT_ENOUGH_MATERIAL

    def __init__(self, *, message: str, extra: dict):
        super().__init__(message, extra=extra, field="quantity")
