"""The report form on a phone (issue 17): iPhone photos (HEIC) taken and stored as JPEG without
their metadata, or refused by name where the converter is missing; the page's order (locate above
the map, "Is this it?" right under the type) and what its scripts need."""

import io
import re

import pytest
from django.urls import reverse
from PIL import Image

from issues import photos
from issues.models import Issue, Photo
from tests.pages.conftest import report_data, upload

URL = reverse("issues:report")

pillow_heif = pytest.importorskip("pillow_heif")


def heic_bytes(size=(160, 120), with_gps=True) -> bytes:
    """A real HEIC picture, encoded by pillow-heif (as an iPhone's camera would), with GPS."""
    image = Image.new("RGB", size, "orange")
    exif = Image.Exif()
    if with_gps:
        exif[0x010F] = "Apple"
        gps = exif.get_ifd(0x8825)
        gps[1], gps[2], gps[3], gps[4] = "N", (41.0, 52.0, 59.0), "W", (87.0, 37.0, 55.0)
    heif = pillow_heif.from_pillow(image)
    out = io.BytesIO()
    heif.save(out, quality=60, exif=exif.tobytes())
    data = out.getvalue()
    assert data[4:12] == b"ftypheic"  # the real thing, not a JPEG renamed
    return data


def test_an_iphone_heic_photo_is_taken_and_stored_as_a_jpeg_without_gps(
    client, pothole, chicago_wards
):
    original = heic_bytes()
    response = client.post(
        URL, report_data(pothole, photos=[upload("IMG_0001.HEIC", original, "image/heic")])
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    photo = Photo.objects.get(issue=Issue.objects.get())
    for stored in (photo.image, photo.thumbnail):
        with stored.open("rb") as fh:
            img = Image.open(io.BytesIO(fh.read()))
            assert img.format == "JPEG"
            assert len(img.getexif()) == 0 and "exif" not in img.info
    assert (photo.width, photo.height) == (160, 120)


def test_where_the_converter_is_missing_heic_is_refused_by_name(
    client, pothole, chicago_wards, monkeypatch
):
    # What an install without pillow-heif does: the format named, nothing typed lost, nothing stored.
    monkeypatch.setattr(photos, "ALLOWED_FORMATS", photos.ALLOWED_FORMATS - {"HEIF", "HEIC"})
    monkeypatch.setattr(photos, "HEIC_ACCEPTED", False)
    response = client.post(
        URL, report_data(pothole, photos=[upload("IMG_0002.HEIC", heic_bytes(), "image/heic")])
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "IMG_0002.HEIC is a HEIF file; please send a JPEG, PNG or WebP photo." in html
    assert "A deep pothole by the bus stop" in html
    assert not Issue.objects.exists()
    # And where Pillow cannot even open it, the refusal still says what it is and what to do.
    refusal = photos._unreadable("IMG_0003.HEIC", heic_bytes())
    assert "iPhone (HEIC) photo" in refusal.messages[0]
    assert "Most Compatible" in refusal.messages[0]


def test_the_photo_input_says_what_it_takes(client, pothole):
    html = client.get(URL).content.decode()
    [photo_input] = re.findall(r'<input[^>]*name="photos"[^>]*>', html)
    assert "image/heic" in photo_input and ".heic" in photo_input
    assert 'data-heic="1"' in photo_input and 'data-max-bytes="' in photo_input
    assert "iPhone (HEIC)" in html
    assert 'id="photo-preview"' in html and "js/report-photos.js" in html


def test_the_phone_order_locate_above_the_map_and_is_this_it_under_the_type(client, pothole):
    html = client.get(URL).content.decode()
    assert html.index('id="locate"') < html.index('id="report-map"')
    assert html.index('id="id_service_code"') < html.index('id="nearby-live"')
    assert html.index('id="nearby-live"') < html.index('id="questions"')
    # Messages for a refused or failed location, not the browser's technical wording.
    assert "data-denied=" in html and "data-unavailable=" in html
    # The report map draws the reports already there from the home map's endpoint.
    assert reverse("issues:viewport") in html
