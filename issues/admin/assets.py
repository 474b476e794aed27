"""Asset layers in the workbench: the layers and their assets (the catalogue, admins edit them)
and the residents' adoptions, which staff of a layer's departments may end, saying why. Nobody
edits an adoption by hand: ending goes through issues.services.end_adoption."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import roles
from departments.asset_cells import rebuild_layer_cells
from departments.models import Asset, AssetLayer
from departments.translations import add_translation_fields, translated_field_names
from issues import services
from issues.admin.catalogue import CatalogueAdmin
from issues.admin.records import AdminOnly
from issues.models import Adoption


@add_translation_fields
class AssetLayerForm(forms.ModelForm):
    """The layer's words in the other languages beside each (departments/translations.py)."""

    class Meta:
        model = AssetLayer
        fields = [
            "name",
            "slug",
            "asset_label",
            "asset_label_plural",
            "description",
            "adoptable",
            "max_adopters",
            "care_task",
            "care_every_days",
        ]
        translated_fields = [
            "name",
            "asset_label",
            "asset_label_plural",
            "description",
            "care_task",
        ]


@admin.register(AssetLayer)
class AssetLayerAdmin(CatalogueAdmin):
    list_display = ["name", "slug", "asset_label", "adoptable", "max_adopters", "asset_count"]
    prepopulated_fields = {"slug": ["name"]}
    form = AssetLayerForm
    fields = translated_field_names(AssetLayerForm, AssetLayerForm.Meta.fields)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_assets=Count("assets"))

    @admin.display(description=_("assets"), ordering="n_assets")
    def asset_count(self, obj):
        return obj.n_assets


@admin.register(Asset)
class AssetAdmin(CatalogueAdmin):
    list_display = ["source_id", "name", "layer", "kind", "ward_number", "adopter_count"]
    list_filter = ["layer"]
    search_fields = ["source_id", "name"]
    search_help_text = _("Search by the asset's id or name.")
    readonly_fields = ["adopter_count"]
    raw_id_fields = ["ward"]
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request):
        # The ward's boundary is a large document no column shows.
        return super().get_queryset(request).select_related("layer", "ward").defer("ward__boundary")

    @admin.display(description=_("ward"), ordering="ward__number")
    def ward_number(self, obj):
        return obj.ward.number if obj.ward_id else "—"

    # An asset added, moved, or deleted here changes its layer's map cells: recount the layer's
    # (rare hand edits; the importer does the same once per file).
    def save_model(self, request, obj, form, change):
        old_layer_id = Asset.objects.filter(pk=obj.pk).values_list("layer_id", flat=True).first()
        super().save_model(request, obj, form, change)
        for layer_id in {obj.layer_id, old_layer_id} - {None}:
            rebuild_layer_cells(layer_id)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        rebuild_layer_cells(obj.layer_id)

    def delete_queryset(self, request, queryset):
        layer_ids = set(queryset.values_list("layer_id", flat=True))
        super().delete_queryset(request, queryset)
        for layer_id in layer_ids:
            rebuild_layer_cells(layer_id)


class EndAdoptionsForm(forms.Form):
    note = forms.CharField(
        label=_("Why do they end?"),
        max_length=255,
        help_text=_("Public on the asset's page: write it for the neighbours."),
    )


class AdoptionStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", _("Active")), ("ended", _("Ended"))]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(ended_at__isnull=True)
        if self.value() == "ended":
            return queryset.filter(ended_at__isnull=False)
        return queryset


@admin.register(Adoption)
class AdoptionAdmin(AdminOnly):
    """Adoptions of the layers a person's departments work; admins see them all. Like the
    records, nobody edits them here: ending one is services.end_adoption."""

    list_display = ["asset", "layer", "adopter_email", "started_at", "next_due_at", "ended_at"]
    list_filter = [AdoptionStateFilter, "asset__layer"]
    search_fields = ["asset__source_id", "asset__name", "adopter__user__email"]
    search_help_text = _("Search by the asset's id or name, or the adopter's email.")
    list_per_page = 50
    actions = ["end_adoptions"]
    readonly_fields = [
        "asset",
        "adopter",
        "care_task",
        "every_days",
        "started_at",
        "next_due_at",
        "send_reminders",
        "ended_at",
        "ended_by",
        "end_reason",
        "end_note",
    ]
    fields = readonly_fields

    def get_queryset(self, request):
        queryset = (
            super()
            .get_queryset(request)
            .select_related("asset__layer", "adopter__user", "ended_by")
        )
        if roles.is_admin(request.user):
            return queryset
        return queryset.filter(
            asset__layer__service_types__department__in=roles.department_ids(request.user)
        ).distinct()

    def _may_see(self, request) -> bool:
        return roles.is_admin(request.user) or roles.is_department_staff(request.user)

    # Listed on the workbench's index for admins only (AdminOnly): asking whether a staff
    # member's departments have a layer would cost a query on every workbench page. Staff
    # reach a layer's adoptions from an issue's asset (admin/issues/issue/_summary.html).

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return self._may_see(request)
        return services.can_end_adoptions(request.user, obj.asset)

    def has_end_permission(self, request):
        return self._may_see(request)

    @admin.display(description=_("layer"), ordering="asset__layer__name")
    def layer(self, obj):
        return obj.asset.layer.name

    @admin.display(description=_("adopter"), ordering="adopter__user__email")
    def adopter_email(self, obj):
        return obj.adopter.user.email

    @admin.action(description=_("End the selected adoptions…"), permissions=["end"])
    def end_adoptions(self, request, queryset):
        adoptions = list(queryset.filter(ended_at__isnull=True))
        applying = "apply" in request.POST
        form = EndAdoptionsForm(request.POST if applying else None)
        if applying and form.is_valid():
            ended, refused = 0, []
            for adoption in adoptions:
                try:
                    services.end_adoption(
                        adoption=adoption, by=request.user, note=form.cleaned_data["note"]
                    )
                    ended += 1
                except (ValidationError, PermissionDenied) as exc:
                    refused.append(
                        f"{adoption.asset}: {' '.join(exc.messages if hasattr(exc, 'messages') else [str(exc)])}"
                    )
            if ended:
                messages.success(
                    request,
                    ngettext("%(n)d adoption ended.", "%(n)d adoptions ended.", ended)
                    % {"n": ended},
                )
            if refused:
                messages.warning(request, " · ".join(refused[:10]))
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("End adoptions"),
            "opts": self.model._meta,
            "adoptions": adoptions,
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request,
            "admin/issues/adoption/end_adoptions.html",
            context,
            status=400 if applying else 200,
        )
