"""What every page of the workbench shares, whichever app's models it shows.

Django's admin applies any query parameter naming a column of the listed model as a filter
(`?reporter_email__startswith=c`), whatever the page's sidebar offers. Filters answer "how many
rows match", so a person who may read the list but not a column can rebuild that column one
character at a time: an alderman did so for anonymous reporters' email addresses. Every
ModelAdmin of the project therefore takes `OfferedFiltersOnly` first in its bases: a list takes
only the parameters its own filters read (its sidebar, the date drill-down, and the pop-ups
Django's own raw-id widgets open), and refuses anything else with a 400 that says so.

It lives in accounts, the lowest app with a workbench page, so departments and issues can use
it without importing upwards; tests/privacy checks every admin in the registry carries it.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.contrib import admin
from django.contrib.admin import widgets
from django.contrib.admin.exceptions import DisallowedModelAdminLookup, NotRegistered
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.contrib.contenttypes import views as contenttype_views
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db.models.constants import LOOKUP_SEP
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# The lookups Django's own field filters write into their links: BooleanFieldListFilter and
# ChoicesFieldListFilter (`__exact`, `__isnull`), RelatedFieldListFilter (`__<pk>__exact`,
# `__isnull`), EmptyFieldListFilter (`__isempty`), DateFieldListFilter (`__gte`, `__lt`,
# `__isnull`), AllValuesFieldListFilter.
FIELD_FILTER_LOOKUPS = frozenset({"exact", "isnull", "isempty", "gte", "lt", "in"})


# The workbench's titles (config/urls.py sets them on the admin site), in the reader's language:
# lazy, since the site is set up once, before anyone's language is known.
SITE_HEADER = lazy(
    lambda: gettext("%(site)s staff workbench") % {"site": settings.SITE_NAME}, str
)()
SITE_TITLE = lazy(lambda: gettext("%(site)s staff") % {"site": settings.SITE_NAME}, str)()
INDEX_TITLE = _("Work queues")


def field_filter_paths(model_admin, request) -> list[str]:
    """The columns the list's sidebar filters on with Django's field filters."""
    return [
        item[0] if isinstance(item, (list, tuple)) else item
        for item in model_admin.get_list_filter(request)
        if not (isinstance(item, type) and issubclass(item, admin.SimpleListFilter))
    ]


def offered_filter_lookup(model_admin, request, lookup: str) -> bool:
    """Whether `lookup` is one a filter of this list offers (not yet which value)."""
    names = {
        item.parameter_name
        for item in model_admin.get_list_filter(request)
        if isinstance(item, type) and issubclass(item, admin.SimpleListFilter)
    }
    field_paths = field_filter_paths(model_admin, request)
    if model_admin.date_hierarchy:
        names.update(f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day"))
    if lookup in names:
        return True
    for path in field_paths:
        if lookup == path:  # `state=failed`: the exact match the sidebar offers as `state__exact`
            return True
        if not lookup.startswith(path + LOOKUP_SEP):
            continue
        rest = lookup.removeprefix(path + LOOKUP_SEP).split(LOOKUP_SEP)
        if len(rest) == 1 and rest[0] in FIELD_FILTER_LOOKUPS:
            return True
        if len(rest) == 2 and rest[1] in FIELD_FILTER_LOOKUPS:
            # A related filter names the target's key (`department__id__exact`), nothing else.
            try:
                field = admin.utils.get_fields_from_path(model_admin.model, path)[-1]
            except FieldDoesNotExist:
                return False
            if field.is_relation and rest[0] == field.target_field.name:
                return True
    return False


def raw_id_popup_lookup(model_admin, lookup: str, value) -> bool:
    """Django's raw-id pop-ups add a relation's `limit_choices_to` to the list they open."""
    for fk_lookup in model_admin.model._meta.related_fkey_lookups:
        if callable(fk_lookup):
            fk_lookup = fk_lookup()
        if (lookup, value) in widgets.url_params_from_lookup_dict(fk_lookup).items():
            return True
    return False


class OfferedFiltersChangeList(ChangeList):
    """A list that refuses every parameter none of its filters took (the exact check: a filter
    takes only the parameters it writes into its own links)."""

    def get_filters(self, request):
        specs, has_filters, remaining, duplicates, active = super().get_filters(request)
        # An exact match on a column the sidebar filters on (`?state=failed`, as people and older
        # links write `state__exact`) tells nothing the sidebar does not.
        taken = set(field_filter_paths(self.model_admin, request))
        if self.date_hierarchy:
            taken |= {f"{self.date_hierarchy}__gte", f"{self.date_hierarchy}__lt"}
        for key in remaining:
            if key in taken:
                continue
            values = self.get_filters_params().get(key, [])
            if not values or not all(raw_id_popup_lookup(self.model_admin, key, v) for v in values):
                raise DisallowedModelAdminLookup(f"Filtering by {key} not allowed")
        return specs, has_filters, remaining, duplicates, active


@functools.cache
def offered_filters_only(changelist: type[ChangeList]) -> type[ChangeList]:
    """`changelist` with the exact check (made once per class, not per request)."""
    if issubclass(changelist, OfferedFiltersChangeList):
        return changelist
    return type(f"OfferedFilters{changelist.__name__}", (OfferedFiltersChangeList, changelist), {})


class OfferedFiltersOnly:
    """The base of every ModelAdmin in the project: filters only through what the list offers."""

    refused_lookup_template = "admin/refused_lookup.html"

    def lookup_allowed(self, lookup, value, request=None):
        if raw_id_popup_lookup(self, lookup, value):
            return True
        return offered_filter_lookup(self, request, lookup)

    def get_changelist(self, request, **kwargs):
        return offered_filters_only(super().get_changelist(request, **kwargs))

    def changelist_view(self, request, extra_context=None):
        try:
            return super().changelist_view(request, extra_context)
        except DisallowedModelAdminLookup as refused:
            # A 400 that says what was refused and what to do, not Django's bare "Bad Request".
            context = {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": _("This list cannot be filtered that way"),
                "parameter": str(refused)
                .removeprefix("Filtering by ")
                .removesuffix(" not allowed"),
                "list_url": request.path,
            }
            return TemplateResponse(request, self.refused_lookup_template, context, status=400)


def view_on_site(request, content_type_id: int, object_id: str):
    """The workbench's "view on site" link (/admin/r/<type>/<id>/), for what this person may
    see in the workbench only. Django's own view redirects any staff member or alderman to the
    public page of any object, so it told them the public id of another department's issue or
    a hidden one; here anything they may not open in the workbench, or that has no public page
    (a hidden issue), is the 404 of an object that does not exist."""
    try:
        model_admin = admin.site.get_model_admin(
            ContentType.objects.get_for_id(content_type_id).model_class()
        )
    except (ContentType.DoesNotExist, NotRegistered, AttributeError):
        # No such type, a type no admin shows, or a stale one whose model is gone (None).
        raise Http404(_("Nothing to show here.")) from None
    obj = model_admin.get_object(request, unquote(str(object_id)))
    if obj is None or not model_admin.has_view_permission(request, obj):
        raise Http404(_("Nothing to show here."))
    if callable(model_admin.view_on_site):
        url = model_admin.view_on_site(obj)
        if not url:
            raise Http404(_("Nothing to show here."))
        return HttpResponseRedirect(url)
    if not model_admin.view_on_site:
        raise Http404(_("Nothing to show here."))
    return contenttype_views.shortcut(request, content_type_id, object_id)
