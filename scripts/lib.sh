# scripts/lib.sh -- what scripts/test and scripts/suite share: installing the
# Debian packages rtbench needs, and building a preset.  Sourced, not run.

# Debian packages: the build, the peers, the measurement and plotting tools
# (valgrind: its callgrind.h at build time, callgrind for instruction counts).
RTBENCH_PACKAGES="cmake ninja-build gcc g++ make git libbenchmark-dev libbenchmark-tools hyperfine \
python3 python3-matplotlib python3-numpy python3-scipy python3-jsonschema libmimalloc-dev libjemalloc-dev valgrind"
# The tests add the sanitizers' and the browser that opens the report.
RTBENCH_TEST_PACKAGES="clang libclang-rt-14-dev chromium"

# GLIBC_TUNABLES for dlopen'ing jemalloc: defined once, in rt/bench.h.
RT_DL_TLS_TUNABLE=$(sed -n 's/^#define RT_DL_TLS_TUNABLE "\(.*\)"$/\1/p' runtime/include/rt/bench.h)   # sourced from the repository root

say() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }

# Install the packages that are missing (apt-get update first when one is
# not known yet).  Needs root, or sudo.
install_missing() {
    missing=""
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    sudo=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || { say "missing packages:$missing; install them as root (apt-get install$missing)"; exit 1; }
        sudo=sudo
    fi
    say "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    if ! $sudo apt-get install -y -q $missing >/dev/null 2>&1; then
        $sudo apt-get update -q >/dev/null
        $sudo apt-get install -y -q $missing >/dev/null
    fi
}

# Configure and build a preset (build/<preset>).
build_preset() {
    cmake --preset "$1" >/dev/null
    cmake --build --preset "$1" -j "$(nproc)"
}
