"""Render a local HTML file in headless Debian Chromium for tests (not a test module).

Playwright's own browser download does not work offline, so this drives the system
Chromium that ``scripts/setup-browser.sh`` installs (``make test`` runs it first).
Every request that is not ``file:`` or ``data:`` is recorded and aborted, so a page
that needs the network shows up in ``external_requests`` without any network being used.

Typical use::

    from tests.browser import render_page

    shot = render_page(report, tmp_path / "report.png", selectors=["svg", "table"])
    assert shot.console_errors == [] and shot.external_requests == []
    assert "diagnosis" in shot.section_ids and shot.counts["svg"] > 0

When Chromium (or the ``playwright`` package) is missing the calling test is skipped,
unless ``MLEXPERT_REQUIRE_BROWSER=1`` is set (``make test`` sets it), in which case it fails.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# The real binary first: /usr/bin/chromium is Debian's shell wrapper, which adds flags
# of its own (GPU rasterization, ...) and can print shell errors on some machines.
CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
# Headless and offline: nothing may try to reach Google hosts during a test.
ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
MISSING = "Chromium not installed: run bash scripts/setup-browser.sh"
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")


def chromium_path() -> str | None:
    """Return the path of the system Chromium executable, or None when absent."""
    for path in CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("chromium")


def require_chromium() -> str:
    """Return the Chromium path; skip the calling test when it (or playwright) is missing.

    With ``MLEXPERT_REQUIRE_BROWSER=1`` in the environment the test fails instead,
    so that CI cannot pass by silently skipping the browser tests.
    """
    path = chromium_path()
    problem = None if path else MISSING
    if problem is None and importlib.util.find_spec("playwright") is None:
        problem = "playwright not installed: run pip install -e '.[test]'"
    if problem is None:
        return path  # type: ignore[return-value]
    if os.environ.get("MLEXPERT_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{problem} (required because MLEXPERT_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(problem)


@dataclass
class Watch:
    """What the page did while open: an open Playwright ``page`` plus its problems.

    ``console_errors`` holds console messages of type error and uncaught exceptions
    (the latter prefixed ``"uncaught: "``); ``external_requests`` holds the URLs of all
    requests that were not ``file:``/``data:`` (each was aborted).
    """

    page: Any
    console_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)


@dataclass
class Rendered:
    """The outcome of :func:`render_page`.

    Attributes
    ----------
    title : document title.
    text : ``document.body.innerText`` (what a reader sees, hidden elements excluded).
    section_ids : ids of all ``<section>`` elements in document order ("" when none).
    counts : number of elements matching each selector passed to ``render_page``.
    console_errors, external_requests : as in :class:`Watch`.
    screenshot : path of the full-page PNG.
    """

    title: str
    text: str
    section_ids: list[str]
    counts: dict[str, int]
    console_errors: list[str]
    external_requests: list[str]
    screenshot: Path


@contextmanager
def open_page(html_path: str | Path, *, width: int = 1280, height: int = 800) -> Iterator[Watch]:
    """Open ``html_path`` in headless Chromium, wait for load, and yield a :class:`Watch`.

    Use this for interaction (clicks, ``page.evaluate``); the browser closes on exit.
    Playwright gives each launch a fresh, empty user data directory.
    """
    with open_url(Path(html_path).resolve().as_uri(), width=width, height=height) as watch:
        yield watch


@contextmanager
def open_url(url: str, *, allow: tuple[str, ...] = (), width: int = 1280,
             height: int = 800) -> Iterator[Watch]:
    """Like :func:`open_page` for a URL: requests to origins in ``allow`` (e.g. a test
    server on ``http://127.0.0.1:PORT``) go through; any other non-local request is
    recorded and aborted."""
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    def external(target: str) -> bool:
        return _is_external(target) and not target.startswith(allow or ("\0",))

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=list(ARGS))
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            watch = Watch(page)
            page.on("console", lambda m: m.type == "error" and watch.console_errors.append(m.text))
            page.on("pageerror", lambda e: watch.console_errors.append(f"uncaught: {e}"))
            page.on("request", lambda r: external(r.url) and watch.external_requests.append(r.url))
            page.route(external, lambda route: route.abort())
            page.goto(url, wait_until="load")
            # One animation frame, so scripts that draw on load have drawn.
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
            yield watch
        finally:
            browser.close()


def render_page(
    html_path: str | Path,
    screenshot_path: str | Path,
    *,
    width: int = 1280,
    selectors: Iterable[str] = (),
) -> Rendered:
    """Render ``html_path``, save a full-page PNG screenshot, and report what happened.

    Parameters
    ----------
    html_path : the HTML file, opened as a ``file://`` URL.
    screenshot_path : where to write the PNG (parent folders are created).
    width : viewport width in CSS pixels; the screenshot covers the full page height.
    selectors : CSS selectors to count, e.g. ``["svg", "section#diagnosis table"]``.
    """
    shot = Path(screenshot_path)
    shot.parent.mkdir(parents=True, exist_ok=True)
    with open_page(html_path, width=width) as watch:
        page = watch.page
        facts = page.evaluate(
            """sels => ({
                title: document.title,
                text: document.body ? document.body.innerText : "",
                sections: [...document.querySelectorAll("section")].map(s => s.id),
                counts: Object.fromEntries(sels.map(s => [s, document.querySelectorAll(s).length])),
            })""",
            list(selectors),
        )
        page.screenshot(path=str(shot), full_page=True)
        return Rendered(
            title=facts["title"],
            text=facts["text"],
            section_ids=facts["sections"],
            counts=facts["counts"],
            console_errors=list(watch.console_errors),
            external_requests=list(watch.external_requests),
            screenshot=shot,
        )


def _is_external(url: str) -> bool:
    return not url.startswith(LOCAL_SCHEMES)
