"""The page cache's gzip copies (issues/pagecache.py, docs/caching.md "Compression"): made by
GZipMiddleware's own rules once, the copy a miss's client takes when the page is stored and the
other one when its first reader asks, sent on the miss as on every hit, kept once when the
middleware would leave the page alone, and a 304 varies as its 200 does."""

import gzip

import pytest
from django.core.cache import cache
from django.urls import reverse

from issues import pagecache

pytestmark = pytest.mark.django_db

# No service type in the database: "[]", which GZipMiddleware leaves alone (under 200 bytes).
SHORT_PAGE = "/open311/v2/services.json"


def _vary(response) -> list[str]:
    return [v.strip() for v in response["Vary"].split(",")]


def _stored(response) -> set[str]:
    """Which copies the cache holds for the page this response answered."""
    key = pagecache._key(response.wsgi_request)
    names = [pagecache.ONE, pagecache.PLAIN, pagecache.GZIPPED]
    return {name for name in names if cache.get(key + name) is not None}


@pytest.mark.parametrize("encoding", ["gzip, deflate, br", "identity"])
@pytest.mark.parametrize("url", [reverse("wards:index"), SHORT_PAGE])
def test_a_304_varies_as_its_200_does(client, url, encoding):
    """A shared cache in front keys on the Vary of whichever answer it saw: a 304 that names
    fewer headers than the 200 it revalidates would let it hand one client's copy to another."""
    page = client.get(url, HTTP_ACCEPT_ENCODING=encoding)
    hit = client.get(url, HTTP_ACCEPT_ENCODING=encoding)
    again = client.get(url, HTTP_ACCEPT_ENCODING=encoding, HTTP_IF_NONE_MATCH=page["ETag"])
    assert (hit["X-Page-Cache"], again.status_code) == ("hit", 304)
    assert _vary(again) == _vary(hit) == _vary(page)
    assert again["Cache-Control"] == page["Cache-Control"]


def test_a_miss_sends_the_compressed_copy_it_stored(client):
    """Compressed once: GZipMiddleware's random padding makes every compression of a page
    differ, so a miss compressed again on its way out would not match the hits that follow."""
    url = reverse("wards:index")
    miss = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    hit = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert (miss["X-Page-Cache"], hit["X-Page-Cache"]) == ("miss", "hit")
    assert miss["Content-Encoding"] == hit["Content-Encoding"] == "gzip"
    assert miss.content == hit.content
    assert {k: v for k, v in miss.items() if k != "X-Page-Cache"} == {
        k: v for k, v in hit.items() if k != "X-Page-Cache"
    }
    plain = client.get(url, HTTP_ACCEPT_ENCODING="identity")
    assert plain["X-Page-Cache"] == "hit" and gzip.decompress(miss.content) == plain.content


@pytest.mark.parametrize(
    ("first", "then", "kept"),
    [("identity", "gzip", pagecache.PLAIN), ("gzip, deflate, br", "identity", pagecache.GZIPPED)],
)
def test_a_page_is_kept_as_its_first_reader_took_it_and_the_other_copy_made_when_asked(
    client, first, then, kept
):
    """A miss stores only the copy its client takes (a plain reader's miss compresses nothing);
    the other client's copy is made from it by its first reader, a hit, as a miss would send it."""
    url = reverse("wards:index")
    page = client.get(url, HTTP_ACCEPT_ENCODING=first)
    assert page["X-Page-Cache"] == "miss" and _stored(page) == {kept}
    other = client.get(url, HTTP_ACCEPT_ENCODING=then)
    assert other["X-Page-Cache"] == "hit"
    assert _stored(page) == {pagecache.PLAIN, pagecache.GZIPPED}
    packed, plain = (other, page) if then == "gzip" else (page, other)
    assert packed["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain
    assert gzip.decompress(packed.content) == plain.content
    assert int(plain["Content-Length"]) == len(plain.content) > int(packed["Content-Length"])
    same = ("Content-Encoding", "Content-Length", "X-Page-Cache")
    assert {k: v for k, v in plain.items() if k not in same} == {
        k: v for k, v in packed.items() if k not in same
    }
    assert client.get(url, HTTP_ACCEPT_ENCODING=then).content == other.content


def test_the_other_clients_copy_is_made_only_from_the_current_version(client):
    url = reverse("wards:index")
    client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    pagecache.bump(pagecache.GLOBAL)
    assert client.get(url, HTTP_ACCEPT_ENCODING="identity")["X-Page-Cache"] == "miss"


@pytest.mark.parametrize(("first", "then"), [("gzip", "identity"), ("identity", "gzip")])
def test_a_304_for_the_other_kind_of_client_varies_as_the_page_does(client, first, then):
    url = reverse("wards:index")
    page = client.get(url, HTTP_ACCEPT_ENCODING=first)
    again = client.get(url, HTTP_ACCEPT_ENCODING=then, HTTP_IF_NONE_MATCH=page["ETag"])
    assert again.status_code == 304
    assert _vary(again) == _vary(page) and "Accept-Encoding" in _vary(page)


def test_a_page_the_middleware_leaves_alone_is_kept_once_for_every_client(client):
    plain = client.get(SHORT_PAGE, HTTP_ACCEPT_ENCODING="identity")
    assert (plain["X-Page-Cache"], plain.content) == ("miss", b"[]")
    assert _stored(plain) == {pagecache.ONE}
    packed = client.get(SHORT_PAGE, HTTP_ACCEPT_ENCODING="gzip")
    assert (packed["X-Page-Cache"], packed.content) == ("hit", b"[]")
    assert "Content-Encoding" not in packed and "Accept-Encoding" not in _vary(packed)
