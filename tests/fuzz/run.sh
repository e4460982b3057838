#!/usr/bin/env bash
# run.sh -- run the libFuzzer targets for a while; builds nothing.
#
#   tests/fuzz/run.sh [SECONDS] [BUILD_DIR]
#
# SECONDS (default 60) is each target's time; BUILD_DIR (default
# build/fuzz, or $FUZZ_BUILD_DIR) is a build of the 'fuzz' preset:
#   cmake --preset fuzz && cmake --build --preset fuzz --target fuzz_alloc fuzz_gc fuzz_sched
# Each target starts from a copy of its seed corpus (tests/fuzz/corpus/*)
# in a temporary directory: the committed corpus is never modified.  Crash
# inputs and each target's full log go to BUILD_DIR/artifacts; reproduce a
# crash with:  BUILD_DIR/tests/fuzz/fuzz_gc BUILD_DIR/artifacts/fuzz_gc-crash-...
# Exits non-zero when a target fails (a crash, a leak, a timeout, or OOM).
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${1:-60}
build=${2:-${FUZZ_BUILD_DIR:-$root/build/fuzz}}
case $seconds in
    '' | *[!0-9]*) echo "usage: $0 [SECONDS] [BUILD_DIR]" >&2; exit 2 ;;
esac

artifacts=$build/artifacts
mkdir -p "$artifacts" || exit 2
work=$(mktemp -d "${TMPDIR:-/tmp}/rt-fuzz.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT

export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# Room in static TLS for dlopen'ing jemalloc, so that fuzz_alloc fuzzes
# that backend too (see runtime/src/alloc_dl.c).
# Defined once, in rt/bench.h.
export GLIBC_TUNABLES="$(sed -n 's/^#define RT_DL_TLS_TUNABLE "\(.*\)"$/\1/p' "$(dirname "$0")/../../runtime/include/rt/bench.h")"

# The target's binary: where the project puts it, else wherever it is.
find_target() {
    local exe=$build/tests/fuzz/$1
    [ -x "$exe" ] || exe=$(find "$build" -type f -name "$1" -perm -u+x 2>/dev/null | head -n 1)
    echo "$exe"
}

echo "artifacts (crash inputs, logs): $artifacts"
status=0
summary=()
for target in fuzz_alloc fuzz_gc fuzz_sched; do
    exe=$(find_target "$target")
    if [ -z "$exe" ]; then
        echo "$target: not built in $build (cmake --build --preset fuzz --target $target)" >&2
        summary+=("$target: NOT BUILT")
        status=1
        continue
    fi
    corpus=$work/${target#fuzz_}
    mkdir -p "$corpus"
    cp "$here/corpus/${target#fuzz_}"/* "$corpus"/
    log=$artifacts/$target.log
    echo "== $target: $seconds s on a copy of tests/fuzz/corpus/${target#fuzz_} ($(ls "$corpus" | wc -l) seeds)"
    "$exe" "$corpus" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048 -timeout=10 \
        -artifact_prefix="$artifacts/$target-" >"$log" 2>&1
    rc=$?
    # libFuzzer's last status line: "#N  DONE  cov: C ft: F corp: ...".
    last=$(grep -E '^#[0-9]+' "$log" | grep 'cov:' | tail -n 1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    if [ $rc -eq 0 ]; then
        verdict=ok
    else
        verdict="FAILED (exit $rc; see $log)"
        status=1
        grep -E '^(fuzz_(alloc|gc|sched) |==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)' "$log" | head -n 8
    fi
    summary+=("$(printf '%-10s %s  exec/s %s  execs %s  cov %s  ft %s' "$target" "$verdict" "${rate:-?}" \
        "${execs:-?}" "${cov:-?}" "${ft:-?}")")
done

echo "== summary"
printf '%s\n' "${summary[@]}"
exit $status
