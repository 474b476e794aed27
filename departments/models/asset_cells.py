"""Per-cell counters of each asset layer: what the layer's zoomed-out map reads instead of
grouping every asset in the box (departments.asset_cells keeps them; issue 22)."""

from django.db import models

from departments.geo import STREET_ZOOM
from departments.models.assets import AssetLayer


class AssetCell(models.Model):
    """A layer's assets in one square of the map's grid at one clustered zoom
    (departments.geo.cell_size: FLOOR(lon / size), FLOOR(lat / size)), the issues' MapCell
    scheme, so the same cluster helpers draw both.

    Sums rather than means, so that a write adds and subtracts: the cluster sits at the mean
    position (lat_sum / n, lon_sum / n), and a cell of one asset is that asset (id_sum).
    `adopted` counts the cell's assets with at least one adopter. One row with zoom BUILT says
    the layer's cells were filled: until then its map groups the assets as before."""

    BUILT = -1
    # The zooms the map clusters at: from Leaflet's MIN_ZOOM to just below the street zoom.
    ZOOMS = tuple(range(3, STREET_ZOOM))

    layer = models.ForeignKey(AssetLayer, on_delete=models.CASCADE, related_name="cells")
    zoom = models.SmallIntegerField()
    cell_col = models.IntegerField()
    cell_row = models.IntegerField()
    n = models.IntegerField(default=0)
    adopted = models.IntegerField(default=0)
    lat_sum = models.FloatField(default=0.0)
    lon_sum = models.FloatField(default=0.0)
    id_sum = models.BigIntegerField(default=0)

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
