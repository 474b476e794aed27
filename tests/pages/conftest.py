"""Fixtures for the residents' pages: a service type with questions, real images made by Pillow."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.factories import CITY_HALL, make_attribute, make_service_type

SIZES = [
    {"key": "small", "name": "Smaller than a plate"},
    {"key": "large", "name": "Larger than a tyre"},
]


@pytest.fixture
def pothole(department):
    service_type = make_service_type(
        department, code="pothole", name="Pothole in Street", group="Streets & Sidewalks"
    )
    make_attribute(
        service_type,
        "SIZE",
        "singlevaluelist",
        description="About how big is it?",
        required=True,
        values=SIZES,
    )
    make_attribute(service_type, "DEPTH", "number", description="Depth in cm?")
    return service_type


@pytest.fixture
def graffiti(department):
    return make_service_type(
        department, code="graffiti", name="Graffiti Removal", group="Sanitation"
    )


def jpeg_bytes(size=(120, 80), color="red", exif=None) -> bytes:
    out = io.BytesIO()
    img = Image.new("RGB", size, color)
    if exif is not None:
        img.save(out, format="JPEG", exif=exif)
    else:
        img.save(out, format="JPEG")
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (41.0, 52.0, 59.0)
    gps[3] = "W"
    gps[4] = (87.0, 37.0, 55.0)
    return jpeg_bytes(exif=exif)


def png_bomb() -> bytes:
    """A few hundred bytes of PNG that claims to be 100000 x 100000 pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1000)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def upload(name: str, data: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def report_data(service_type, point=CITY_HALL, **extra) -> dict:
    data = {
        "service_code": service_type.service_code,
        "latitude": str(point[0]) if point else "",
        "longitude": str(point[1]) if point else "",
        "address": "121 N LaSalle St",
        "description": "A deep pothole by the bus stop",
        "name": "Pat Reporter",
        "email": "pat@example.net",
        "phone": "312-555-0100",
        "attribute[SIZE]": "large",
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def png_of_size(width: int, height: int) -> bytes:
    """A real grayscale PNG of width x height black pixels, every row present: a few tens of KB
    that decode to width x height bytes (the pixel bomb of docs/security.md, made in the test)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    packer = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte + one byte a pixel
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
