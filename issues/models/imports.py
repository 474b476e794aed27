"""Import runs whose new issues wait to be counted into the dashboards' rollup.

An import stores its issues first and counts them after (issues/dashboards/setwise.py): counted
per batch, each batch upserts about nine counter rows per issue, and the same keys again in the
next batch. The state each new issue had when its batch stored it is kept here, in the batch's
own transaction, until it is counted; the count takes the rows out in the transaction that adds
them, so each is counted exactly once, whoever counts it (the command after its summary, or the
worker for a run whose process was killed: `setwise.count_orphaned_runs`, once the run's lease,
`alive_at`, is older than `IMPORT_LEASE_SECONDS`).
"""

from django.db import models
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportRun(models.Model):
    """One run of an importer. `counted_at`: its issues are in the rollup. `alive_at`: when its
    process last said it was alive (in a batch's transaction, or its heartbeat); a run with no
    `counted_at` and an old `alive_at` is counted by the worker."""

    source = models.CharField(_("source"), max_length=64)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    counted_at = models.DateTimeField(_("counted at"), null=True, blank=True)
    # The database's clock, as the worker's comparison is: an app server's clock that runs
    # behind must not make a new run look expired.
    alive_at = models.DateTimeField(_("alive at"), db_default=Now())

    class Meta:
        ordering = ["pk"]
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")

    def __str__(self) -> str:
        return f"{self.source} {self.started_at:%Y-%m-%d %H:%M}"


class PendingCount(models.Model):
    """A new issue's state as its import stored it (the columns the rollup depends on), until it
    is counted. Plain integers, not foreign keys: the state is a record of what was written, and
    a key checked per row would cost the import for nothing (the run's key is not checked in the
    database either, for the same reason)."""

    issue_id = models.BigIntegerField(primary_key=True)
    run = models.ForeignKey(
        ImportRun, on_delete=models.CASCADE, related_name="pending", db_constraint=False
    )
    ward_id = models.BigIntegerField(null=True)
    service_type_id = models.BigIntegerField()
    status = models.CharField(max_length=20)
    is_hidden = models.BooleanField(default=False)
    requested_at = models.DateTimeField()
    expected_at = models.DateTimeField(null=True)
    closed_at = models.DateTimeField(null=True)
    latitude = models.FloatField(null=True)
    longitude = models.FloatField(null=True)
    resolution = models.CharField(max_length=20, blank=True)

    class Meta:
        verbose_name = _("issue waiting to be counted")
        verbose_name_plural = _("issues waiting to be counted")

    def __str__(self) -> str:
        return f"issue {self.issue_id} (run {self.run_id})"
