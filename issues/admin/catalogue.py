"""The catalogue in the workbench: departments and their people, service types and their SLA
hours, response templates, wards and their aldermen. Admins edit it; staff may read their own
departments' response templates. Changes with consequences for issues (staff leaving, a new SLA,
a ward deleted) go through issues/services/catalogue.py, which keeps assignments and the
dashboards in step; aldermen are the catalogue's alone (departments/services.py). The city's own
systems (endpoints, each type's mapping to their codes, integration keys) are in upstream.py.
The catalogue belongs to departments; its pages live here, with the rest of the workbench,
because changing it moves issues."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import roles
from accounts.adminbase import OfferedFiltersOnly
from accounts.models import User
from departments import services as catalogue
from departments.models import (
    Department,
    ResponseTemplate,
    ServiceAttribute,
    ServiceType,
    Ward,
)
from departments.translations import add_translation_fields, translated_field_names
from issues import services
from issues.models import Status


class CatalogueAdmin(OfferedFiltersOnly, admin.ModelAdmin):
    """Admins only: a change here moves every department's queue."""

    def has_module_permission(self, request):
        return roles.can_manage_catalogue(request.user)

    def has_view_permission(self, request, obj=None):
        return roles.can_manage_catalogue(request.user)

    def has_add_permission(self, request, *args):
        return roles.can_manage_catalogue(request.user)

    def has_change_permission(self, request, obj=None):
        return roles.can_manage_catalogue(request.user)

    def has_delete_permission(self, request, obj=None):
        return roles.can_manage_catalogue(request.user)


def _people_field(label: str, help_text: str) -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("email"),
        required=False,
        label=label,
        help_text=help_text,
        widget=FilteredSelectMultiple(label, is_stacked=False),
    )


@add_translation_fields
class DepartmentForm(forms.ModelForm):
    members = _people_field(
        _("staff"),
        _(
            "People who work this department's queue. They get workbench access; it is taken "
            "away again when they hold no other role."
        ),
    )

    supervisors = _people_field(
        _("supervisors"),
        _(
            "Emailed when an issue stays overdue past the escalation delay. To open the "
            "emailed workbench link they also need to be staff here."
        ),
    )

    class Meta:
        model = Department
        fields = [
            "name",
            "slug",
            "contact_email",
            "notify_new_issues",
            "upstream",
            "supervisors",
            "escalate_after_hours",
        ]
        translated_fields = ["name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["members"].initial = list(self.instance.staff.values_list("pk", flat=True))


@admin.register(Department)
class DepartmentAdmin(CatalogueAdmin):
    form = DepartmentForm
    list_display = ["name", "slug", "contact_email", "notify_new_issues", "upstream", "staff_count"]
    search_fields = ["name", "contact_email"]
    prepopulated_fields = {"slug": ["name"]}
    fields = translated_field_names(
        DepartmentForm,
        [
            "name",
            "slug",
            "contact_email",
            "notify_new_issues",
            "upstream",
            "members",
            "supervisors",
            "escalate_after_hours",
        ],
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("upstream")
            .annotate(n_staff=Count("staff", distinct=True))
        )

    @admin.display(description=_("staff"), ordering="n_staff")
    def staff_count(self, obj):
        return obj.n_staff

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.set_staff(
            department=form.instance, users=form.cleaned_data["members"], by=request.user
        )


@add_translation_fields
class ServiceAttributeForm(forms.ModelForm):
    class Meta:
        model = ServiceAttribute
        fields = [
            "code",
            "order",
            "description",
            "datatype",
            "datatype_description",
            "required",
            "variable",
            "values",
            "translations",
        ]
        translated_fields = ["description"]
        help_texts = {
            "translations": _(
                'The answers in other languages, by key: {"choice:deep": {"es": "Profundo"}}.'
            )
        }


class ServiceAttributeInline(admin.StackedInline):
    model = ServiceAttribute
    form = ServiceAttributeForm
    fields = translated_field_names(ServiceAttributeForm, ServiceAttributeForm.Meta.fields)
    extra = 0


@add_translation_fields
class ServiceTypeForm(forms.ModelForm):
    notice_link = forms.URLField(
        label=_("notice link"), required=False, max_length=200, assume_scheme="https"
    )

    class Meta:
        model = ServiceType
        fields = [
            "service_code",
            "name",
            "description",
            "group",
            "keywords",
            "department",
            "active",
            "sla_hours",
            "service_notice",
            "notice",
            "stops_reports",
            "notice_link",
            "publication",
            "sensitive",
            "confirm_anonymous",
            "hotspot_min_reports",
            "hotspot_radius_m",
            "asset_layer",
        ]
        translated_fields = ["name", "description", "group", "service_notice", "notice"]

    def clean(self):
        cleaned = super().clean()
        # Marking a type sensitive turns the confirmation on, unless this same save also
        # set the confirmation itself (the city's explicit choice wins).
        if (
            cleaned.get("sensitive")
            and "sensitive" in self.changed_data
            and "confirm_anonymous" not in self.changed_data
        ):
            cleaned["confirm_anonymous"] = True
        return cleaned

    def clean_sla_hours(self):
        # Checked here, before the row is saved: save_model's set_sla_hours would refuse it
        # only after the type was already written, as a 500.
        hours = self.cleaned_data.get("sla_hours")
        try:
            catalogue.check_sla_hours(hours)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["sla_hours"]) from None
        return hours


@admin.register(ServiceType)
class ServiceTypeAdmin(CatalogueAdmin):
    form = ServiceTypeForm
    list_display = [
        "name",
        "service_code",
        "group",
        "department",
        "sla_hours",
        "active",
        "stops_reports",
        "publication",
    ]
    list_filter = [
        "active",
        "stops_reports",
        "publication",
        "sensitive",
        "confirm_anonymous",
        "group",
        "department",
    ]
    search_fields = ["name", "service_code", "keywords"]
    list_select_related = ["department"]
    inlines = [ServiceAttributeInline]
    fields = translated_field_names(ServiceTypeForm, ServiceTypeForm.Meta.fields)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "sla_hours" in form.changed_data:
            moved = services.set_sla_hours(service_type=obj, hours=obj.sla_hours)
            messages.info(
                request,
                ngettext(
                    "%(n)d open issue of this type now has the new due time.",
                    "%(n)d open issues of this type now have the new due time.",
                    moved,
                )
                % {"n": moved},
            )


@add_translation_fields
class ResponseTemplateForm(forms.ModelForm):
    status = forms.ChoiceField(
        label=_("for status"),
        choices=[("", _("Any status")), *Status.choices],
        required=False,
        help_text=_("Offered when moving an issue to this status (bulk close offers “closed”)."),
    )

    class Meta:
        model = ResponseTemplate
        fields = ["department", "service_type", "title", "status", "body", "active"]
        translated_fields = ["title", "body"]

    def clean(self):
        data = super().clean()
        department, service_type = data.get("department"), data.get("service_type")
        if (
            service_type is not None
            and department is not None
            and service_type.department_id != department.pk
        ):
            self.add_error(
                "service_type",
                _("%(t)s belongs to %(d)s, not to this template's department.")
                % {"t": service_type.name, "d": service_type.department},
            )
        return data


@admin.register(ResponseTemplate)
class ResponseTemplateAdmin(CatalogueAdmin):
    """Admins write templates; staff read their departments' (and the city-wide) ones."""

    form = ResponseTemplateForm
    fields = translated_field_names(ResponseTemplateForm, ResponseTemplateForm.Meta.fields)
    list_display = ["title", "department", "service_type", "status", "active"]
    list_filter = ["active", "department", "status"]
    search_fields = ["title", "body"]
    list_select_related = ["department", "service_type"]

    def has_module_permission(self, request):
        return roles.can_work_queue(request.user)

    def has_view_permission(self, request, obj=None):
        if roles.is_admin(request.user):
            return True
        if obj is None:
            return roles.is_department_staff(request.user)
        return obj.department_id is None or obj.department_id in roles.department_ids(request.user)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if roles.is_admin(request.user):
            return queryset
        return queryset.filter(
            Q(department__isnull=True) | Q(department_id__in=roles.department_ids(request.user))
        )


class WardForm(forms.ModelForm):
    aldermen_picked = _people_field(
        _("aldermen"), _("They read their ward's issues in the workbench and get its digest.")
    )

    class Meta:
        model = Ward
        fields = ["number", "name", "slug"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["aldermen_picked"].initial = list(
                self.instance.aldermen.values_list("pk", flat=True)
            )


@admin.register(Ward)
class WardAdmin(CatalogueAdmin):
    form = WardForm
    list_display = ["number", "name", "slug"]
    search_fields = ["name", "slug"]
    fields = ["number", "name", "slug", "aldermen_picked"]

    def has_add_permission(self, request, *args):
        # A ward is a boundary; boundaries come from the city's file (load_demo / an import).
        return False

    def delete_model(self, request, obj):
        services.delete_wards([obj])

    def delete_queryset(self, request, queryset):
        services.delete_wards(list(queryset))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        catalogue.set_aldermen(ward=form.instance, users=form.cleaned_data["aldermen_picked"])
