"""Area routing (issue 16): a department's teams and the rules that give its new, reopened and
re-typed issues to a team or a person ("potholes in wards 1-5 go to the North crew").

The rules belong to the catalogue because they are about the city's catalogue (a department, its
types, its wards); applying them to an issue is issues/services/routing.py's work."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from departments.wards import shape_from_geojson


class Priority(models.TextChoices):
    """How urgent an issue is for the department. Internal: residents see the status and the
    due time, not a ranking of their report against their neighbours'."""

    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


# Sort rank, most urgent first (the queue orders by it; lower is more urgent).
PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


class Team(models.Model):
    """A named group of a department's staff (a ward crew, a night shift) that takes issues in
    turn. `last_assigned` is the round robin's place: the next issue goes to the first eligible
    member after them (by id), so people joining or leaving never reshuffle the turn."""

    department = models.ForeignKey(
        "departments.Department",
        on_delete=models.CASCADE,
        related_name="teams",
        verbose_name=_("department"),
    )
    name = models.CharField(max_length=120, verbose_name=_("name"))
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="teams", blank=True, verbose_name=_("members")
    )
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("last assigned"),
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["department__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["department", "name"], name="team_name_per_department")
        ]

    def __str__(self) -> str:
        return self.name


class RoutingRuleQuerySet(models.QuerySet):
    def in_order(self):
        """The order rules are tried in: their position, then the older rule first."""
        return self.order_by("position", "pk")


class RoutingRule(models.Model):
    """One rule of a department: issues of these types (any of the department's, when none are
    picked) in these wards or inside this drawn area (anywhere, when neither is given) go to this
    team (in turn) or this person, and/or get this priority. The department's rules are tried in
    order and the first that matches wins, so the more specific rules go first."""

    department = models.ForeignKey(
        "departments.Department",
        on_delete=models.CASCADE,
        related_name="routing_rules",
        verbose_name=_("department"),
    )
    name = models.CharField(
        max_length=120,
        help_text=_("Shown in the issue's timeline: “Potholes in wards 1-5”."),
        verbose_name=_("name"),
    )
    position = models.PositiveIntegerField(
        default=100,
        help_text=_("Rules are tried from the lowest number up; the first match wins."),
        verbose_name=_("position"),
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))
    service_types = models.ManyToManyField(
        "departments.ServiceType",
        related_name="routing_rules",
        blank=True,
        help_text=_("Empty: every type of the department."),
        verbose_name=_("service types"),
    )
    wards = models.ManyToManyField(
        "departments.Ward",
        related_name="routing_rules",
        blank=True,
        help_text=_("Empty, with no area either: anywhere in the city."),
        verbose_name=_("wards"),
    )
    area = models.JSONField(
        _("drawn area"),
        null=True,
        blank=True,
        help_text=_(
            "A GeoJSON Polygon or MultiPolygon (lon/lat), for a part of the city that is no ward. "
            "An issue matches when it is in one of the wards or inside this area."
        ),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rules",
        help_text=_("Its members take the issues in turn."),
        verbose_name=_("team"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("person"),
        help_text=_("Or one person, who takes every issue the rule matches."),
    )
    priority = models.CharField(
        max_length=10,
        choices=Priority.choices,
        blank=True,
        help_text=_("Set on the issues it matches; empty leaves the priority as it is."),
        verbose_name=_("priority"),
    )

    objects = RoutingRuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["department__name", "position", "pk"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        errors = {}
        if self.team_id and self.assignee_id:
            errors["assignee"] = _("Give the issues to a team or to a person, not both.")
        if not (self.team_id or self.assignee_id or self.priority):
            errors["team"] = _("Name a team, a person or a priority: the rule must do something.")
        if self.team_id and self.department_id and self.team.department_id != self.department_id:
            errors["team"] = _("%(t)s is a team of %(d)s.") % {
                "t": self.team,
                "d": self.team.department,
            }
        if self.area not in (None, "", {}):
            try:
                shape = shape_from_geojson(self.area)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                errors["area"] = _("Not a GeoJSON polygon: %s") % exc
            else:
                if not shape.is_valid:
                    errors["area"] = _("The polygon is not valid (it crosses itself).")
        if errors:
            raise ValidationError(errors)
