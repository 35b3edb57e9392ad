"""Quality data, one module per concept; import them from ``quality.models``."""

from quality.models.inspections import (
    INSPECTION_TRANSITIONS,
    Disposition,
    Inspection,
    InspectionDisposition,
    InspectionStatus,
    Measurement,
    Source,
)
from quality.models.nonconformances import (
    NONCONFORMANCE_TRANSITIONS,
    Nonconformance,
    NonconformanceEvent,
    NonconformanceStatus,
)
from quality.models.plans import Characteristic, InspectionPlan, SamplingState, Trigger
from quality.models.spc import SpcSignal

__all__ = [
    "INSPECTION_TRANSITIONS",
    "NONCONFORMANCE_TRANSITIONS",
    "Characteristic",
    "Disposition",
    "Inspection",
    "InspectionDisposition",
    "InspectionPlan",
    "InspectionStatus",
    "Measurement",
    "Nonconformance",
    "NonconformanceEvent",
    "NonconformanceStatus",
    "SamplingState",
    "Source",
    "SpcSignal",
    "Trigger",
]
