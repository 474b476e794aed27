"""The catalogue proper: departments, the service types residents choose from, their questions,
and the canned replies staff send."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _


class SlugFromName(models.Model):
    """A `slug` made from the `name` when none is given."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.name)[:120]
        super().save(*args, **kwargs)


class Department(SlugFromName):
    """A city department that works a queue of issues (Streets and Sanitation, Water, ...)."""

    name = models.CharField(max_length=120, unique=True, verbose_name=_("name"))
    slug = models.SlugField(max_length=120, unique=True, verbose_name=_("slug"))
    contact_email = models.EmailField(blank=True, verbose_name=_("contact email"))
    notify_new_issues = models.BooleanField(
        default=True,
        help_text=_("Email the contact address about new and transferred issues."),
        verbose_name=_("notify new issues"),
    )
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="departments", blank=True, verbose_name=_("staff")
    )
    # Overdue escalation (issues/notify/escalations.py) mails them once an issue has stayed
    # overdue for `escalate_after_hours` more; they also edit the department's routing rules and
    # teams (accounts/roles.py), besides the site's admins.
    supervisors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="supervised_departments",
        blank=True,
        help_text=_("Emailed when an issue stays overdue past the escalation delay."),
        verbose_name=_("supervisors"),
    )
    escalate_after_hours = models.PositiveIntegerField(
        _("escalate to supervisors after (hours overdue)"),
        null=True,
        blank=True,
        help_text=_("Empty: the site's default (ESCALATE_TO_SUPERVISORS_AFTER_HOURS)."),
    )
    upstream = models.ForeignKey(
        "UpstreamEndpoint",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="departments",
        verbose_name=_("city system"),
        help_text=_(
            "The city's own Open311 server that this department's reports are sent on to. "
            "Empty: reports stay in CivicFix. A service type may name another."
        ),
    )
    # The city's words in other languages, beside the original (departments/translations.py).
    translations = models.JSONField(_("translations"), default=dict, blank=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ServiceTypeQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def with_metadata_flag(self):
        """Annotate `has_attributes` so listing services needs no query per row."""
        return self.annotate(
            has_attributes=models.Exists(
                ServiceAttribute.objects.filter(service_type=models.OuterRef("pk"))
            )
        )


class ServiceType(models.Model):
    """An Open311 service: the kind of problem a resident reports."""

    service_code = models.CharField(max_length=64, unique=True, verbose_name=_("service code"))
    name = models.CharField(max_length=120, verbose_name=_("name"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    group = models.CharField(max_length=80, blank=True, verbose_name=_("group"))
    keywords = models.CharField(
        max_length=255, blank=True, help_text=_("Comma-separated."), verbose_name=_("keywords")
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="service_types",
        verbose_name=_("department"),
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))
    sla_hours = models.PositiveIntegerField(
        _("expected response time (hours)"),
        null=True,
        blank=True,
        help_text=_("An issue of this type is overdue this many hours after it was reported."),
    )
    service_notice = models.CharField(
        max_length=255,
        blank=True,
        help_text=_("Shown to the reporter after submitting (Open311)."),
        verbose_name=_("service notice"),
    )
    # Safety (issue 20): what a resident reads as soon as they choose the type, before typing.
    notice = models.TextField(
        _("notice before reporting"),
        blank=True,
        help_text=_("Shown as soon as a resident chooses this type, before they type anything."),
    )
    stops_reports = models.BooleanField(
        _("refuse reports (emergency)"),
        default=False,
        help_text=_(
            "Reports of this type are refused on every door (form, API, imports) with the "
            "notice as the instruction: a gas leak or a downed wire, call 911."
        ),
    )
    notice_link = models.URLField(_("notice link"), blank=True)
    publication = models.CharField(
        _("publication"),
        max_length=10,
        choices=[
            ("public", _("Public at once")),
            ("held", _("Held for a moderator before it is public")),
            ("private", _("Private: never public")),
        ],
        default="public",
    )
    # Hotspot alerts: at least N reports of this type within R metres over the last 7 days.
    hotspot_min_reports = models.PositiveSmallIntegerField(
        default=5, verbose_name=_("hotspot min reports")
    )
    hotspot_radius_m = models.PositiveIntegerField(default=150, verbose_name=_("hotspot radius m"))
    asset_layer = models.ForeignKey(
        "AssetLayer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="service_types",
        help_text=_("Reports of this type name one of the layer's assets (a light, a stop)."),
        verbose_name=_("asset layer"),
    )
    confirm_anonymous = models.BooleanField(
        _("anonymous reports need an emailed confirmation"),
        default=False,
        help_text=_(
            "Reports without an account are published only once the address they give follows "
            "the link we email; unconfirmed ones expire. For sensitive types."
        ),
    )
    sensitive = models.BooleanField(
        _("sensitive"),
        default=False,
        help_text=_(
            "Reports of this type can be about people, homes or health (a welfare check, rats "
            "in a building). Marking a type sensitive turns on the emailed confirmation of "
            "anonymous reports; it can be turned off again."
        ),
    )
    # The city's words in other languages, beside the original (departments/translations.py).
    translations = models.JSONField(_("translations"), default=dict, blank=True)

    objects = ServiceTypeQuerySet.as_manager()

    class Meta:
        verbose_name = _("service type")
        verbose_name_plural = _("service types")
        ordering = ["group", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hotspot_min_reports__gte=2), name="servicetype_hotspot_min_2"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # On by default for a sensitive type: a new one starts with it (the admin form does
        # the same when a type is marked sensitive later); the city may then turn it off.
        if self._state.adding and self.sensitive:
            self.confirm_anonymous = True
        super().save(*args, **kwargs)

    @property
    def metadata(self) -> bool:
        """Open311 `metadata`: true when the type has attributes a client must ask about."""
        if self.asset_layer_id is not None:
            return True  # the asset it is about is one (issues.models.ASSET_ATTRIBUTE)
        annotated = getattr(self, "has_attributes", None)
        if annotated is not None:
            return bool(annotated)
        return self.attributes.exists()


class AttributeDatatype(models.TextChoices):
    STRING = "string", _("Single line of text")
    NUMBER = "number", _("Number")
    DATETIME = "datetime", _("Date and time")
    TEXT = "text", _("Text")
    SINGLEVALUELIST = "singlevaluelist", _("Pick one")
    MULTIVALUELIST = "multivaluelist", _("Pick any")


class ServiceAttribute(models.Model):
    """An Open311 attribute of a service type: one question asked when reporting."""

    service_type = models.ForeignKey(
        ServiceType,
        on_delete=models.CASCADE,
        related_name="attributes",
        verbose_name=_("service type"),
    )
    code = models.CharField(max_length=64, verbose_name=_("code"))
    order = models.PositiveIntegerField(default=1, verbose_name=_("order"))
    description = models.CharField(
        max_length=255,
        help_text=_("The question shown to the person."),
        verbose_name=_("description"),
    )
    datatype = models.CharField(
        max_length=20, choices=AttributeDatatype.choices, verbose_name=_("datatype")
    )
    datatype_description = models.CharField(
        max_length=255, blank=True, verbose_name=_("datatype description")
    )
    required = models.BooleanField(default=False, verbose_name=_("required"))
    variable = models.BooleanField(
        default=True,
        help_text=_("False: informational only, no answer is asked for."),
        verbose_name=_("variable"),
    )
    values = models.JSONField(
        default=list,
        blank=True,
        help_text=_('For lists: [{"key": "...", "name": "..."}, ...]'),
        verbose_name=_("values"),
    )
    # The question and its answers in other languages: {"description": {"es": ...},
    # "choice:<key>": {"es": ...}} (departments/translations.py).
    translations = models.JSONField(_("translations"), default=dict, blank=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["service_type", "order"]
        constraints = [
            models.UniqueConstraint(fields=["service_type", "code"], name="attribute_code_unique"),
            models.UniqueConstraint(
                fields=["service_type", "order"], name="attribute_order_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(datatype__in=[c.value for c in AttributeDatatype]),
                name="attribute_datatype_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_type.service_code}:{self.code}"

    @property
    def is_list(self) -> bool:
        return self.datatype in (
            AttributeDatatype.SINGLEVALUELIST,
            AttributeDatatype.MULTIVALUELIST,
        )

    def value_keys(self) -> list[str]:
        return [str(v["key"]) for v in self.values or []]

    def clean(self):
        if self.is_list:
            if not isinstance(self.values, list) or not self.values:
                raise ValidationError({"values": _("A list attribute needs at least one value.")})
            for v in self.values:
                if not isinstance(v, dict) or "key" not in v or "name" not in v:
                    raise ValidationError({"values": _('Each value needs a "key" and a "name".')})
        elif self.values:
            raise ValidationError({"values": _("Only list attributes have values.")})


class ResponseTemplate(models.Model):
    """A canned public message staff pick when changing status or closing issues."""

    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        related_name="response_templates",
        null=True,
        blank=True,
        help_text=_("Leave empty to offer this template to every department."),
        verbose_name=_("department"),
    )
    title = models.CharField(max_length=120, verbose_name=_("title"))
    body = models.TextField(
        help_text=_(
            "Placeholders: {request_id}, {service_type}, {address}, {department}, filled in "
            "for each issue."
        ),
        verbose_name=_("body"),
    )
    status = models.CharField(
        max_length=20,
        blank=True,
        help_text=_("The status this template is meant for, if any."),
        verbose_name=_("status"),
    )
    # Scoped by type: "A crew filled this pothole" is offered for potholes only, never for a
    # graffiti report (issue 16).
    service_type = models.ForeignKey(
        "ServiceType",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="response_templates",
        help_text=_("Leave empty to offer this template for every type of the department."),
        verbose_name=_("service type"),
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))
    # The city's words in other languages, beside the original (departments/translations.py).
    translations = models.JSONField(_("translations"), default=dict, blank=True)

    class Meta:
        verbose_name = _("response template")
        verbose_name_plural = _("response templates")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title
