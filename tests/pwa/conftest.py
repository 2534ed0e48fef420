import pytest

from tests.fixtures import wait_offline_ready


@pytest.fixture
def offline_page(live_server, phone):
    """A phone page that visited once, installed the app, then lost the server and the network."""
    page = phone.new_page()
    page.goto(live_server.url + "/zh")
    wait_offline_ready(page)
    live_server.stop()
    phone.set_offline(True)
    return page
