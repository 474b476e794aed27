"""Stored dashboard figures and a lagging replica (issues/dashboards/stored.py): a public page
reads the version where it reads the rollup, so figures counted from a replica that lags are
stored under the replica's version, never the primary's newer one, and are counted again once
the replica has caught up."""

import pytest
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS

from issues.dashboards import stored
from issues.models import FigureSnapshot
from tests.factories import make_issue
from tests.multidb.conftest import NO_REPLICA, REPLICA_URL, replica_caught_up, replication_paused

pytestmark = [
    pytest.mark.skipif(not REPLICA_URL, reason=NO_REPLICA),
    pytest.mark.replica,
    # Committed rows (transaction=True): a replica sees only what the primary committed.
    pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, "replica"]),
]


def test_figures_counted_on_a_lagging_replica_are_stored_under_its_version(
    client, replica, service_type, chicago_wards
):
    first = make_issue(service_type)
    ward = first.ward
    url = f"/wards/{ward.slug}/"
    replica_caught_up()
    with replication_paused():
        make_issue(service_type)  # on the primary only, for now
        primary_version = stored.data_version()  # no request: the primary
        page = client.get(url)
        assert page.status_code == 200
        assert page.context["board"].open == 1  # what the replica has
        row = FigureSnapshot.objects.using(DEFAULT_DB_ALIAS).get(kind=stored.WARD, key=ward.pk)
        assert row.version < primary_version
    replica_caught_up()
    cache.clear()
    page = client.get(url)
    assert page.context["board"].open == 2
    row = FigureSnapshot.objects.using(DEFAULT_DB_ALIAS).get(kind=stored.WARD, key=ward.pk)
    assert row.version == primary_version
