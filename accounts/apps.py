from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")  # the workbench's menu, in the reader's language
    default_auto_field = "django.db.models.BigAutoField"
