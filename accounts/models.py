import hashlib
import secrets

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        email = self.normalize_email(email).lower()
        user = self.model(email=email, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("email_verified", True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Email is the login. Roles come from relations, not flags:
    staff = member of a Department, alderman = holds a Ward, admin = superuser
    (see accounts/roles.py). `is_staff` only means "may open the Django admin"."""

    email = models.EmailField(_("email address"), unique=True)
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    email_verified = models.BooleanField(_("email verified"), default=False)
    is_active = models.BooleanField(_("is active"), default=True)
    is_staff = models.BooleanField(
        _("is staff"),
        default=False,
        help_text=_("May sign in to the staff workbench (Django admin)."),
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    # Notification settings the person controls on their profile page.
    notify_updates = models.BooleanField(
        _("email me about issues I report or follow"), default=True
    )
    notify_ward_digest = models.BooleanField(_("daily digest of my wards (aldermen)"), default=True)
    notify_escalations = models.BooleanField(
        _("overdue-issue escalations (department staff)"), default=True
    )
    # The language the person last chose on the site's switch: applied when they sign in, and
    # the language of every email sent to them. Blank: not chosen (emails then go in the
    # language they reported in, else the city's default). No choices here, so adding a
    # language to LANGUAGES needs no migration; the switch only stores codes in LANGUAGES.
    language = models.CharField(_("language"), max_length=16, blank=True, default="")

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    @property
    def public_name(self) -> str:
        """Name shown on public pages: the display name, never the email address."""
        return public_name(self.display_name)

    def get_full_name(self) -> str:
        return self.display_name or self.email

    def get_short_name(self) -> str:
        return self.display_name or self.email.split("@")[0]


def _hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def matching(self, raw: str):
        return self.active().filter(key_hash=_hash_key(raw))


class ApiKey(models.Model):
    """An Open311 API key. Only its hash is stored; the key is shown once, when made."""

    owner = models.ForeignKey(
        User, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(
        _("name"), max_length=100, help_text=_("What the key is for, e.g. the app's name.")
    )
    prefix = models.CharField(_("prefix"), max_length=8, editable=False)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    request_count = models.PositiveBigIntegerField(_("request count"), default=0)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]
        verbose_name = _("API key")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, *, owner: User, name: str) -> tuple["ApiKey", str]:
        """Create a key and return it with the raw secret, which is never retrievable again."""
        raw = secrets.token_urlsafe(24)
        key = cls.objects.create(owner=owner, name=name, prefix=raw[:8], key_hash=_hash_key(raw))
        return key, raw


def public_name(display_name: str) -> str:
    """User.public_name from a display name read as a value (a page that reads rows, not
    accounts): the name, else "a resident"; the email address never."""
    return display_name or _("a resident")
