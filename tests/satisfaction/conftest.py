"""The browser tests' fixtures, for the satisfaction tests that drive a real browser."""

from tests.browser.conftest import chromium_browser, new_browser_page  # noqa: F401
from tests.browser.test_csp import watched_page  # noqa: F401
