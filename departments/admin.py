from django.contrib import admin

from departments.models import Department, ResponseTemplate, ServiceAttribute, ServiceType, Ward


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "contact_email", "notify_new_issues"]
    search_fields = ["name", "contact_email"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["staff"]


class ServiceAttributeInline(admin.TabularInline):
    model = ServiceAttribute
    extra = 0


@admin.register(ServiceType)
class ServiceTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "service_code", "group", "department", "sla_hours", "active"]
    list_filter = ["active", "group", "department"]
    search_fields = ["name", "service_code", "keywords"]
    list_select_related = ["department"]
    inlines = [ServiceAttributeInline]


@admin.register(ResponseTemplate)
class ResponseTemplateAdmin(admin.ModelAdmin):
    list_display = ["title", "department", "status", "active"]
    list_filter = ["active", "department"]
    search_fields = ["title", "body"]


@admin.register(Ward)
class WardAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "slug"]
    search_fields = ["name", "slug"]
    filter_horizontal = ["aldermen"]
    exclude = ["boundary", "min_lat", "max_lat", "min_lon", "max_lon"]
