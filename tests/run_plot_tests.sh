#!/bin/sh
# Runs the plot tests under a Python that has matplotlib; exits 77 (ctest's
# "skipped") saying how to get one when there is none.
#   run_plot_tests.sh PYTHON SOURCE_DIR
python=$1
src=$2
if ! "$python" -c 'import matplotlib' 2>/dev/null; then
    echo "SKIP: $python has no matplotlib (apt-get install python3-matplotlib, or configure with -DRT_PYTHON_MPL=/path/to/python)"
    exit 77
fi
cd "$src" && exec "$python" -m unittest discover -s plots/tests
