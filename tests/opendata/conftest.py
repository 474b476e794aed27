"""The same small city as the API tests: public issues, one with private data, one hidden."""

from tests.open311.conftest import *  # noqa: F403
