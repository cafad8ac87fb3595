"""The headless-Chromium helper catches what a report test relies on it to catch."""

from __future__ import annotations

import pytest
from PIL import Image

from tests import browser
from tests.browser import render_page

CLEAN = """<!doctype html>
<html><head><meta charset="utf-8"><title>Clean page</title>
<style>body { font-family: sans-serif; } section { margin: 2em; }</style></head>
<body>
<section id="summary"><h2>Summary</h2><p>The model is fine.</p></section>
<section id="chart"><h2>Chart</h2>
<svg width="300" height="120" viewBox="0 0 300 120" role="img">
  <rect x="10" y="20" width="80" height="90" fill="steelblue"/>
  <rect x="110" y="50" width="80" height="60" fill="darkorange"/>
  <text x="10" y="15">bars</text>
</svg></section>
</body></html>
"""

BROKEN = """<!doctype html>
<html><head><meta charset="utf-8"><title>Broken page</title></head>
<body><p>Hello</p>
<img src="http://example.invalid/x.png" alt="remote">
<script>console.error('boom'); undefinedFunction();</script>
</body></html>
"""


def test_clean_page_renders_without_problems(tmp_path):
    page = tmp_path / "clean.html"
    page.write_text(CLEAN)
    selectors = ["svg", "svg rect", "table"]
    shot = render_page(page, tmp_path / "shots" / "clean.png", selectors=selectors)

    assert shot.console_errors == []
    assert shot.external_requests == []
    assert shot.title == "Clean page"
    assert shot.section_ids == ["summary", "chart"]
    assert shot.counts == {"svg": 1, "svg rect": 2, "table": 0}
    assert "The model is fine." in shot.text
    assert shot.screenshot.stat().st_size > 5_000
    with Image.open(shot.screenshot) as image:
        assert image.format == "PNG" and image.width == 1280
        colours = dict((c, n) for n, c in image.convert("RGB").getcolors(1 << 16))
    # The SVG bars were painted: 80x90 steelblue and 80x60 darkorange CSS pixels.
    assert colours.get((70, 130, 180), 0) >= 80 * 90
    assert colours.get((255, 140, 0), 0) >= 80 * 60


def test_broken_page_reports_console_error_uncaught_exception_and_network(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text(BROKEN)
    shot = render_page(page, tmp_path / "broken.png", width=800)

    assert "boom" in shot.console_errors
    assert any(e.startswith("uncaught:") and "undefinedFunction" in e for e in shot.console_errors)
    assert shot.external_requests == ["http://example.invalid/x.png"]
    assert shot.section_ids == []
    assert shot.screenshot.exists()


@pytest.mark.parametrize(
    "required, outcome", [(None, pytest.skip.Exception), ("1", pytest.fail.Exception)]
)
def test_missing_chromium_skips_unless_required(monkeypatch, tmp_path, required, outcome):
    monkeypatch.setattr(browser, "CANDIDATES", ())
    monkeypatch.setenv("PATH", str(tmp_path))
    if required is None:
        monkeypatch.delenv("MLEXPERT_REQUIRE_BROWSER", raising=False)
    else:
        monkeypatch.setenv("MLEXPERT_REQUIRE_BROWSER", required)

    assert browser.chromium_path() is None
    with pytest.raises(outcome, match="Chromium not installed: run bash scripts/setup-browser.sh"):
        render_page(tmp_path / "never.html", tmp_path / "never.png")
