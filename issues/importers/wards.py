"""Load or replace a city's ward polygons from GeoJSON, then put every issue in its new ward.

The file is checked completely before anything is written (numbers present and unique, polygons
valid, coordinates in lon/lat), so a bad file changes nothing. Issues are re-assigned in bulk
afterwards: one STRtree query per chunk and one UPDATE per (chunk, ward), never a query per issue.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import shapely
from django.db import transaction
from shapely.geometry import mapping as to_geojson

from departments.models import Ward
from departments.wards import WardIndex, shape_from_geojson
from issues import pagecache
from issues.dashboards import recount
from issues.importers.records import parse_ward_number
from issues.models import Issue

REASSIGN_CHUNK = 10_000  # under SQLite's 32,766 bound parameters per UPDATE


class WardFileError(ValueError):
    """The file cannot be loaded; the message says which feature and why."""


@dataclass
class WardImportSummary:
    created: int = 0
    updated: int = 0
    removed: int = 0
    reassigned: int = 0
    seconds: float = 0.0


@dataclass
class WardFeature:
    number: int
    name: str
    boundary: dict


def read_ward_file(
    path: str | Path, *, number_field: str = "ward", name_field: str = ""
) -> list[WardFeature]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WardFileError(f"cannot read {path}: {exc}") from exc
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list) or not features:
        raise WardFileError("expected a GeoJSON FeatureCollection with at least one feature")
    wards: dict[int, WardFeature] = {}
    for index, feature in enumerate(features, start=1):
        where = f"feature {index}"
        properties = (feature or {}).get("properties") or {}
        if number_field not in properties:
            fields = ", ".join(sorted(properties)) or "none"
            raise WardFileError(f"{where} has no “{number_field}” property (it has: {fields})")
        number = parse_ward_number(str(properties[number_field]))
        if number is None:
            raise WardFileError(f"{where}: “{properties[number_field]}” is not a ward number")
        if number in wards:
            raise WardFileError(f"{where}: ward {number} appears twice")
        try:
            geom = shape_from_geojson(feature["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise WardFileError(f"{where} (ward {number}): not a polygon: {exc}") from exc
        min_lon, min_lat, max_lon, max_lat = geom.bounds
        if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
            raise WardFileError(
                f"{where} (ward {number}): coordinates are not WGS84 longitude/latitude "
                "(re-project the file to EPSG:4326)"
            )
        boundary = feature["geometry"]
        if not geom.is_valid:
            # Self-touching rings are common in exports; GEOS can repair them without moving edges.
            repaired = shapely.make_valid(geom)
            if repaired.geom_type == "GeometryCollection":
                repaired = shapely.union_all(
                    [g for g in repaired.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
                )
            if repaired.geom_type not in ("Polygon", "MultiPolygon") or not repaired.is_valid:
                raise WardFileError(f"{where} (ward {number}): the polygon is not valid")
            boundary = to_geojson(repaired)
        name = str(properties.get(name_field) or "").strip() if name_field else ""
        wards[number] = WardFeature(number=number, name=name[:120], boundary=boundary)
    return sorted(wards.values(), key=lambda w: w.number)


def load_ward_file(
    path: str | Path, *, number_field: str = "ward", name_field: str = "", replace: bool = False
) -> WardImportSummary:
    """Create or update each ward in the file; with `replace`, delete wards the file lacks.
    Then re-assign every issue with a point to the ward that now contains it."""
    started = time.monotonic()
    features = read_ward_file(path, number_field=number_field, name_field=name_field)
    summary = WardImportSummary()
    with transaction.atomic():
        existing = {w.number: w for w in Ward.objects.all()}
        for feature in features:
            ward = existing.get(feature.number)
            if ward is None:
                Ward.objects.create(
                    number=feature.number,
                    name=feature.name or f"Ward {feature.number}",
                    boundary=feature.boundary,
                )
                summary.created += 1
            else:
                ward.boundary = feature.boundary
                if feature.name:
                    ward.name = feature.name
                ward.save()
                summary.updated += 1
        if replace:
            keep = {f.number for f in features}
            gone = [ward.pk for number, ward in existing.items() if number not in keep]
            # One queryset delete, not Ward.delete() each: that recounts the ward and every
            # issue in no ward per ward, and the whole rollup is recounted below anyway.
            # Issues keep their point; ward_id becomes NULL (SET_NULL).
            Ward.objects.filter(pk__in=gone).delete()
            summary.removed = len(gone)
        WardIndex.invalidate()
        summary.reassigned = reassign_issue_wards()
        # Issues changed wards in bulk: recount the dashboards' rollup (issues/dashboards/rollups.py).
        if summary.reassigned or summary.removed:
            recount.rebuild()
        # Issues moved wards by a bulk UPDATE, which no save signal sees.
        pagecache.bump_all()
    summary.seconds = time.monotonic() - started
    return summary


def reassign_issue_wards(chunk: int = REASSIGN_CHUNK) -> int:
    """Put every issue with a point in the ward containing it; flag those now in no ward.
    Issues without a point keep whatever ward staff gave them."""
    index = Ward.objects.index()
    changed = 0
    last_id = 0
    located = Issue.objects.filter(latitude__isnull=False).order_by("pk")
    while True:
        rows = list(
            located.filter(pk__gt=last_id).values_list(
                "pk", "latitude", "longitude", "ward_id", "needs_triage"
            )[:chunk]
        )
        if not rows:
            break
        last_id = rows[-1][0]
        new_ids = index.ward_ids_for((lat, lon) for _pk, lat, lon, _ward, _triage in rows)
        moves: dict[int | None, list[int]] = defaultdict(list)
        for (pk, _lat, _lon, old, triage), new in zip(rows, new_ids, strict=True):
            # A deleted ward already nulled ward_id (SET_NULL): the triage flag tells it apart.
            if old != new or triage != (new is None):
                moves[new].append(pk)
        for ward_id, pks in moves.items():
            changed += Issue.objects.filter(pk__in=pks).update(
                ward_id=ward_id, needs_triage=ward_id is None
            )
    return changed
