"""Which records carry an audit trail, registered with django-simple-history by name.

The kernel imports no app: the audited models are named here and looked up in the app
registry when the project starts. Their history tables live with the kernel (``mes``).
"""

from django.apps import apps
from simple_history import register
from simple_history.exceptions import MultipleRegistrationsError

# resource name in the API → model. A BOM's lines, a routing's operations and a plan's
# characteristics are replaced as a whole with their parent, whose trail records the change.
AUDITED = {
    "items": "inventory.Item",
    "locations": "inventory.Location",
    "holds": "inventory.Hold",
    "work-centers": "orders.WorkCenter",
    "calendars": "orders.Calendar",
    "boms": "orders.BillOfMaterials",
    "routings": "orders.Routing",
    "work-orders": "orders.WorkOrder",
    "inspection-plans": "quality.InspectionPlan",
    "nonconformances": "quality.Nonconformance",
}


def audited_model(resource: str):
    label = AUDITED.get(resource)
    if label is None:
        return None
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def register_audited_models() -> None:
    for label in AUDITED.values():
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        if hasattr(model, "history"):
            continue
        try:
            register(model, app="mes", table_name=f"mes_history_{model._meta.app_label}_{model._meta.model_name}")
        except MultipleRegistrationsError:
            pass
