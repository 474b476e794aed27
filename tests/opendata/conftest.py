"""The same small city as the API tests: public issues, one with private data, one hidden."""

from tests.browser.conftest import browser, page  # noqa: F401  (browser tests here)
from tests.open311.conftest import *  # noqa: F403
from tests.open311.conftest import _fast_password_hashing  # noqa: F401  (autouse)
