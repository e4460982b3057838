"""Tests of the HTML report (plots/report.py) and of its check in a real browser
(tests/browser_check.py, skipped without Debian's chromium).

    /usr/bin/python3 -m unittest discover -s plots/tests
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from html.parser import HTMLParser
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent))

from fixture import build_fixture, charted_fixture  # noqa: E402
import report  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
SECTIONS = ["machine", "headline", "workloads", "micro", "threads", "hyperfine", "warnings", "methods"]


class Outline(HTMLParser):
    """What the tests ask of the page: sections, figures and their SVGs, links,
    tables, ids."""

    def __init__(self):
        super().__init__()
        self.sections, self.figures, self.svg_in_figure = [], [], 0
        self.references, self.ids, self.scripts, self.sortable = [], [], 0, 0
        self._figure_depth = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._depth += 1
        if tag == "section" and attrs.get("id"):
            self.sections.append(attrs["id"])
        if tag == "figure":
            self.figures.append(attrs.get("data-chart"))
            self._figure_depth = self._depth
        if tag == "svg" and self._figure_depth is not None:
            self.svg_in_figure += 1
        if tag == "script":
            self.scripts += 1
            if "src" in attrs:
                self.references.append(attrs["src"])
        for name in ("src", "href", "xlink:href", "data"):
            if name in attrs and tag != "script":
                self.references.append(attrs[name])
        if attrs.get("id"):
            self.ids.append(attrs["id"])
        if tag == "table" and "sortable" in (attrs.get("class") or ""):
            self.sortable += 1

    def handle_endtag(self, tag):
        if tag == "figure":
            self._figure_depth = None
        self._depth -= 1


class TestReport(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir, cls.plot = charted_fixture()
        cls.text = (cls.dir / "report.html").read_text(encoding="utf-8")
        cls.outline = Outline()
        cls.outline.feed(cls.text)

    def test_written_and_listed(self):
        self.assertEqual(self.plot.returncode, 0, self.plot.stderr)
        self.assertIn(str(self.dir / "report.html"), self.plot.stdout.split())

    def test_every_section(self):
        self.assertEqual([s for s in self.outline.sections if s in SECTIONS], SECTIONS)
        for workload in ("cycle_storm", "fragmentation", "long_lived"):
            self.assertIn(f"w-{workload}", self.outline.sections)

    def test_every_chart_inline(self):
        charts = sorted(p.stem for p in (self.dir / "charts").glob("*.svg"))
        self.assertEqual(len(charts), 16)
        self.assertEqual(sorted(self.outline.figures), charts)
        self.assertEqual(self.outline.svg_in_figure, len(charts))

    def test_nothing_from_outside(self):
        outside = [r for r in self.outline.references if not r.startswith("#")]
        self.assertEqual(outside, [])
        self.assertEqual(self.outline.scripts, 1)
        self.assertNotRegex(self.text, r"@import|url\((?!#)")

    def test_ids_unique(self):
        repeated = {i for i in self.outline.ids if self.outline.ids.count(i) > 1}
        self.assertEqual(repeated, set())

    def test_headline_table_sortable_with_keys(self):
        self.assertGreaterEqual(self.outline.sortable, 2)        # headline + tuning tables
        table = re.search(r'<table id="headline-table".*?</table>', self.text, re.S).group()
        self.assertIn("time ÷ CPython", table)
        rows = re.findall(r"<tr><td.*?</tr>", table)
        self.assertEqual(len(rows), 3)
        cycle = next(r for r in rows if ">cycle_storm<" in r)
        self.assertRegex(cycle, r'data-sort="0\.\d+">0\.\d\d×')

    def test_verdicts_and_warnings(self):
        self.assertRegex(self.text, r"t0 = 10000 \(fastest\): −\d+% time")
        self.assertIn("wall time spread 12% of the median", self.text)   # a structured warning
        self.assertIn("How each figure was made", self.text)

    def test_machine_floats_rounded(self):
        self.assertIsNone(re.search(r"<dd>[^<]*\d\.\d{3,}", self.text))
        self.assertEqual(report.machine_value([1, 1.0029296875, 0.5]), "1, 1.00, 0.50")

    def test_small(self):
        self.assertLess(len(self.text.encode()), 1 << 20)


class TestNotDrawn(unittest.TestCase):
    """A folder with only micro.json: the report says what is missing and why."""

    def test_reasons_in_the_report(self):
        with tempfile.TemporaryDirectory(prefix="rtbench-report-") as tmp:
            folder = build_fixture(Path(tmp) / "results")
            for path in folder.glob("*.json"):
                if path.name != "micro.json":
                    path.unlink()
            done = subprocess.run([sys.executable, str(HERE.parent / "plot.py"), str(folder),
                                   "--format", "png"], capture_output=True, text=True,
                                  timeout=600)
            self.assertEqual(done.returncode, 0, done.stderr)
            text = (folder / "report.html").read_text(encoding="utf-8")
        self.assertIn("not drawn: no threshold0 sweep in this folder", text)
        self.assertIn("not drawn: no hyperfine-*.json in this folder", text)
        self.assertIn("not drawn: no run at more than one thread in this folder", text)
        self.assertIn('data-chart="micro_alloc"', text)


@unittest.skipUnless(Path(CHROMIUM).is_file(), "no Chromium (apt-get install chromium)")
class TestInBrowser(unittest.TestCase):
    """browser_check.py passes a good report and fails a broken one."""

    @classmethod
    def setUpClass(cls):
        cls.dir, _ = charted_fixture()

    def check(self, folder: Path) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(ROOT / "tests" / "browser_check.py"),
                               str(folder)], capture_output=True, text=True, timeout=600)

    def test_good_report_passes(self):
        done = self.check(self.dir)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("sorting works", done.stdout)
        for shot in ("report-1280.png", "report-390.png", "report-tuning-cycle_storm.png"):
            self.assertGreater((self.dir / "screenshots" / shot).stat().st_size, 10000, shot)

    def test_broken_report_fails(self):
        broken = Path(tempfile.mkdtemp(prefix="rtbench-broken-"))
        self.addCleanup(shutil.rmtree, broken, True)
        text = (self.dir / "report.html").read_text(encoding="utf-8")
        text = text.replace('<section id="micro">', '<section id="gone">', 1)
        text = text.replace("</main>", '<img src="http://rtbench.invalid/x.png">'
                                       '<script>console.error("boom")</script></main>', 1)
        text = text.replace("rows.sort(", "rows.reverse(", 1)
        (broken / "report.html").write_text(text, encoding="utf-8")
        done = self.check(broken)
        self.assertEqual(done.returncode, 1, done.stdout + done.stderr)
        for expected in ("section #micro missing", "console error: boom",
                         "request beyond the report: http://rtbench.invalid/x.png",
                         "sorting: first click"):
            self.assertIn(expected, done.stderr)


if __name__ == "__main__":
    unittest.main()
