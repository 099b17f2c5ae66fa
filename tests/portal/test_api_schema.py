"""Schemathesis over the API's own OpenAPI documents (/api/v1 and /api/v2): cases generated for
every operation from the schema, sent in-process through the portal's WSGI application with a
valid API key, and each answer checked — never a server error, and conforming to the schema
wherever the schema describes it.

Marked ``schemathesis`` (``pytest -m schemathesis``); a bounded number of examples per operation
keeps it under a minute. Schemathesis 4 (pyproject's test extra)."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts import ratelimits
from notices.services import api_key_create
from tests import factories

pytestmark = [pytest.mark.schemathesis, pytest.mark.django_db]

EXAMPLES = 50
# Never a 5xx; the status, type, headers and body as the document declares them. Not
# positive_data_acceptance: a schema-valid request may rightly be refused (an unknown cursor).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_key(db, settings, creator):
    """A developer's key in clear; rate limits off (a 429 is no finding); a work of the
    creator's registered, so that some lookups find something."""
    settings.API_RATE_LIMIT_PER_KEY = ""
    settings.API_RATE_LIMIT_PER_IP = ""
    settings.API_RATE_LIMIT_ANONYMOUS_WORK = ""
    ratelimits._paused_until = 0.0
    developer = factories.AIDeveloperFactory(name="Example AI Ltd")
    user = factories.DeveloperMemberFactory(developer=developer).user
    _, clear = api_key_create(actor=user, developer=developer, name="schemathesis")
    work = factories.WorkFactory(owner=creator, title="The Long Shore", kind="book")
    work.identifiers.create(scheme="isbn", value="9780306406157")
    return clear


_examples = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(autouse=True)
def _connection_kept():
    """As Django's test client does: the WSGI application must not close the test's database
    connection when a request ends (its transaction holds the test's data)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _failures(path: str, headers: dict) -> dict[str, str]:
    """Run the generated cases of every operation of the document at ``path`` (loaded from the
    portal in-process, over WSGI); ``{"METHOD /path": the first failure}``. (Schemathesis's own
    ``from_fixture`` needs pytest's private ``Node._nodeid``, gone in pytest 9: the operations
    are walked here instead.)"""
    schema = schemathesis.openapi.from_wsgi(path, get_wsgi_application())
    failures, operations = {}, 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @_examples
        def run(case):
            case.headers = {**(case.headers or {}), **headers}
            response = case.call()
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - every failure is reported below
            failures[f"{operation.method.upper()} {operation.path}"] = str(exc)[:3000]
    assert operations, f"no operation in {path}"
    return failures


def test_api_v1_answers_every_generated_case_without_a_server_error(api_key):
    failures = _failures("/api/v1/openapi.json", {"Authorization": f"Bearer {api_key}"})

    assert not failures, "\n\n".join(f"{op}:\n{why}" for op, why in failures.items())


def test_api_v2_answers_every_generated_case_without_a_server_error(api_key):
    failures = _failures("/api/v2/openapi.json", {"Authorization": f"API {api_key}"})

    assert not failures, "\n\n".join(f"{op}:\n{why}" for op, why in failures.items())
