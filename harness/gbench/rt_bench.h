/* rt_bench.h -- a C face for Google Benchmark.
 *
 * Benchmarks are plain C functions registered by name; the C++ shim
 * (rt_bench.cc) turns each into a Google Benchmark, so the output is
 * Google Benchmark's own console or JSON and its tools (compare.py) work.
 *
 *   static void bench(RtBenchState *st, void *arg)
 *   {
 *       ... setup, not timed ...
 *       while (rt_bench_keep_running(st, 1000))
 *           for (int i = 0; i < 1000; i++)
 *               ... one operation ...
 *       ... teardown, not timed ...
 *   }
 *   rt_bench_register("family/case", bench, arg);
 *
 * keep_running(st, batch) runs 'batch' iterations per call (Google
 * Benchmark's KeepRunningBatch), so the call costs nothing per operation;
 * the reported time is per operation.  Written for Google Benchmark 1.7.1
 * (Debian 12); nothing here needs 1.8.
 */
#ifndef RT_BENCH_H
#define RT_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct RtBenchState RtBenchState;
typedef void (*RtBenchFn)(RtBenchState *state, void *arg);

enum {
    RT_BENCH_COUNTER_PLAIN = 0,
    RT_BENCH_COUNTER_RATE = 1,          /* value / elapsed seconds */
    RT_BENCH_COUNTER_PER_ITERATION = 2, /* value / iterations */
};

/* Register a benchmark (the name is copied).  The _threads form runs the
 * function on that many threads at once, each with its own state, and
 * Google Benchmark appends "/threads:N" to the name. */
void rt_bench_register(const char *name, RtBenchFn fn, void *arg);
void rt_bench_register_threads(const char *name, RtBenchFn fn, void *arg, int threads);

bool rt_bench_keep_running(RtBenchState *st, uint64_t batch);
void rt_bench_pause(RtBenchState *st);
void rt_bench_resume(RtBenchState *st);
int rt_bench_thread_index(const RtBenchState *st);
int rt_bench_threads(const RtBenchState *st);
void rt_bench_counter(RtBenchState *st, const char *name, double value, int kind);
void rt_bench_items_processed(RtBenchState *st, int64_t items);
void rt_bench_label(RtBenchState *st, const char *label);
/* Report an error for this benchmark and stop it (SkipWithError). */
void rt_bench_error(RtBenchState *st, const char *message);

/* Google Benchmark's main: parses its --benchmark_* flags, runs, reports.
 * Returns 0, or 1 when a flag was not understood. */
int rt_bench_main(int argc, char **argv);

/* Keep a value alive without generating code for it (DoNotOptimize). */
#define RT_BENCH_ESCAPE(p) __asm__ volatile("" : : "g"(p) : "memory")
#define RT_BENCH_CLOBBER() __asm__ volatile("" : : : "memory")

#ifdef __cplusplus
}
#endif

#endif /* RT_BENCH_H */
