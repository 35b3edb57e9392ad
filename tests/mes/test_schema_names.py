"""The OpenAPI schema generates without warnings: every shared choice set has one stable name."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_schema_generates_without_warnings_and_names_shared_choice_sets(tmp_path):
    # --fail-on-warn exits non-zero on any warning, enum-name collisions included
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    text = (tmp_path / "schema.yaml").read_text()
    for name in ("NonconformanceStatusEnum", "DispositionEnum", "InspectionDispositionEnum", "MaterialStatusEnum"):
        assert f"    {name}:" in text
