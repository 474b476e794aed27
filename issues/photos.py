"""The photo pipeline shared by the web form and the Open311 API.

A photo is decoded with Pillow (so a file that only claims to be an image is refused), checked
against decompression bombs, turned upright from its EXIF orientation, stripped of ALL metadata
(GPS above all) by re-encoding only the pixels, scaled to at most 2048 px and given a thumbnail.
Everything is checked before anything is stored, so a bad file loses nothing else.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from issues.models import Photo

log = logging.getLogger(__name__)

MAX_EDGE = 2048
THUMB_EDGE = 320
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "MPO"}  # MPO: what many phones call their JPEGs
# Refuse anything over 40 megapixels before decoding it: a 143 KB PNG can claim 49 MP and cost a
# gigabyte to decode (docs/security.md, "Photos"). 40 MP is above what phones save by default
# (12-24 MP; 48-50 MP only in special modes) and well below Pillow's own bomb limits (89 MP warns,
# 179 MP refuses), so five photos in one request decode at most 200 MP.
MAX_PIXELS = 40_000_000

try:  # HEIC from iPhones (pillow-heif, pinned in requirements.txt); stored as JPEG like the rest.
    from pillow_heif import register_heif_opener

    register_heif_opener()
    ALLOWED_FORMATS |= {"HEIF", "HEIC"}
    HEIC_ACCEPTED = True
except ImportError:  # pragma: no cover - an install without the wheel refuses them by name
    HEIC_ACCEPTED = False

# What a photo field's file picker offers: the formats prepare_photo reads here.
PHOTO_ACCEPT = "image/jpeg,image/png,image/webp" + (
    ",image/heic,image/heif,.heic,.heif" if HEIC_ACCEPTED else ""
)

# The brands an ISO media file names at byte 4 ("ftyp" + brand) when it is an HEIC/HEIF picture.
HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")


def _formats_we_take() -> str:
    return _("JPEG, PNG, WebP or HEIC") if HEIC_ACCEPTED else _("JPEG, PNG or WebP")


def _unreadable(name: str, data: bytes) -> ValidationError:
    if data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        return ValidationError(
            _(
                "%(name)s is an iPhone (HEIC) photo, which this site cannot read yet; please "
                "send it as JPEG (on the iPhone: Settings, Camera, Formats, Most Compatible)."
            )
            % {"name": name}
        )
    return ValidationError(
        _("%(name)s is not a picture we can read; please send a %(formats)s photo.")
        % {"name": name, "formats": _formats_we_take()}
    )


@dataclass(frozen=True)
class PreparedPhoto:
    name: str
    image: bytes
    thumbnail: bytes
    width: int
    height: int


def _encode(img: Image.Image) -> bytes:
    out = io.BytesIO()
    # Saving without exif=/icc_profile= writes pixels only: no EXIF, no GPS, no XMP, no comments.
    img.save(out, format="JPEG", quality=85, optimize=True, progressive=True)
    return out.getvalue()


def _shrink(img: Image.Image) -> Image.Image:
    """Cut a large picture down by a whole factor with reduce() (a cheap box average) so that
    the colour conversion and the final LANCZOS resize only ever see a few megapixels."""
    factor = min(img.width, img.height) // MAX_EDGE
    if factor < 2:
        return img
    if img.mode not in ("RGB", "RGBA", "L", "LA"):  # palette, 1-bit, CMYK, 16-bit: no reduce()
        img = img.convert("RGBA" if "transparency" in img.info or "A" in img.mode else "RGB")
    return img.reduce(factor)


def _read_upload(upload, name: str) -> bytes:
    """The upload's bytes, refused (naming the file) when too large, unreadable or empty."""
    size = getattr(upload, "size", None)
    limit = settings.PHOTO_MAX_BYTES
    if size is not None and size > limit:
        raise ValidationError(
            _("%(name)s is %(mb).1f MB; photos can be at most %(max)d MB.")
            % {"name": name, "mb": size / 1_048_576, "max": limit // 1_048_576}
        )
    try:
        upload.seek(0)
        data = upload.read(limit + 1)
    except (OSError, ValueError) as exc:
        raise ValidationError(_("%(name)s could not be read.") % {"name": name}) from exc
    if len(data) > limit:
        raise ValidationError(
            _("%(name)s is larger than %(max)d MB.") % {"name": name, "max": limit // 1_048_576}
        )
    if not data:
        raise ValidationError(_("%(name)s is empty.") % {"name": name})
    return data


def _check_pixels(img: Image.Image, name: str) -> None:
    """Refuse a picture with more pixels than MAX_PIXELS, before it is decoded."""
    if img.width * img.height > MAX_PIXELS:
        raise ValidationError(
            _(
                "%(name)s is %(w)d×%(h)d pixels (%(mp).0f megapixels); photos can be "
                "at most %(max)d megapixels. Please send a smaller copy."
            )
            % {
                "name": name,
                "w": img.width,
                "h": img.height,
                "mp": img.width * img.height / 1e6,
                "max": MAX_PIXELS // 1_000_000,
            }
        )


def prepare_photo(upload) -> PreparedPhoto:
    """Validate and clean one uploaded file. Raises ValidationError naming the file."""
    name = getattr(upload, "name", None) or "photo"
    data = _read_upload(upload, name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            if img.format not in ALLOWED_FORMATS:
                raise ValidationError(
                    _("%(name)s is a %(fmt)s file; please send a %(formats)s photo.")
                    % {
                        "name": name,
                        "fmt": img.format or _("unknown"),
                        "formats": _formats_we_take(),
                    }
                )
            _check_pixels(img, name)
            # A JPEG can be decoded at 1/2, 1/4 or 1/8 scale for that much less time and memory;
            # draft() picks the smallest scale whose longer side is still at least MAX_EDGE.
            scale = min(1.0, MAX_EDGE / max(img.width, img.height))
            img.draft("RGB", (math.ceil(img.width * scale), math.ceil(img.height * scale)))
            img.load()
            img = _shrink(img)
            img = ImageOps.exif_transpose(img)
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(
            _("%(name)s is too large to be a photo (it may be a decompression bomb).")
            % {"name": name}
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _unreadable(name, data) from None

    if img.mode not in ("RGB", "L"):
        background = Image.new("RGB", img.size, "white")
        rgba = img.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        img = background
    elif img.mode == "L":
        img = img.convert("RGB")
    img.thumbnail((MAX_EDGE, MAX_EDGE), Image.Resampling.LANCZOS)
    clean = Image.new("RGB", img.size)
    clean.paste(img)
    thumb = clean.copy()
    thumb.thumbnail((THUMB_EDGE, THUMB_EDGE), Image.Resampling.LANCZOS)
    return PreparedPhoto(
        name=name,
        image=_encode(clean),
        thumbnail=_encode(thumb),
        width=clean.width,
        height=clean.height,
    )


def photo_slots(already: int = 0) -> int:
    """How many more photos a report holding `already` may take: the one place that knows a
    report carries at most settings.PHOTO_MAX_PER_ISSUE, whichever door they come through."""
    return max(0, settings.PHOTO_MAX_PER_ISSUE - already)


def prepare_photos(uploads, *, already: int = 0) -> list[PreparedPhoto]:
    """Prepare several files for a report that holds `already` photos; every bad file is
    reported, not only the first."""
    uploads = [u for u in uploads if u]
    if len(uploads) > photo_slots(already):
        raise ValidationError(
            _("At most %(n)d photos per report.") % {"n": settings.PHOTO_MAX_PER_ISSUE}
        )
    prepared, errors = [], []
    for upload in uploads:
        try:
            prepared.append(prepare_photo(upload))
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    return prepared


class PhotoNotStored(Exception):
    """The photo store refused a file (an unwritable or full folder, an object store down):
    nothing about the photo is wrong, and the same report may go through a little later."""

    # Seconds to suggest before trying again (a 503's Retry-After): someone has to free the
    # disk or fix the folder, which takes minutes rather than seconds.
    retry_after = 300


def store_photo(*, issue, prepared: PreparedPhoto, uploaded_by=None) -> Photo:
    """Write the files and the row. Raises PhotoNotStored, leaving no file behind, when the
    store refuses them; the caller's transaction then takes the report back."""
    photo = Photo(issue=issue, uploaded_by=uploaded_by, size=len(prepared.image))
    attach_files(photo, prepared)
    photo.save()
    return photo


def attach_files(record, prepared: PreparedPhoto) -> None:
    """Store a prepared photo's files on a record with `image`, `thumbnail`, `width` and
    `height` (an issue's photo, an adopter's visit); the caller saves the record. Raises
    PhotoNotStored, leaving no file behind, when the store refuses them."""
    try:
        record.image.save("photo.jpg", ContentFile(prepared.image), save=False)
        record.thumbnail.save("thumb.jpg", ContentFile(prepared.thumbnail), save=False)
    except OSError as exc:
        for stored in (record.image, record.thumbnail):
            if stored.name:
                with contextlib.suppress(OSError):
                    stored.storage.delete(stored.name)
        log.error("Photo store refused a file: %s", exc)
        raise PhotoNotStored(str(exc)) from exc
    # ImageField's own dimension update reads None here (the saved file is not re-read), and
    # the columns are NOT NULL; the pipeline already knows the size.
    record.width, record.height = prepared.width, prepared.height


def private_storage() -> FileSystemStorage:
    """Where unredacted originals are kept after a redaction (issue 20): outside MEDIA_ROOT, so
    no URL reaches them; staff read them through the workbench."""
    return FileSystemStorage(location=settings.PRIVATE_MEDIA_ROOT)


def redact_image(data: bytes, boxes) -> PreparedPhoto:
    """The stored photo with each box (x, y, width, height in its pixels) filled black,
    re-encoded from pixels only (so still without EXIF), with a new thumbnail."""
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise ValidationError(_("The stored photo could not be read.")) from exc
    img = img.convert("RGB")
    if not boxes:
        raise ValidationError({"boxes": _("Draw at least one box.")})
    draw = ImageDraw.Draw(img)
    for box in boxes:
        try:
            x, y, w, h = (int(v) for v in box)
        except (TypeError, ValueError):
            raise ValidationError({"boxes": _("A box is four whole numbers.")}) from None
        if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > img.width or y + h > img.height:
            raise ValidationError(
                {
                    "boxes": _("Box %(b)s is not inside the %(w)d×%(h)d photo.")
                    % {"b": f"{x},{y},{w},{h}", "w": img.width, "h": img.height}
                }
            )
        draw.rectangle((x, y, x + w - 1, y + h - 1), fill=(0, 0, 0))
    thumb = img.copy()
    thumb.thumbnail((THUMB_EDGE, THUMB_EDGE), Image.Resampling.LANCZOS)
    return PreparedPhoto(
        name="redacted",
        image=_encode(img),
        thumbnail=_encode(thumb),
        width=img.width,
        height=img.height,
    )
