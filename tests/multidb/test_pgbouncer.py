"""Through a real PgBouncer in transaction pooling mode (.ci/pgbouncer; .ci/run runs
`pytest -m pgbouncer` with DATABASE_URL on its port 6432 and DATABASE_POOLER=pgbouncer). The rest
of the smoke set is marked `pgbouncer` where it lives (the report flow, Open311 POST and GET, a
staff status change, the CSV download); these tests check the path itself, and the flows outside
a test's wrapping transaction, where the pooler really hands consecutive transactions to
different server connections."""

import csv
import io
import os

import pytest
from django.db import connection
from django.urls import reverse

from issues.models import Issue
from tests.factories import make_issue
from tests.pages.conftest import pothole, report_data  # noqa: F401  (a fixture)

pytestmark = [
    pytest.mark.pgbouncer,
    pytest.mark.skipif(
        os.environ.get("DATABASE_POOLER") != "pgbouncer",
        reason="not behind PgBouncer: .ci/run runs these with DATABASE_POOLER=pgbouncer and "
        "DATABASE_URL on PgBouncer's port (bash .ci/pgbouncer starts one on 6432)",
    ),
]


@pytest.mark.django_db
def test_queries_go_through_the_pooler_without_server_side_cursors():
    assert connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] is True
    with connection.cursor() as cursor:
        cursor.execute("SELECT inet_server_port()")
        (server_port,) = cursor.fetchone()
    # We talk to PgBouncer's port; the statement ran on PostgreSQL's.
    assert int(connection.settings_dict["PORT"]) != server_port


@pytest.mark.django_db(transaction=True)
def test_a_full_download_streams_outside_a_transaction(client, service_type):
    made = {make_issue(service_type).public_id for _ in range(30)}
    response = client.get("/data/issues.csv")
    assert response.status_code == 200 and response.streaming
    text = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    assert {row["service_request_id"] for row in csv.DictReader(io.StringIO(text))} == made


@pytest.mark.django_db(transaction=True)
def test_report_then_read_it_back_outside_a_transaction(client, pothole, chicago_wards):  # noqa: F811
    response = client.post(reverse("issues:report"), report_data(pothole))
    assert response.status_code == 302
    issue = Issue.objects.get()
    page = client.get(response["Location"])
    assert page.status_code == 200 and issue.public_id in page.content.decode()
