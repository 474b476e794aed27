"""Reports and what happens to them: the issue, its photos, comments, history and votes."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from departments.models import Priority

DESCRIPTION_MAX = 4000  # Open311's limit, enforced by form, model and database alike.
# The Open311 attribute that names a report's asset (its id in the layer), in and out.
ASSET_ATTRIBUTE = "asset_id"

# Crockford's base32 without I, L, O, U: no letter reads like a digit over the phone.
PUBLIC_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_public_id() -> str:
    """A service request id like 'K7M2-9QXR': 8 random symbols, 10^12 possibilities, so ids
    cannot be enumerated by counting, yet short enough to read out on the phone."""
    raw = "".join(secrets.choice(PUBLIC_ID_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def normalize_public_id(text: str) -> str:
    """Accept what people type: lower case, spaces, no dash, O for 0, I/L for 1."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    cleaned = cleaned.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    if len(cleaned) != 8:
        return text.strip().upper()
    return f"{cleaned[:4]}-{cleaned[4:]}"


class Status(models.TextChoices):
    # "Open" means not closed, everywhere (filters, dashboards, Open311); the first of the
    # three open statuses is called "New" so the word has one meaning (docs/residents.md).
    OPEN = "open", _("New")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    IN_PROGRESS = "in_progress", _("In progress")
    CLOSED = "closed", _("Closed")
    ARCHIVED = "archived", _("Archived")


class Resolution(models.TextChoices):
    """Why a closed issue was closed: residents read it, and only "fixed" counts as a fix in the
    dashboards' time-to-fix figures (FixMyStreet issues 285 and 1339)."""

    FIXED = "fixed", _("Fixed")
    DUPLICATE = "duplicate", _("Duplicate")
    REFERRED = "referred", _("Not the city's responsibility")
    NO_ACTION = "no_action", _("Unable to fix / no action needed")
    WITHDRAWN = "withdrawn", _("Withdrawn by the reporter")


# Closures that are not a fix: left out of time-to-fix (issues/dashboards/rollups.py). A closure
# with no recorded resolution (imports, the city's own system, closures before resolutions
# existed) still counts, as "closed" meant "done" then.
NOT_FIXED_RESOLUTIONS = (
    Resolution.DUPLICATE,
    Resolution.REFERRED,
    Resolution.NO_ACTION,
    Resolution.WITHDRAWN,
)


def resolution_text(resolution: str, *, duplicate_of_id: str = "", referred_to: str = "") -> str:
    """The public sentence for a resolution, on the page, in emails, feeds and Open311."""
    if resolution == Resolution.FIXED:
        return str(_("The city fixed this."))
    if resolution == Resolution.DUPLICATE:
        if duplicate_of_id:
            return str(
                _("This was already reported as %(id)s: follow that request for updates.")
                % {"id": duplicate_of_id}
            )
        return str(_("This was already reported."))
    if resolution == Resolution.REFERRED:
        if referred_to:
            return str(
                _("This is not the city's responsibility; it was referred to %(whom)s.")
                % {"whom": referred_to}
            )
        return str(_("This is not the city's responsibility."))
    if resolution == Resolution.NO_ACTION:
        return str(_("The city looked at this and could not fix it, or no action was needed."))
    if resolution == Resolution.WITHDRAWN:
        return str(_("The reporter withdrew this request."))
    return ""


OPEN_STATUSES = (Status.OPEN, Status.ACKNOWLEDGED, Status.IN_PROGRESS)
CLOSED_STATUSES = (Status.CLOSED, Status.ARCHIVED)


# Why a report is kept from the public from the start (until released, or for ever when private).
# An anonymous report of a `confirm_anonymous` type waits, unconfirmed, for its emailed link
# (issues/services/confirmations.py publishes or expires it).
UNCONFIRMED = "unconfirmed"
PRIVATE = "private"
WITHHELD_CHOICES = [
    (PRIVATE, _("private type")),
    ("held", _("held for a moderator")),
    ("banned", _("banned sender")),
    (UNCONFIRMED, _("waiting for the reporter's confirmation")),
]
AWAITING_CONFIRMATION = "Awaiting the reporter's confirmation by email."


class Source(models.TextChoices):
    WEB = "web", _("Web")
    OPEN311 = "open311", _("Open311 API")
    IMPORT = "import", _("Import")
    STAFF = "staff", _("Staff")


class IssueQuerySet(models.QuerySet):
    def public(self):
        """What anyone may see: not hidden by moderation."""
        return self.filter(is_hidden=False)

    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def escalating(self):
        """What a department must answer on time (see Issue.escalates)."""
        return self.filter(models.Q(is_hidden=False) | models.Q(withheld=PRIVATE))

    def closed(self):
        return self.filter(status__in=CLOSED_STATUSES)

    def in_bbox(self, south: float, west: float, north: float, east: float):
        return self.filter(
            latitude__gte=south, latitude__lte=north, longitude__gte=west, longitude__lte=east
        )

    def for_departments(self, departments):
        return self.filter(department__in=departments)

    def overdue(self, now=None):
        return self.open().filter(expected_at__lt=now or timezone.now())


class Issue(models.Model):
    """A reported problem at a place: the Open311 service request."""

    # Unique through Meta.constraints rather than unique=True: on PostgreSQL unique=True also
    # builds a varchar_pattern_ops index for LIKE, which nothing here uses (the admin's search is
    # a case-insensitive contains), and every import paid for maintaining it.
    public_id = models.CharField(
        _("service request id"), max_length=9, default=new_public_id, editable=False
    )
    # No single-column indexes on these three: the (ward|service_type|department, status)
    # indexes below lead with the same column, and serve the same lookups and FK checks.
    service_type = models.ForeignKey(
        "departments.ServiceType",
        verbose_name=_("service type"),
        on_delete=models.PROTECT,
        related_name="issues",
        db_index=False,
    )
    department = models.ForeignKey(
        "departments.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="issues",
        db_index=False,
    )
    ward = models.ForeignKey(
        "departments.Ward",
        verbose_name=_("ward"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="issues",
        db_index=False,
    )
    needs_triage = models.BooleanField(
        _("needs triage"),
        default=False,
        help_text=_("Its point is in no ward (or it has none): staff must place it."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN
    )
    status_notes = models.TextField(_("public status notes"), blank=True)
    # Set when closed (issues/services/workflow.py), cleared on reopening.
    resolution = models.CharField(
        _("resolution"), max_length=20, choices=Resolution.choices, blank=True
    )
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("duplicate of"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="duplicates",
        help_text=_("The request this one repeats (resolution: duplicate)."),
    )
    referred_to = models.CharField(
        _("referred to"), max_length=200, blank=True, help_text=_("Whose responsibility it is.")
    )
    description = models.TextField(
        _("description"), blank=True, validators=[MaxLengthValidator(DESCRIPTION_MAX)]
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    zipcode = models.CharField(_("zipcode"), max_length=16, blank=True)
    latitude = models.FloatField(
        _("latitude"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.FloatField(
        _("longitude"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    attributes = models.JSONField(
        _("attributes"),
        default=dict,
        blank=True,
        help_text=_("Answers to the service type's attributes by code."),
    )
    # The light, stop or hydrant the report is about, from its type's asset layer. Indexed below
    # (partially: most reports name no asset).
    asset = models.ForeignKey(
        "departments.Asset",
        verbose_name=_("asset"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="issues",
        db_index=False,
    )
    media_url = models.URLField(_("media url"), max_length=500, blank=True)

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reporter"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reported_issues",
    )
    # Contact details of anonymous reporters: private, never on a public page, API or export.
    reporter_name = models.CharField(_("reporter name"), max_length=120, blank=True)
    reporter_email = models.EmailField(_("reporter email"), blank=True)
    reporter_phone = models.CharField(_("reporter phone"), max_length=40, blank=True)
    hide_reporter_name = models.BooleanField(_("don't show my name publicly"), default=False)
    # The language the report was made in (the page's, or Open311's locale): emails to the
    # reporter go in it unless their account names another. Blank: the city's default.
    reporter_language = models.CharField(
        _("reporter language"), max_length=16, blank=True, default=""
    )

    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_issues",
    )
    # Internal (issue 16): set by a routing rule or by hand in the workbench; the queue sorts
    # the urgent first within its overdue and on-time parts. Never public (docs/staff.md).
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    expected_at = models.DateTimeField(_("expected at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    followup_sent_at = models.DateTimeField(_("followup sent at"), null=True, blank=True)

    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.WEB
    )
    # Where an imported issue came from ("boston", "nyc", an Open311 endpoint) and its id there,
    # so that importing the same file again updates instead of duplicating.
    external_source = models.CharField(_("external source"), max_length=64, blank=True)
    external_id = models.CharField(_("external id"), max_length=64, blank=True)

    vote_count = models.PositiveIntegerField(_("vote count"), default=0)
    is_hidden = models.BooleanField(_("hidden"), default=False)
    hidden_reason = models.CharField(_("hidden reason"), max_length=255, blank=True)
    # Why a report is kept from the public from the start (its type is private or held, or its
    # sender is banned): is_hidden stays the one public rule, this says why (issue 20).
    withheld = models.CharField(
        _("withheld"), max_length=12, blank=True, choices=WITHHELD_CHOICES, default=""
    )
    edited_by_moderator = models.BooleanField(_("edited by moderator"), default=False)

    objects = IssueQuerySet.as_manager()

    class Meta:
        verbose_name = _("issue")
        verbose_name_plural = _("issues")
        ordering = ["-requested_at"]
        indexes = [
            # Covering (INCLUDE, PostgreSQL): the map's clusters and Open311's radius search read
            # the box from the index alone, hidden rows filtered there (25 -> 3 ms at 1M). The
            # status too: a crowded street-level box is clustered with each cell's mix of
            # statuses, which without it read every issue's row (downtown at 1M: 4,800 rows on
            # 4,500 blocks, 16 -> 2 ms).
            models.Index(
                fields=["latitude", "longitude"],
                include=["requested_at", "id", "is_hidden", "status"],
                name="issue_lat_lon_status_cov",
            ),
            models.Index(fields=["ward", "status"], name="issue_ward_status"),
            models.Index(fields=["service_type", "status"], name="issue_type_status"),
            models.Index(fields=["department", "status"], name="issue_dept_status"),
            # Newest first with a tiebreak, as Open311 pages and the staff queue sort; is_hidden
            # included so a deep public page counts past rows in the index only (1.6 s -> 23 ms
            # for page 900 at 1M). Full, not partial: staff lists include hidden issues.
            models.Index(
                fields=["requested_at", "id"], include=["is_hidden"], name="issue_requested_id"
            ),
            models.Index(fields=["updated_at"], name="issue_updated"),
            # An asset's reports (its page, "already reported"), and the workbench's search.
            models.Index(
                fields=["asset", "requested_at"],
                condition=models.Q(asset__isnull=False),
                name="issue_asset_requested",
            ),
            models.Index(fields=["status", "expected_at"], name="issue_status_expected"),
            # Public rows only, covering (INCLUDE, PostgreSQL). The dashboards' counts come from
            # the rollup (issues/dashboards/rollups.py); what still reads issues: a ward's oldest open
            # issues, the public list's closed-date filters, and "due earlier today".
            models.Index(
                fields=["ward", "requested_at"],
                include=["service_type", "latitude", "longitude"],
                condition=models.Q(is_hidden=False),
                name="issue_pub_ward_requested_cov",
            ),
            models.Index(
                fields=["closed_at"],
                include=["ward", "requested_at", "expected_at", "status"],
                condition=models.Q(is_hidden=False, closed_at__isnull=False),
                name="issue_pub_closed_cov",
            ),
            models.Index(
                fields=["ward", "expected_at"],
                include=["requested_at", "status"],
                condition=models.Q(
                    is_hidden=False, status__in=["open", "acknowledged", "in_progress"]
                ),
                name="issue_pub_open_cov",
            ),
            # A ward's oldest open issues (the ward page and its monthly report): the first ten
            # entries, where the ward's index above walks past every closed issue older than
            # them (hundreds at 1M issues, more every year), a read that grew with the data.
            models.Index(
                fields=["ward", "requested_at", "id"],
                condition=models.Q(
                    is_hidden=False, status__in=["open", "acknowledged", "in_progress"]
                ),
                name="issue_pub_open_ward_oldest",
            ),
            # The workbench queue (issues/admin/queue.py): a department's open issues in the
            # queue's order, sorted from this index alone; without it the sort read every open
            # issue's row (0.2-0.5 s for 18k open issues at 1M, one row a block).
            models.Index(
                fields=["department"],
                include=["status", "expected_at", "priority", "requested_at", "id"],
                condition=models.Q(status__in=["open", "acknowledged", "in_progress"]),
                name="issue_open_queue_cov",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="issue_public_id_unique"),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True)
                | models.Q(latitude__gte=-90, latitude__lte=90),
                name="issue_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__isnull=True)
                | models.Q(longitude__gte=-180, longitude__lte=180),
                name="issue_longitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True, longitude__isnull=True)
                | models.Q(latitude__isnull=False, longitude__isnull=False),
                name="issue_lat_lon_together",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("description"), DESCRIPTION_MAX),
                name="issue_description_max_4000",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in Status]),
                name="issue_status_valid",
            ),
            # The id first: the importer looks up 5,000 ids of one source at a time, and with
            # the source first PostgreSQL read every row of that source per batch, filtering
            # the ids (EXPLAIN: "Rows Removed by Filter: 94683"), so imports grew quadratic.
            models.UniqueConstraint(
                fields=["external_id", "external_source"],
                condition=~models.Q(external_id=""),
                name="issue_external_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.service_type.name if self.service_type_id else ''}".strip()

    def get_absolute_url(self) -> str:
        return reverse("issues:detail", kwargs={"public_id": self.public_id})

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def escalates(self) -> bool:
        """Public reports, and a private type's: a welfare check is kept from the public, never
        from the department's deadlines. A moderator's hide, a held or banned sender's report
        and one waiting for its reporter's confirmation are not the department's work yet."""
        return not self.is_hidden or self.withheld == PRIVATE

    @property
    def is_overdue(self) -> bool:
        return bool(self.is_open and self.expected_at and self.expected_at < timezone.now())

    @property
    def public_reporter_name(self) -> str:
        """The reporter as the public sees them: never an email address or phone number."""
        if self.hide_reporter_name:
            return str(_("a resident"))
        if self.reporter_id:
            return str(self.reporter.public_name)
        # An anonymous reporter's name is contact detail, kept for the city like their email
        # and phone; only an account's chosen display name is ever public.
        return str(_("a resident"))

    @property
    def contact_email(self) -> str:
        """Where to tell the reporter about progress: their account, or the anonymous address."""
        if self.reporter_id and self.reporter.email:
            return self.reporter.email
        return self.reporter_email

    @property
    def open311_attributes(self) -> dict:
        """The answers as another Open311 server takes them (attribute[CODE]=...), with the
        asset the report names as ASSET_ATTRIBUTE: the hook the upstream send (issue 14) posts,
        so the city's own system learns which pole or stop it is about."""
        answers = dict(self.attributes or {})
        if self.asset_id:
            answers[ASSET_ATTRIBUTE] = [self.asset.source_id]
        return answers

    @property
    def resolution_text(self) -> str:
        if self.status not in CLOSED_STATUSES:
            return ""
        return resolution_text(
            self.resolution,
            duplicate_of_id=self.duplicate_of.public_id if self.duplicate_of_id else "",
            referred_to=self.referred_to,
        )

    def sla_due(self):
        hours = self.service_type.sla_hours if self.service_type_id else None
        if not hours:
            return None
        return self.requested_at + timedelta(hours=hours)

    def clean(self):
        errors = {}
        if (self.latitude is None) != (self.longitude is None):
            errors["latitude"] = _("Give both latitude and longitude, or neither.")
        if self.description and len(self.description) > DESCRIPTION_MAX:
            errors["description"] = _("The description is %(n)s characters; at most %(max)s.") % {
                "n": len(self.description),
                "max": DESCRIPTION_MAX,
            }
        if errors:
            raise ValidationError(errors)


class Moderated(models.Model):
    is_hidden = models.BooleanField(_("hidden"), default=False)
    hidden_reason = models.CharField(max_length=255, blank=True)
    edited_by_moderator = models.BooleanField(default=False)

    class Meta:
        abstract = True
