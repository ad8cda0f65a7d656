"""Playwright driving Debian's chromium, headless, against the live test server.

Screenshots of each step go to test-artefacts/ (ignored by git, kept by CI logs)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts"
CHROMIUM = os.environ.get("BAMARA_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"chromium is required in CI and was not found at {CHROMIUM}")
        pytest.skip("chromium absent: `make test` installs it with apt-get when run as root")
    # The sync API runs an event loop in this thread; the test's own ORM calls are still
    # synchronous, which Django would otherwise refuse.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    contexts = []

    def make(name: str):
        context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.artefact_prefix = name
        return page

    yield make
    for context in contexts:
        context.close()


class Shots:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        folder.mkdir(parents=True, exist_ok=True)

    def __call__(self, page, step: str) -> None:
        self.count += 1
        page.screenshot(path=str(self.folder / f"{self.count:02d}-{step}.png"), full_page=True)


@pytest.fixture
def shots(request):
    return Shots(ARTEFACTS / request.node.name)


BROWSER_PASSWORD = "Un mot de passe tres solide 2026"


@pytest.fixture
def log_in():
    """``log_in(page, base, user)``: through the login page, the user's password set first, and
    the TOTP second factor when the user's role asks for one (the device the page set up)."""
    import re

    def go(page, base: str, user) -> None:
        user.set_password(BROWSER_PASSWORD)
        user.save()
        page.goto(f"{base}/connexion/")
        page.fill("#id_username", user.email)
        page.fill("#id_password", BROWSER_PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_url(re.compile("/tableau-de-bord/|/compte/2fa/"))
        if "/compte/2fa/" in page.url:
            from django_otp.oath import totp
            from django_otp.plugins.otp_totp.models import TOTPDevice

            device = TOTPDevice.objects.get(user=user)
            page.fill("#id_token", f"{totp(device.bin_key):06d}")
            page.get_by_role("button", name="Activer").click()
            page.wait_for_url(re.compile("/tableau-de-bord/"))

    return go
