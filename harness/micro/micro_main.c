/* micro_main.c -- rtbench-micro: the microbenchmarks under Google Benchmark.
 *
 *   rtbench-micro [--benchmark_filter=REGEX] [--benchmark_format=json] ...
 *
 * Takes Google Benchmark 1.7.1's flags unchanged (give --benchmark_min_time
 * a bare number of seconds).  `rtbench micro` runs it and writes its JSON.
 *
 * The jemalloc backend needs room in glibc's static TLS, which only the
 * environment at process start can give (see runtime/src/alloc_dl.c): when
 * GLIBC_TUNABLES does not provide it, the program runs itself again with it.
 */
#define _GNU_SOURCE
#include "micro.h"
#include "rt/rt.h"
#include "rt/bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main(int argc, char **argv)
{
    rt_dl_reexec_with_static_tls(argv);
    RtConfig cfg;
    rt_config_default(&cfg);
    cfg.alloc = RT_ALLOC_POOL;
    if (rt_init_ex(&cfg) != 0) {
        fprintf(stderr, "rtbench-micro: cannot start the runtime: %s\n", rt_error_message());
        return 1;
    }
    rt_micro_register_ceiling();
    rt_micro_register_alloc();
    rt_micro_register_rc_nonatomic();
    rt_micro_register_rc_atomic();
    rt_micro_register_rc_biased();
    rt_micro_register_gc();
    int status = rt_bench_main(argc, argv);
    rt_fini();
    return status;
}
