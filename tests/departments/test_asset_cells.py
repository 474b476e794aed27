"""An asset layer's zoomed-out map reads per-cell counters (departments.models.AssetCell) kept in
step by the importer and the adoption services: after every kind of write they equal a recount,
and the clusters they give are the ones grouping every asset gave."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from departments import asset_cells
from departments.models import Asset, AssetCell, AssetLayer
from issues import services
from tests.factories import CITY_HALL

pytestmark = pytest.mark.django_db

# A box around the city: at zoom 11 its lights fall in a handful of cells.
CITY = f"{CITY_HALL[1] - 0.3},{CITY_HALL[0] - 0.3},{CITY_HALL[1] + 0.3},{CITY_HALL[0] + 0.3}"


def _lights_csv(path, moved: float = 0.0, count: int = 40) -> None:
    lines = ["id,name,latitude,longitude"]
    for i in range(count):
        # Spread over about 20 km both ways, so zooms 9 to 13 hold several cells.
        lat = CITY_HALL[0] - 0.1 + (i % 8) * 0.025 + (moved if i < 5 else 0.0)
        lon = CITY_HALL[1] - 0.1 + (i // 8) * 0.04
        lines.append(f"L{i},Light {i},{lat:.6f},{lon:.6f}")
    path.write_text("\n".join(lines) + "\n")


def _import(path, tmp_path) -> AssetLayer:
    call_command(
        "import_assets",
        str(path),
        "--no-progress",
        "--layer",
        "Street lights",
        "--rejects",
        str(tmp_path / "rejects.csv"),
        stdout=io.StringIO(),
    )
    return AssetLayer.objects.get(slug="street-lights")


def _cells() -> list[tuple]:
    return sorted(
        (
            c.layer_id,
            c.zoom,
            c.cell_row,
            c.cell_col,
            c.n,
            c.adopted,
            round(c.lat_sum, 6),
            round(c.lon_sum, 6),
            c.id_sum,
        )
        for c in AssetCell.objects.filter(n__gt=0) | AssetCell.objects.filter(zoom=AssetCell.BUILT)
    )


def _equals_a_rebuild() -> None:
    maintained = _cells()
    asset_cells.rebuild_asset_cells()
    assert maintained == _cells()


@pytest.fixture
def lights(tmp_path) -> AssetLayer:
    path = tmp_path / "lights.csv"
    _lights_csv(path)
    layer = _import(path, tmp_path)
    layer.adoptable, layer.max_adopters = True, 2
    layer.save()
    return layer


def _person(name: str):
    return get_user_model().objects.create_user(email=f"{name}@example.net", password="x-12345678")


def test_the_rollup_equals_a_rebuild_after_import_reimport_adopt_and_give_up(lights, tmp_path):
    assert asset_cells.layer_cells_built(lights.pk)
    assert AssetCell.objects.filter(layer=lights, zoom=11).count() > 1
    _equals_a_rebuild()
    moved = tmp_path / "moved.csv"
    _lights_csv(moved, moved=0.2, count=45)  # five moved far, five new
    _import(moved, tmp_path)
    _equals_a_rebuild()
    light = Asset.objects.get(layer=lights, source_id="L7")
    pat, sam = _person("pat"), _person("sam")
    first = services.adopt_asset(asset=light, user=pat)
    assert AssetCell.objects.filter(layer=lights, zoom=11, adopted=1).count() == 1
    _equals_a_rebuild()
    services.adopt_asset(asset=light, user=sam)  # a second adopter: still one adopted light
    _equals_a_rebuild()
    services.give_up_adoption(adoption=first, by=pat)
    _equals_a_rebuild()
    assert AssetCell.objects.filter(layer=lights, adopted__gt=0).count() == len(AssetCell.ZOOMS)
    services.give_up_adoption(adoption=light.adoptions.get(ended_at__isnull=True), by=sam)
    assert not AssetCell.objects.filter(layer=lights, adopted__gt=0).exists()
    _equals_a_rebuild()


def _clusters(client, layer: AssetLayer, zoom: int) -> list[tuple]:
    url = reverse("issues:asset_map", args=[layer.slug])
    data = client.get(url, {"bbox": CITY, "zoom": zoom}).json()
    return sorted(
        (
            f["properties"].get("count", 1),
            f["properties"].get("adopted", -1),
            f["properties"].get("id", ""),
            tuple(round(c, 9) for c in f["geometry"]["coordinates"]),
            tuple(f["properties"].get("bbox", ())),
            f["properties"].get("adopters", 0),
        )
        for f in data["features"]
    )


@pytest.mark.parametrize("zoom", [3, 9, 11, 12, 13, 15])
def test_the_clusters_from_the_cells_are_those_grouping_every_asset_gave(
    client, lights, zoom, settings
):
    for light in Asset.objects.filter(layer=lights, source_id__in=["L1", "L9", "L30"]):
        services.adopt_asset(asset=light, user=_person(f"p{light.pk}"))
    from_cells = _clusters(client, lights, zoom)
    AssetCell.objects.filter(layer=lights).delete()  # unbuilt: the map groups the assets
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    assert _clusters(client, lights, zoom) == from_cells
    assert sum(c[0] for c in from_cells) == 40
    # Adopted lights: counted in their clusters, or shown with their adopter when alone.
    assert sum(c[1] if c[1] >= 0 else int(c[5] > 0) for c in from_cells) == 3


def test_the_clustered_viewport_reads_the_cells_in_an_exact_number_of_queries(client, lights):
    url = reverse("issues:asset_map", args=[lights.slug])
    with CaptureQueriesContext(connection) as queries:
        data = client.get(url, {"bbox": CITY, "zoom": 11}).json()
    assert data["properties"]["clustered"] and data["properties"]["count"] == 40
    # The layer; whether its cells are built; the cells; the assets of the cells of one.
    assert len(queries) == 4, [q["sql"] for q in queries.captured_queries]
    assert not [q for q in queries.captured_queries if "GROUP BY" in q["sql"]]


def test_rebuild_asset_cells_command_recounts_only_unbuilt_layers_when_asked(lights):
    AssetCell.objects.filter(layer=lights).delete()
    out = io.StringIO()
    call_command("rebuild_asset_cells", "--if-unbuilt", stdout=out)
    assert "1 layer(s)" in out.getvalue() and asset_cells.layer_cells_built(lights.pk)
    out = io.StringIO()
    call_command("rebuild_asset_cells", "--if-unbuilt", stdout=out)
    assert "0 layer(s)" in out.getvalue()


def test_an_asset_deleted_in_the_workbench_leaves_its_layers_cells(client, lights, admin_user):
    light = Asset.objects.get(layer=lights, source_id="L3")
    client.force_login(admin_user)
    url = reverse("admin:departments_asset_delete", args=[light.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not Asset.objects.filter(pk=light.pk).exists()
    assert AssetCell.objects.get(layer=lights, zoom=3, n__gt=0).n == 39
    _equals_a_rebuild()
