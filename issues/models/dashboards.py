"""What the ward dashboards read: counters kept in step with every write, and hotspot alerts.

The four counter tables were made by the departments app (its migrations 0002 and 0003) and keep
their names: they moved here, with the code that maintains them (issues/dashboards/rollups.py),
without moving any data.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from departments.geo import CLUSTER_ZOOMS, STORED_STREET_ZOOMS, STORED_WORLD_ZOOMS
from departments.models import GridCell

# --- the rollup (issues/dashboards/rollups.py keeps it; issues/dashboards/league.py and ward.py read it) --
#
# Counters of public (not hidden) issues, kept in step with every write, so that the ward
# dashboards and the league table read a table whose size depends on wards x types x days and
# never on how many issues are stored. `ward_key` is the ward's id, or 0 for issues in no ward
# (they count for the city); `type_key` is the service type's id, or 0 on the per-ward rows the
# league and the city read ("all types"). Plain integers, not foreign keys: 0 must be a value,
# and a deleted ward's rows are rebuilt, not cascaded (issues.services.delete_wards).


class StatusTally(models.Model):
    """Public issues now in each (ward, type, status); `with_due` of them have an expected time."""

    ward_key = models.PositiveIntegerField()
    type_key = models.PositiveIntegerField()
    status = models.CharField(max_length=20)
    n = models.IntegerField(default=0)
    with_due = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("status tally")
        verbose_name_plural = _("status tallies")
        db_table = "departments_statustally"
        constraints = [
            models.UniqueConstraint(
                fields=["ward_key", "type_key", "status"], name="status_tally_key"
            )
        ]

    def __str__(self) -> str:
        return f"ward {self.ward_key} type {self.type_key} {self.status}: {self.n}"


class DayTally(models.Model):
    """Per (ward, type, local day in the city's time zone):

    - opened: public issues reported that day (any status);
    - closed / closed_with_sla / closed_within_sla: issues now closed or archived whose
      closed_at falls on that day; of them, those with an expected time, and those closed by it;
    - open_requested: issues now open that were reported that day (aging);
    - open_due: issues now open that are due that day (overdue = due before now).
    """

    ward_key = models.PositiveIntegerField()
    type_key = models.PositiveIntegerField()
    day = models.DateField()
    opened = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    closed_with_sla = models.IntegerField(default=0)
    closed_within_sla = models.IntegerField(default=0)
    open_requested = models.IntegerField(default=0)
    open_due = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("day tally")
        verbose_name_plural = _("day tallies")
        db_table = "departments_daytally"
        constraints = [
            models.UniqueConstraint(fields=["ward_key", "type_key", "day"], name="day_tally_key")
        ]
        indexes = [models.Index(fields=["type_key", "day"], name="day_tally_type_day")]

    def __str__(self) -> str:
        return f"ward {self.ward_key} type {self.type_key} {self.day}"


class CloseBins(models.Model):
    """A close-time histogram's row: closures of a (ward, type) in one bin of days-to-close
    (issues.dashboards.rollups.close_bin), with the count, sum and sum of squares of the exact
    durations, from which a median is recovered (issues.dashboards.rollups.median_from_bins)."""

    ward_key = models.PositiveIntegerField()
    type_key = models.PositiveIntegerField()
    bin = models.PositiveSmallIntegerField()
    n = models.IntegerField(default=0)
    days_sum = models.FloatField(default=0.0)
    days_sq_sum = models.FloatField(default=0.0)

    class Meta:
        abstract = True


class CloseHistogram(CloseBins):
    """Issues now closed whose closed_at falls on `day` (CloseBins): the median of any window of
    days is recovered from these rows."""

    day = models.DateField()

    class Meta:
        verbose_name = _("close histogram")
        verbose_name_plural = _("close histograms")
        db_table = "departments_closehistogram"
        constraints = [
            models.UniqueConstraint(
                fields=["ward_key", "type_key", "day", "bin"], name="close_histogram_key"
            )
        ]
        indexes = [
            models.Index(fields=["type_key", "day"], name="close_hist_type_day"),
            # One ward's window across every type (the ward page's medians by type): the key's
            # (ward_key, type_key, day) would walk all the ward's days of every type.
            models.Index(fields=["ward_key", "day"], name="close_hist_ward_day"),
        ]

    def __str__(self) -> str:
        return f"ward {self.ward_key} type {self.type_key} {self.day} bin {self.bin}: {self.n}"


class CloseWeekHistogram(CloseBins):
    """CloseHistogram summed by week (`week` is the Monday, city time, of the closing days): a
    90-day median reads about 12 whole weeks here and only the days at the window's two edges
    from the daily rows, instead of 90 days of bins (issues.dashboards.league.close_bins)."""

    week = models.DateField()

    class Meta:
        verbose_name = _("weekly close histogram")
        verbose_name_plural = _("weekly close histograms")
        constraints = [
            models.UniqueConstraint(
                fields=["ward_key", "type_key", "week", "bin"], name="close_week_key"
            )
        ]
        indexes = [
            models.Index(fields=["type_key", "week"], name="close_week_type_week"),
            models.Index(fields=["ward_key", "week"], name="close_week_ward_week"),
        ]

    def __str__(self) -> str:
        return (
            f"ward {self.ward_key} type {self.type_key} week {self.week} bin {self.bin}: {self.n}"
        )


class HeatTally(models.Model):
    """Public issues with a point reported on `day` (city time), per heat-grid square
    (issues.geo.heat_steps: FLOOR(lat / step), FLOOR(lon / step)) and type: the ward
    dashboard's 90-day hotspot grid."""

    ward_key = models.PositiveIntegerField()
    day = models.DateField()
    cell_row = models.IntegerField()
    cell_col = models.IntegerField()
    type_key = models.PositiveIntegerField()
    n = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("heat tally")
        verbose_name_plural = _("heat tallies")
        db_table = "departments_heattally"
        constraints = [
            models.UniqueConstraint(
                fields=["ward_key", "day", "cell_row", "cell_col", "type_key"],
                name="heat_tally_key",
            )
        ]

    def __str__(self) -> str:
        return f"ward {self.ward_key} {self.day} ({self.cell_row}, {self.cell_col}): {self.n}"


class MapCell(GridCell):
    """Public issues with a point in each cell of the map's grid (departments.models.GridCell):
    what the zoomed-out map shows, read instead of grouping every issue in the city
    (issues.selectors.map). Kept in step with every write, and rebuilt, by
    issues.dashboards.rollups (rebuild_map_cells)."""

    # The zooms counted, in sets filled together. Each set has its own BUILT row (cell_row: the
    # set's index here), so a set added later is filled once by `rebuild_map_cells --if-unbuilt`
    # (the release step) while the map reads the others, and until then the map groups the
    # issues at its zooms as before. Every write counts every zoom from the start: the fill
    # replaces what a set's zooms held, under the table's lock.
    ZOOM_SETS = (
        CLUSTER_ZOOMS,  # 3-15 (migration 0013)
        (*STORED_WORLD_ZOOMS, *STORED_STREET_ZOOMS),  # 0-2, 16 and 17 (migration 0040)
    )
    ZOOMS = tuple(sorted(zoom for zooms in ZOOM_SETS for zoom in zooms))

    # How many of the n are in each status (Status's values): a cluster draws its mix of
    # statuses, not one colour (STATUS_COUNTERS names them in Status's order).
    n_open = models.IntegerField(default=0)
    n_acknowledged = models.IntegerField(default=0)
    n_in_progress = models.IntegerField(default=0)
    n_closed = models.IntegerField(default=0)
    n_archived = models.IntegerField(default=0)

    STATUS_COUNTERS = ("n_open", "n_acknowledged", "n_in_progress", "n_closed", "n_archived")

    class Meta:
        verbose_name = _("map cell")
        verbose_name_plural = _("map cells")
        constraints = [
            models.UniqueConstraint(fields=["zoom", "cell_row", "cell_col"], name="map_cell_key")
        ]

    def __str__(self) -> str:
        return f"zoom {self.zoom} ({self.cell_row}, {self.cell_col}): {self.n}"


# --- the dashboards' figures, kept per data version (issues/dashboards/stored.py) -------------


# The tables the stored figures read: a statement writing one moves the data version on
# (RollupChange). Their triggers are created by migrations 0034 and 0036, which keep their own
# copies of the names (a migration never follows the live code); a test reads pg_trigger against
# this (tests/dashboards/test_stored_figures.py), so the two cannot drift apart.
VERSIONED = (StatusTally, DayTally, CloseHistogram, CloseWeekHistogram, HeatTally)


class RollupChange(models.Model):
    """One row per statement that wrote a table of `VERSIONED` (the tables the stored figures
    read): a PostgreSQL trigger adds it in the writer's own transaction (migrations 0034 and
    0036), whoever writes (the services, an import's set-wise SQL, a rebuild, a migration). The
    sum of `weight` is the data version: it grows when, and only when, such a write commits, and
    it is kept in the database, so a flushed cache does not lose it. Storing the league folds
    the rows into one of the same total weight."""

    weight = models.BigIntegerField(default=1)

    class Meta:
        verbose_name = _("rollup change")
        verbose_name_plural = _("rollup changes")

    def __str__(self) -> str:
        return f"{self.weight} change(s)"


class LeagueSnapshot(models.Model):
    """The league's figures as numbers, one row per ward key (0: issues in no ward, -1: the whole
    city), computed at one data version on one city day. `overdue` leaves out the issues due
    earlier today (they move with the minute: read with each request). `prev_*`: the previous
    period's figures (issues.dashboards.compare.Previous)."""

    ward_key = models.IntegerField(unique=True)
    version = models.BigIntegerField()
    day = models.DateField()
    open = models.IntegerField(default=0)
    overdue = models.IntegerField(default=0)
    opened_recent = models.IntegerField(default=0)
    closed_recent = models.IntegerField(default=0)
    closed_with_sla = models.IntegerField(default=0)
    closed_within_sla = models.IntegerField(default=0)
    median_days = models.FloatField(null=True)
    prev_open = models.IntegerField(null=True)
    prev_opened_recent = models.IntegerField(default=0)
    prev_median_days = models.FloatField(null=True)
    prev_closed_with_sla = models.IntegerField(default=0)
    prev_closed_within_sla = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("league snapshot")
        verbose_name_plural = _("league snapshots")

    def __str__(self) -> str:
        return f"ward {self.ward_key} at version {self.version} on {self.day}"


class FigureSnapshot(models.Model):
    """One page's figures as numbers (JSON), stored the league's way: computed at one data
    version (RollupChange) on one city day, and read only while both are current
    (issues/dashboards/stored.py). `kind` names whose: "ward" (a ward's dashboard, key: the
    ward's id), "type" (a service type's trend across the city, key: the type's id) or "types"
    (the index of types, key 0). Names
    and labels are not stored: the reader's language puts them back. `wanted_at`: when a
    request last had to compute it, so the worker refreshes what is read, not every key."""

    kind = models.CharField(max_length=8)
    key = models.IntegerField()
    version = models.BigIntegerField()
    day = models.DateField()
    figures = models.JSONField()
    wanted_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("stored figures")
        verbose_name_plural = _("stored figures")
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], name="figuresnapshot_one_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} at version {self.version} on {self.day}"


class HotspotAlert(models.Model):
    """A cluster of same-type reports found by the nightly job; alerted once."""

    service_type = models.ForeignKey(
        "departments.ServiceType", on_delete=models.CASCADE, related_name="hotspot_alerts"
    )
    ward = models.ForeignKey(
        "departments.Ward",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="hotspot_alerts",
    )
    latitude = models.FloatField()
    longitude = models.FloatField()
    radius_m = models.PositiveIntegerField()
    report_count = models.PositiveIntegerField()
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    issue_ids = models.JSONField(default=list)
    key = models.CharField(
        max_length=120, unique=True, help_text=_("Makes re-alerting impossible.")
    )
    created_at = models.DateTimeField(default=timezone.now)
    # How unusual it was when found (issues/notify/hotspots.py): the reports the ward's own
    # baseline expected in the disc over the window, and the chance of this many by coincidence.
    expected_count = models.FloatField(null=True, blank=True)
    p_value = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = _("hotspot alert")
        verbose_name_plural = _("hotspot alerts")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.report_count}× {self.service_type} near {self.latitude:.4f},{self.longitude:.4f}"
