"""Writes of the quality app, grouped by concept; import them from here."""

from quality.services.dispositions import (
    nonconformance_close,
    nonconformance_disposition,
)
from quality.services.inspections import inspection_create, measurements_record
from quality.services.nonconformances import nonconformance_open
from quality.services.plans import (
    inspection_plan_create,
    inspection_plan_delete,
    inspection_plan_update,
    sampling_resume,
    sampling_state_for,
)
from quality.services.spc import spc_evaluate

__all__ = [
    "inspection_create",
    "inspection_plan_create",
    "inspection_plan_delete",
    "inspection_plan_update",
    "measurements_record",
    "nonconformance_close",
    "nonconformance_disposition",
    "nonconformance_open",
    "sampling_resume",
    "sampling_state_for",
    "spc_evaluate",
]
