"""Date-time filter values the database can compare.

Python accepts offsets up to ±23:59 and years 1–9999; PostgreSQL refuses offsets beyond ±15:59
and the conversion to UTC can leave the calendar. Such values are the client's mistake: a 400
naming the parameter, checked before the query runs.
"""

from datetime import timedelta

from django import forms
from django_filters import filters
from django_filters.fields import IsoDateTimeField

MAX_OFFSET = timedelta(hours=14)


class ComparableIsoDateTimeField(IsoDateTimeField):
    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return parsed
        offset = parsed.utcoffset()
        if offset is not None and abs(offset) > MAX_OFFSET:
            raise forms.ValidationError("The time zone offset must be within ±14:00.", code="invalid")
        try:
            if offset is not None:
                parsed - offset  # noqa: B018 - the UTC instant must exist
        except OverflowError as exc:
            raise forms.ValidationError("The date is out of range.", code="invalid") from exc
        return parsed


def install() -> None:
    """Every date-time filter of the API validates its value this way."""
    filters.IsoDateTimeFilter.field_class = ComparableIsoDateTimeField
    filters.DateTimeFilter.field_class = ComparableIsoDateTimeField
