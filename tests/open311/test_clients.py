"""The API against a real server: the PyPI `georeport` client unmodified, and schemathesis
generating requests from our OpenAPI document with every check it has (`--checks all`: server
errors, status codes, content types, headers, schemas, negative and positive data, undeclared
methods, stateful links) for a fixed number of cases per operation from a fixed seed, so a run is
repeatable and ends with zero failures."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from georeport import GeoReport

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def endpoint(live_server, city):
    return f"{live_server.url}/open311/v2"


@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_georeport_client_reads_services_definitions_and_requests(endpoint, city, output_format):
    client = GeoReport(endpoint, jurisdiction="cityofchicago.org", output_format=output_format)

    services = client.get_service_list()
    codes = {s["service_code"] for s in services}
    assert codes == {"pothole", "graffiti"}

    definition = client.get_service_definition("pothole")
    assert definition["service_code"] == "pothole"
    attributes = definition["attributes"]
    if output_format == "xml":  # xmltodict: repeated elements are a list under their singular name
        attributes = attributes["attribute"]
    assert attributes[0]["code"] == "SIZE"

    requests_ = client.get_service_requests(status="open", service_code="pothole")
    if isinstance(requests_, dict):  # xmltodict makes a lone <request> a dict
        requests_ = [requests_]
    assert [r["service_request_id"] for r in requests_] == [city["public"].public_id]

    both = client.get_service_requests(
        service_request_id=f"{city['public'].public_id},{city['closed'].public_id}"
    )
    assert len(both) == 2

    one = client.get_service_request(city["closed"].public_id)
    assert one["service_request_id"] == city["closed"].public_id
    assert one["status"] == "closed"


def run_schemathesis(
    live_server, api_key, tmp_path, *, examples: int, checks: str = "all", phases: str = ""
) -> str:
    """Runs the `st` CLI against the live server, `examples` generated cases per operation from a
    fixed seed, so a run is repeatable. POSTs carry a real key (in the query string) and the schema
    lists the live service codes, so generated reports reach validation and creation. Returns
    the output; fails the test on any finding."""
    st = Path(sys.executable).with_name("st")
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        f'[parameters]\n"query.api_key" = "{api_key.raw}"\n'
        # Rules the document cannot express, so "valid by the schema" may still be refused with
        # a 400 that says why: lat, long and radius only together, page or after, and each
        # service type's own required questions (GeoReport's attributes are per service).
        "[checks.positive_data_acceptance]\n"
        'expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429"]\n'
    )
    result = subprocess.run(
        [
            str(st),
            "--config-file",
            str(config),
            "run",
            f"{live_server.url}/open311/v2/openapi.json",
            "--checks",
            checks,
            "--max-examples",
            str(examples),
            "--phases",
            phases or "examples,coverage,fuzzing,stateful",
            "--workers",
            "1",
            "--seed",
            "311",
            "--no-shrink",
            "--request-timeout",
            "10",
            "--suppress-health-check",
            "all",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "No issues found" in output or "passed" in output.lower(), output[-3000:]
    return output


@pytest.mark.slow
@pytest.mark.fuzz_smoke
def test_schemathesis_smoke_finds_no_server_errors_or_schema_mismatches(
    live_server, city, api_key, tmp_path
):
    """A few cases per operation, in every run of the suite but CI's, which runs the long one."""
    run_schemathesis(live_server, api_key, tmp_path, examples=5)


@pytest.mark.fuzz
def test_schemathesis_long_run_finds_no_server_errors_or_schema_mismatches(
    live_server, city, api_key, tmp_path
):
    """Many cases per operation: CI runs it (and `make fuzz`)."""
    run_schemathesis(live_server, api_key, tmp_path, examples=100)
