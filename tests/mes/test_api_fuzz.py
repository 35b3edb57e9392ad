"""Property-based fuzzing of the whole API against its own OpenAPI schema (schemathesis).

Every operation is called with generated data as a superuser; any 5xx, or a response that
does not match the schema, fails the build. Seeded and bounded so CI is repeatable and fast.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

FUZZ_EXAMPLES = 8


from mes.wsgi import application  # noqa: E402  (pytest-django has configured Django by now)

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Calls go straight to the WSGI handler, whose request signals would close the database
    connection that holds the test's transaction; the test client disconnects them the same way."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def superuser_token(db):
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user = get_user_model().objects.create_superuser("fuzzer", "fuzzer@example.com", "fuzz-pass-123")
    return Token.objects.create(user=user).key


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_never_fails_and_answers_per_its_schema(case, superuser_token):
    case.call_and_validate(
        headers={"Authorization": f"Token {superuser_token}"},
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
