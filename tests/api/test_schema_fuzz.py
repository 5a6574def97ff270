"""Property-based requests from the OpenAPI schema (schemathesis): no input may cause a 500."""

import schemathesis
from hypothesis import HealthCheck, given, settings

from api_support import fill, make_config
from vision.api import create_app
from vision.store import open_store


def test_no_input_causes_a_server_error(tmp_path):
    config = make_config(tmp_path)
    store = open_store(config.store.url)
    store.sync_config(config)
    fill(store)
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(config, store))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def call(case):
            response = case.call()
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.query}: {response.status_code}")

        call()
    assert failures == []
