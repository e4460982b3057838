#!/usr/bin/python3
"""Write the test fixture results folder, to look at its charts and summary.

    /usr/bin/python3 plots/tests/make_fixture.py OUTDIR
    /usr/bin/python3 plots/plot.py OUTDIR && /usr/bin/python3 plots/summary.py OUTDIR

The folder is the one ``test_plots.py`` builds (``build_fixture``): a run file, a
sweep file, CPython twins, a Google Benchmark micro.json and a hyperfine export.
``--broken`` also makes one sample crash and another go missing.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fixture import break_samples, build_fixture  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path, help="folder to write (created)")
    parser.add_argument("--broken", action="store_true",
                        help="one crashed and one missing sample")
    args = parser.parse_args()
    build_fixture(args.outdir)
    if args.broken:
        break_samples(args.outdir)
    print(args.outdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
