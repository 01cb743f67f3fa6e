"""The login page in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver``, driven by Selenium) opens it from a real server, it renders in the
organization's language, a wrong password shows the localized error, and the right one lands on
the client's redirect URI with a code. CI installs the browser (.ci/run); without it this fails."""

from __future__ import annotations

import http.server
import shutil
import threading
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from testing.servers import free_port, installed
from tests.oidc_flows import PASSWORD, cli_params, make_tenant, pkce_pair

pytestmark = [pytest.mark.servers, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def chromium():
    # Installed with apt-get on a fresh machine, as the test set-up does for redis-server.
    driver_path = installed("chromedriver", "chromium", "chromium-driver")
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    assert binary, "chromium-driver came without Debian's chromium"
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


class _Landing(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<title>landed</title>")

    def log_message(self, *args):
        return None


@pytest.fixture
def loopback_client():
    """The native client's loopback listener (RFC 8252): its redirect URI."""
    port = free_port()
    listener = http.server.HTTPServer(("127.0.0.1", port), _Landing)
    thread = threading.Thread(target=listener.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/callback"
    listener.shutdown()
    listener.server_close()


def test_the_login_page_renders_submits_and_shows_a_localized_error_in_chromium(
    porta_server, initialized, chromium, loopback_client
):
    tenant = make_tenant("berlin", locale="de", branding_primary_color="#aa3300")
    server = porta_server()
    _, challenge = pkce_pair()
    params = cli_params(tenant, challenge, redirect_uri=loopback_client)
    chromium.get(f"{server.base_url}/berlin/auth/authorize?{urlencode(params)}")

    assert chromium.find_element(By.TAG_NAME, "h1").text == "Bei Berlin anmelden"
    assert chromium.find_element(By.TAG_NAME, "html").get_attribute("lang") == "de"
    chromium.find_element(By.ID, "email").send_keys(tenant.user.email)
    chromium.find_element(By.ID, "password").send_keys("not-the-password")
    chromium.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    error = WebDriverWait(chromium, 15).until(lambda d: d.find_element(By.ID, "login-error"))
    assert error.text == "E-Mail oder Passwort ist falsch."

    chromium.find_element(By.ID, "password").send_keys(PASSWORD)  # the e-mail is kept
    chromium.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(chromium, 15).until(lambda d: d.current_url.startswith(loopback_client))
    query = parse_qs(urlsplit(chromium.current_url).query)
    assert query["code"][0]
    assert query["state"] == ["st-1"]
