import pytest

from issues import pagecache


@pytest.fixture(autouse=True)
def _one_minute(monkeypatch):
    """Keys change every minute; a test that crossed one would see a miss where it expects a hit."""
    monkeypatch.setattr(pagecache, "_minute", lambda: 29_000_000)
