"""Where photos (and their thumbnails) are stored: the web server's disk, or S3-compatible object
storage so that more than one web server can share them.

Local disk (MEDIA_ROOT) is the embedded default. Object storage is chosen by STORAGE_URL,

    STORAGE_URL=s3://ACCESS_KEY:SECRET_KEY@HOST[:PORT]/BUCKET?region=eu-west-1&scheme=https

(HOST is the endpoint: s3.amazonaws.com for AWS itself, or a MinIO, Ceph, Garage, R2 ... host),
or by the AWS_* variables django-storages knows (AWS_STORAGE_BUCKET_NAME, AWS_S3_ENDPOINT_URL,
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_S3_REGION_NAME); STORAGE_URL wins where both say.

Objects are private: the store answers no one without a signature. Pages never link the store:
the backend (issues.photostore.CheckedS3Storage) gives MEDIA_URL + name, the checked media view,
which redirects to a URL signed for 60 s only after asking the photo's row, so a photo hidden by
a moderator is a 404 at once, also through links handed out earlier.

Plain data only: settings build STORAGES["default"] from this without importing boto3.
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

LOCAL = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
# Our subclass: links go through the checked media view (issues/photostore.py).
S3_BACKEND = "issues.photostore.CheckedS3Storage"
AWS_HOST = "s3.amazonaws.com"


def _from_url(url: str) -> dict:
    parts = urlsplit(url)
    if parts.scheme != "s3":
        raise ImproperlyConfigured("STORAGE_URL must start with s3:// (S3-compatible storage).")
    bucket = parts.path.strip("/")
    if not parts.hostname or not bucket or "/" in bucket:
        raise ImproperlyConfigured(
            "STORAGE_URL needs a host and one bucket: s3://KEY:SECRET@HOST/BUCKET"
        )
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    options = {"bucket_name": bucket}
    if parts.username:
        options["access_key"] = unquote(parts.username)
        options["secret_key"] = unquote(parts.password or "")
    if parts.hostname != AWS_HOST:
        scheme = query.get("scheme", "https")
        port = f":{parts.port}" if parts.port else ""
        options["endpoint_url"] = f"{scheme}://{parts.hostname}{port}"
    if query.get("region"):
        options["region_name"] = query["region"]
    return options


def _from_aws_variables(env: environ.Env) -> dict:
    names = {
        "bucket_name": "AWS_STORAGE_BUCKET_NAME",
        "endpoint_url": "AWS_S3_ENDPOINT_URL",
        "access_key": "AWS_ACCESS_KEY_ID",
        "secret_key": "AWS_SECRET_ACCESS_KEY",
        "region_name": "AWS_S3_REGION_NAME",
    }
    return {option: env.str(name) for option, name in names.items() if env.str(name, default="")}


def default_storage(env: environ.Env) -> dict:
    """STORAGES["default"]: the local disk, or private S3-compatible storage when configured."""
    options = _from_aws_variables(env)
    if env.str("STORAGE_URL", default=""):
        options.update(_from_url(env.str("STORAGE_URL")))
    if not options:
        return LOCAL
    if "bucket_name" not in options:
        raise ImproperlyConfigured(
            "Object storage needs a bucket: STORAGE_URL=s3://KEY:SECRET@HOST/BUCKET or "
            "AWS_STORAGE_BUCKET_NAME."
        )
    options.update(
        # Private objects, reached only through signed URLs (the module docstring says why).
        default_acl="private",
        querystring_auth=True,
        # Signature version 4: what AWS requires in every region, and other stores accept.
        signature_version="s3v4",
        querystring_expire=env.int("AWS_QUERYSTRING_EXPIRE", default=900),
        # Two uploads named alike never replace each other's photo.
        file_overwrite=False,
        # Photos never change once written: browsers may keep them as long as the link lives.
        object_parameters={"CacheControl": "private, max-age=900"},
    )
    return {"BACKEND": S3_BACKEND, "OPTIONS": options}
