// rt_bench.cc -- the C++ side of rt_bench.h: Google Benchmark 1.7.1.
//
// RtBenchState wraps a benchmark::State; each registered C function becomes
// a benchmark through RegisterBenchmark with a lambda that carries the
// function and its argument.
#include "rt_bench.h"

#include <benchmark/benchmark.h>

#include <string>

struct RtBenchState {
    benchmark::State &state;
    bool started = false;
};

extern "C" {

static void
register_impl(const char *name, RtBenchFn fn, void *arg, int threads)
{
    auto *b = benchmark::RegisterBenchmark(name, [fn, arg](benchmark::State &state) {
        RtBenchState st{state};
        fn(&st, arg);
        // A function that returned without running (e.g. setup failed
        // without saying so) must still leave the state consistent.
        if (!st.started && !state.error_occurred())
            state.SkipWithError("benchmark did not run");
    });
    // Threads(n) names the benchmark ".../threads:n", as Google Benchmark
    // does.  No UseRealTime(): it would append "/real_time" to the names;
    // the JSON carries real_time and cpu_time for every entry anyway.
    if (threads > 0)
        b->Threads(threads);
}

void rt_bench_register(const char *name, RtBenchFn fn, void *arg) { register_impl(name, fn, arg, 0); }

void
rt_bench_register_threads(const char *name, RtBenchFn fn, void *arg, int threads)
{
    register_impl(name, fn, arg, threads);
}

bool
rt_bench_keep_running(RtBenchState *st, uint64_t batch)
{
    st->started = true;
    return st->state.KeepRunningBatch(static_cast<benchmark::IterationCount>(batch));
}

void rt_bench_pause(RtBenchState *st) { st->state.PauseTiming(); }
void rt_bench_resume(RtBenchState *st) { st->state.ResumeTiming(); }
int rt_bench_thread_index(const RtBenchState *st) { return st->state.thread_index(); }
int rt_bench_threads(const RtBenchState *st) { return st->state.threads(); }

void
rt_bench_counter(RtBenchState *st, const char *name, double value, int kind)
{
    benchmark::Counter::Flags flags = benchmark::Counter::kDefaults;
    if (kind == RT_BENCH_COUNTER_RATE)
        flags = benchmark::Counter::kIsRate;
    else if (kind == RT_BENCH_COUNTER_PER_ITERATION)
        flags = benchmark::Counter::kAvgIterations;
    st->state.counters[name] = benchmark::Counter(value, flags);
}

void rt_bench_items_processed(RtBenchState *st, int64_t items) { st->state.SetItemsProcessed(items); }
void rt_bench_label(RtBenchState *st, const char *label) { st->state.SetLabel(label); }

void
rt_bench_error(RtBenchState *st, const char *message)
{
    st->started = true;
    st->state.SkipWithError(message);
}

int
rt_bench_main(int argc, char **argv)
{
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

}  // extern "C"
