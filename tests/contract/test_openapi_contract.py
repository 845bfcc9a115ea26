"""The API keeps its published contract: schemathesis generates requests from
`/openapi.json`, signs them as the administrator and as a department, and checks that no
answer is a 5xx and that every answer matches the description (status, content type, body).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import ignored_auth, positive_data_acceptance
from schemathesis.core.result import Ok

from exchange.api import create_app
from exchange.config import load_settings
from exchange.deployment import initialise
from exchange.hub import open_hub
from exchange.identity.keys import load_private_key
from tests.contract.signing_auth import SigningAuth
from tests.support.live_server import serving

# Bounded so that the whole run stays under two minutes on a small CI machine.
EXAMPLES_PER_OPERATION = 20
# `/metrics` is Prometheus text, not part of the JSON API's contract.
SKIPPED_PATHS = ["/metrics", "/docs"]


# The signature is added by the session's auth hook, which schemathesis does not see: its
# "ignored auth" probe would report every signed request. Random identifiers are rightly
# refused (404, 409), which "positive data acceptance" would report as well.
NOT_APPLICABLE = [ignored_auth, positive_data_acceptance]


@pytest.fixture(scope="module")
def hub_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path_factory.mktemp("contract") / "var"
    # No rate limit: a thousand generated requests a minute as one principal is the point.
    hub_settings = load_settings(
        environ={}, overrides={"data_dir": str(data_dir), "rate_limit_per_principal": ""}
    )
    initialise(hub_settings)
    hub = open_hub(hub_settings)
    with serving(create_app(hub)) as url:
        yield url, hub_settings.keys_dir / "admin.pem"
    hub.close()


@pytest.fixture(scope="module")
def admin_session(hub_url) -> requests.Session:
    _, admin_key = hub_url
    session = requests.Session()
    session.auth = SigningAuth(load_private_key(admin_key))
    return session


def _operations(url: str) -> list:
    schema = schemathesis.openapi.from_url(url + "/openapi.json")
    operations = []
    for result in schema.get_all_operations():
        # An operation schemathesis cannot read is a defect of the description itself.
        assert isinstance(result, Ok), result.err()
        if result.ok().path not in SKIPPED_PATHS:
            operations.append(result.ok())
    return operations


def test_every_operation_answers_as_described_without_server_errors(hub_url, admin_session):
    url, _ = hub_url
    operations = _operations(url)
    assert len(operations) > 20
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case) -> None:
            response = case.call(base_url=url, session=admin_session, timeout=30)
            case.validate_response(response, excluded_checks=NOT_APPLICABLE)

        try:
            check()
        except BaseException as error:  # collect every operation's failure, then report all
            failures.append(f"{operation.label}: {error}")
    assert not failures, "\n\n".join(failures)
