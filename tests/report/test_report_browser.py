"""The HTML report in a real browser: headless Chromium opens the page from disk, with no network.

The DOM after load has the counts and every record with an error, the page's own script ran (the filters
show) and nothing from the data did; a screenshot renders. Skipped when ``chromium`` is not installed,
unless ``CGFORMAT_BROWSER_TESTS=1`` (set by .ci/run, which installs it): then its absence fails them.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from cgformat.cli import main

from ._export import write_export
from ._page import read_page

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRED = os.environ.get("CGFORMAT_BROWSER_TESTS") == "1"
pytestmark = pytest.mark.skipif(CHROMIUM is None and not REQUIRED, reason="chromium is not installed")

PWNED = "PWNED"
"""Every hostile value in these tests writes this into the page's title if it runs."""


def _chromium(*args: str) -> str:
    assert CHROMIUM is not None, "CGFORMAT_BROWSER_TESTS=1 but chromium is not installed"
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-extensions", "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={profile}",
             *args], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _dom(page: Path) -> str:
    return _chromium("--dump-dom", "--virtual-time-budget=2000", page.as_uri())


@pytest.fixture(scope="module")
def export_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    """A 20,000-record export with about a hundred bad records of many kinds, its page and JSON report."""
    root = tmp_path_factory.mktemp("browser")
    src = root / "export.csv"
    write_export(src)
    page = root / "report.html"
    result = CliRunner().invoke(main, ["validate", str(src), "--type", "transactional", "--json",
                                       "--html", str(page)])
    assert result.exit_code == 1
    doc: dict[str, object] = json.loads(result.stdout)
    return page, doc


def test_the_dom_has_the_counts_and_every_record_with_an_error(export_page: tuple[Path, dict[str, object]]) -> None:
    page, doc = export_page
    dom = read_page(_dom(page))
    counts = doc["counts"]
    assert isinstance(counts, dict)
    shown = {r.cells[0]: int(r.cells[3]) for r in dom.tables["code-counts"]}
    assert shown == {code: v["count"] for code, v in counts["by_code"].items()}
    issues = doc["issues"]
    assert isinstance(issues, list)
    assert doc["truncated"] is False
    assert len(dom.tables["issues"]) == len(issues) == counts["errors"] + counts["warnings"]
    bad = {i["record"] for i in issues if i["record"] is not None and i["severity"] == "error"}
    assert len(bad) > 80
    assert bad <= {int(r.cells[0]) for r in dom.tables["records"]}
    assert not dom.title.count(PWNED)
    form = next(a for t, a in dom.tags if t == "form")
    assert "hidden" not in form                                   # the page's own script ran
    assert any(t == "output" for t, _ in dom.tags)


def test_the_filters_work_in_the_browser(export_page: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    page, doc = export_page
    # the same page with its filter preset by a check script (run by file: URL, outside the page's policy)
    text = page.read_text(encoding="utf-8")
    probe = tmp_path / "probe.html"
    probe.write_text(text.replace('<option value="invalid-phone">', '<option value="invalid-phone" selected>'),
                     encoding="utf-8")
    dom = read_page(_dom(probe))
    visible = [r for r in dom.tables["issues"] if "hidden" not in r.attrs]
    issues = doc["issues"]
    assert isinstance(issues, list)
    assert len(visible) == sum(1 for i in issues if i["code"] == "invalid-phone") > 0
    assert {r.attrs["data-c"] for r in visible} == {"invalid-phone"}


def test_hostile_values_stay_inert_and_the_policy_blocks_injected_markup(
        export_page: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    page, _ = export_page
    text = page.read_text(encoding="utf-8")
    dom = _dom(page)
    assert "PWNED-SCRIPT" in dom
    assert "PWNED-IMG" in dom
    assert PWNED not in read_page(dom).title
    injected = (f"<script>document.title='{PWNED}-1'</script>"
                f"<img src=x onerror=\"document.title='{PWNED}-2'\">")
    # markup that escaping would have let through is still blocked by the page's policy ...
    attacked = tmp_path / "attacked.html"
    attacked.write_text(text.replace("</main>", injected + "</main>"), encoding="utf-8")
    assert PWNED not in read_page(_dom(attacked)).title
    # ... and this check can fail: without the policy the same markup runs
    control = tmp_path / "control.html"
    start = text.index('<meta http-equiv="Content-Security-Policy"')
    control.write_text(text[:start] + text[text.index(">", start) + 1:].replace("</main>", injected + "</main>"),
                       encoding="utf-8")
    assert PWNED in read_page(_dom(control)).title


def test_a_screenshot_renders(export_page: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    page, _ = export_page
    shot = tmp_path / "page.png"
    _chromium("--hide-scrollbars", f"--screenshot={shot}", "--window-size=1280,1600", page.as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1280, 1600)
    assert len(data) > 50_000                                    # a page was drawn, not a blank sheet
