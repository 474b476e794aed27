"""Pixel bombs: a small file that decodes to a huge picture is refused before it is decoded, and
what is accepted is decoded at bounded cost (docs/security.md, "Photos")."""

import io
import time

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from issues import photos
from issues.models import Issue
from tests.pages.conftest import png_of_size, report_data, upload
from tests.pages.test_report import URL

pytestmark = pytest.mark.django_db


def test_a_small_png_that_decodes_to_49_megapixels_is_refused_with_a_clear_400(
    client, pothole, chicago_wards
):
    bomb = png_of_size(7000, 7000)
    assert len(bomb) < 200_000  # the outside test's file was 143 KB
    started = time.monotonic()
    response = client.post(URL, report_data(pothole, photos=[upload("big.png", bomb, "image/png")]))
    elapsed = time.monotonic() - started
    html = response.content.decode()
    assert response.status_code == 400
    assert "big.png is 7000×7000 pixels (49 megapixels)" in html
    assert "at most 40 megapixels" in html
    assert not Issue.objects.exists()
    assert elapsed < 5  # refused from the header: nothing was decoded


def test_five_bombs_in_one_request_are_all_named_and_none_decoded(client, pothole, chicago_wards):
    bomb = png_of_size(7000, 7000)
    files = [upload(f"b{n}.png", bomb, "image/png") for n in range(5)]
    response = client.post(URL, report_data(pothole, photos=files))
    html = response.content.decode()
    assert response.status_code == 400
    assert all(f"b{n}.png is 7000×7000" in html for n in range(5))


def test_a_picture_just_under_the_cap_is_accepted_and_shrunk():
    data = png_of_size(6400, 6000)  # 38.4 MP
    prepared = photos.prepare_photo(upload("wide.png", data, "image/png"))
    assert (prepared.width, prepared.height) == (2048, 1920)
    assert Image.open(io.BytesIO(prepared.image)).format == "JPEG"


def test_a_large_jpeg_is_decoded_at_reduced_scale():
    out = io.BytesIO()
    Image.new("RGB", (4400, 3300), "navy").save(out, format="JPEG", quality=50)
    img = Image.open(io.BytesIO(out.getvalue()))
    img.draft("RGB", (2048, 1536))
    assert img.size == (2200, 1650)  # what the pipeline decodes: a quarter of the pixels
    prepared = photos.prepare_photo(upload("big.jpg", out.getvalue()))
    assert (prepared.width, prepared.height) == (2048, 1536)


def test_a_palette_png_over_the_reduce_threshold_is_converted_and_shrunk():
    out = io.BytesIO()
    Image.new("P", (4200, 4200), 3).save(out, format="PNG")
    prepared = photos.prepare_photo(upload("palette.png", out.getvalue(), "image/png"))
    assert (prepared.width, prepared.height) == (2048, 2048)


def test_the_cap_is_well_below_pillows_own_bomb_limit():
    assert photos.MAX_PIXELS * 2 <= Image.MAX_IMAGE_PIXELS
    with pytest.raises(ValidationError):
        photos.prepare_photo(upload("x.png", png_of_size(8000, 5001), "image/png"))
