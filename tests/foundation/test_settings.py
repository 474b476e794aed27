"""Settings come only from the environment; each variable is read the way README says."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "debug": settings.DEBUG,
    "eager": settings.CELERY_TASK_ALWAYS_EAGER, "broker": settings.CELERY_BROKER_URL,
    "cache": settings.CACHES["default"]["BACKEND"], "email": settings.EMAIL_BACKEND,
    "email_host": getattr(settings, "EMAIL_HOST", ""), "tz": settings.TIME_ZONE,
    "hosts": settings.ALLOWED_HOSTS, "site": settings.SITE_URL, "media": str(settings.MEDIA_ROOT),
    "center": [settings.MAP_CENTER_LAT, settings.MAP_CENTER_LON],
}))
"""


def run_settings(env: dict, code: str = PROBE) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    clean.update({"DJANGO_SETTINGS_MODULE": "config.settings", **env})
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def read(env: dict) -> dict:
    result = run_settings(env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_embedded_default_needs_no_environment():
    values = read({})
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"].endswith("db.sqlite3")
    assert values["debug"] is True
    assert values["eager"] is True
    assert values["cache"].endswith("LocMemCache")
    assert values["email"].endswith("console.EmailBackend")
    assert values["tz"] == "America/Chicago"


def test_production_environment_is_read():
    values = read(
        {
            "DATABASE_URL": "postgres://civic:pw@db.internal:5432/civicfix",
            "REDIS_URL": "redis://cache.internal:6379/0",
            "EMAIL_URL": "smtp+tls://mailer:pw@smtp.example.org:587",
            "SECRET_KEY": "s" * 50,
            "ALLOWED_HOSTS": "civicfix.example.org,www.civicfix.example.org",
            "SITE_URL": "https://civicfix.example.org/",
            "TIME_ZONE": "America/New_York",
            "MEDIA_ROOT": "/srv/media",
            "MAP_CENTER_LAT": "40.7",
            "MAP_CENTER_LON": "-74.0",
        }
    )
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["name"] == "civicfix"
    assert values["debug"] is False
    assert values["eager"] is False
    assert values["broker"] == "redis://cache.internal:6379/0"
    assert values["cache"].endswith("RedisCache")
    assert values["email"].endswith("smtp.EmailBackend")
    assert values["email_host"] == "smtp.example.org"
    assert values["hosts"] == ["civicfix.example.org", "www.civicfix.example.org"]
    assert values["site"] == "https://civicfix.example.org"
    assert values["tz"] == "America/New_York"
    assert values["media"] == "/srv/media"
    assert values["center"] == [40.7, -74.0]


def test_missing_secret_key_is_refused_when_debug_is_off():
    result = run_settings({"DEBUG": "false"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_check_deploy_passes_with_production_values(tmp_path):
    env = {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "civicfix.example.org",
        "CSRF_TRUSTED_ORIGINS": "https://civicfix.example.org",
        "SITE_URL": "https://civicfix.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
    }  # No security setting given: the defaults themselves must pass (README says "strict").
    code = "import sys; from django.core.management import execute_from_command_line; execute_from_command_line(sys.argv)"
    result = subprocess.run(
        [sys.executable, "-c", code, "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME")},
            **env,
            "DJANGO_SETTINGS_MODULE": "config.settings",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("flag", ["false", "0", "no"])
def test_debug_flag_parsing(flag):
    assert read({"DEBUG": flag, "SECRET_KEY": "k" * 50})["debug"] is False


CACHE_PROBE = """
import json, django
from django.conf import settings
django.setup()
cache = settings.CACHES["default"]
print(json.dumps({"backend": cache["BACKEND"], "options": cache.get("OPTIONS", {})}))
"""


def test_redis_cache_fails_open_with_short_timeouts():
    """config/cache.py: with Redis down or hung, pages and reports go on without the cache."""
    result = run_settings(
        {
            "REDIS_URL": "redis://cache.internal:6379/0",
            "DEBUG": "true",
            "CACHE_TIMEOUT_SECONDS": "0.25",
        },
        code=CACHE_PROBE,
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["backend"] == "config.cache.FailOpenRedisCache"
    assert values["options"] == {"socket_connect_timeout": 0.25, "socket_timeout": 0.25}


def test_postgresql_connections_give_up_after_a_timeout():
    """A database that accepts and never answers gets a 503 in seconds (config/errors.py)."""
    code = PROBE.replace('"engine": db["ENGINE"]', '"timeout": db["OPTIONS"]["connect_timeout"]')
    result = run_settings(
        {"DATABASE_URL": "postgres://u:p@db:5432/civicfix", "SECRET_KEY": "k" * 50}, code=code
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["timeout"] == 5
