"""Open one dashboard page through app.py the way a share link does, for the AppTest page tests."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def open_page(page: str | None, query: dict, timeout: float = 90, session: dict | None = None) -> AppTest:
    """Run app.py with `query` in the URL on `page` (None: the default page), `session` preset."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    for key, value in (session or {}).items():
        at.session_state[key] = value
    if page is None:
        at.query_params.update(query)
        return at.run()
    at.run()  # the default page first: switch_page needs the navigation registry
    at.query_params.clear()
    at.query_params.update(query)
    at.switch_page(page)
    return at.run()
