"""Admin helpers: run a service as a dry run to show its refusals as form errors."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import transaction

from mes.errors import ApplicationError


class _DryRun(Exception):
    pass


def dry_run(call: Callable[[], object]) -> None:
    """Run ``call`` in a savepoint that is always rolled back; turn the service's refusals into
    a ``ValidationError`` the admin shows on the form."""
    try:
        with transaction.atomic():
            call()
            raise _DryRun
    except _DryRun:
        return
    except ApplicationError as exc:
        raise ValidationError(exc.message, code=exc.code) from exc
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            raise ValidationError([f"{field}: {'; '.join(msgs)}" for field, msgs in exc.message_dict.items()]) from exc
        raise


def nested_rows(formset, fields: list[str]) -> list[dict]:
    """The kept rows of an inline formset as field dicts, in display order."""
    rows = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None)
        if not data or data.get("DELETE"):
            continue
        rows.append({name: data.get(name) for name in fields})
    return rows
