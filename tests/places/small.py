"""A small real gazetteer for tests that cannot use the module-wide one (live servers flush the
database after each test): the City's intersections on a few streets only."""

import csv
from pathlib import Path

from departments.importing.places import PlaceFile, PlaceImporter
from departments.places import normalize
from tests.places.conftest import INTERSECTIONS

STREETS = {"ashland", "addison", "milwaukee", "north", "kedzie", "halsted", "state", "63"}


def load_small_gazetteer(tmp_path: Path) -> int:
    path = tmp_path / "some_intersections.csv"
    with open(INTERSECTIONS, newline="") as source, open(path, "w", newline="") as out:
        reader = csv.DictReader(source)
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames)
        writer.writeheader()
        for row in reader:
            cores = {normalize.street(row["street_1"]).core, normalize.street(row["street_2"]).core}
            if cores & STREETS:
                writer.writerow(row)
    summary = PlaceImporter(rejects_path=tmp_path / "rejects.csv").run(
        PlaceFile(path, fmt="intersections")
    )
    return summary.created
