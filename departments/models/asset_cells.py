"""Stored cells of the map's grid: the scheme both zoomed-out maps read instead of grouping
every point in the box (GridCell; the issues' MapCell in issues/models/dashboards.py), and each
asset layer's cells (AssetCell, kept by departments.asset_cells; issue 22)."""

from django.db import models

from departments.geo import CLUSTER_ZOOMS
from departments.models.assets import AssetLayer


class GridCell(models.Model):
    """Points in one square of the map's grid at one clustered zoom (departments.geo.cell_of:
    FLOOR(lon / size), FLOOR(lat / size)), as departments.geo.cell_sums counts them and
    departments.geo.stored_cells reads them, so the same cluster helpers draw every map.

    Sums rather than means, so that a write adds and subtracts: the cluster sits at the mean
    position (lat_sum / n, lon_sum / n), and a cell of one point is that point (id_sum). One
    row with zoom BUILT says the cells were filled: until then the map groups the points."""

    BUILT = -1
    ZOOMS = CLUSTER_ZOOMS

    zoom = models.SmallIntegerField()
    cell_col = models.IntegerField()
    cell_row = models.IntegerField()
    n = models.IntegerField(default=0)
    lat_sum = models.FloatField(default=0.0)
    lon_sum = models.FloatField(default=0.0)
    id_sum = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class AssetCell(GridCell):
    """A layer's assets in one cell; `adopted` counts those with at least one adopter."""

    layer = models.ForeignKey(AssetLayer, on_delete=models.CASCADE, related_name="cells")
    adopted = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["layer", "zoom", "cell_row", "cell_col"], name="asset_cell_key"
            )
        ]

    def __str__(self) -> str:
        return (
            f"layer {self.layer_id} zoom {self.zoom} ({self.cell_row}, {self.cell_col}): {self.n}"
        )
