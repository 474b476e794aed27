"""The real gazetteer: the City's 24,048 intersections and the 50 wards, loaded once per module
(the import takes seconds) and removed after it, so other modules see an empty table."""

from pathlib import Path

import pytest

from departments.demo import WARDS_FILE, DemoReport, load_wards
from departments.importing.places import PlaceFile, PlaceImporter
from departments.models import Place, Ward
from departments.places import normalize  # noqa: F401
from departments.places.search import _StreetNames

INTERSECTIONS = Path(__file__).resolve().parents[2] / "departments/data/chicago_intersections.csv"


@pytest.fixture(scope="module")
def gazetteer(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        load_wards(DemoReport(), WARDS_FILE)
        rejects = tmp_path_factory.mktemp("places") / "rejects.csv"
        PlaceImporter(rejects_path=rejects).run(PlaceFile(INTERSECTIONS, fmt="intersections"))
        yield
        Place.objects.all().delete()
        Ward.objects.all().delete()
        _StreetNames.version = None
