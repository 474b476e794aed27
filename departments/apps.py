from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DepartmentsConfig(AppConfig):
    name = "departments"
    verbose_name = _("Departments")  # the workbench's menu, in the reader's language
    default_auto_field = "django.db.models.BigAutoField"
