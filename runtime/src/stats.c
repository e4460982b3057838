/* stats.c -- printing statistics, as sys._debugmallocstats() and
 * MIMALLOC_SHOW_STATS do.
 *
 * Every row of a quantity that must return to zero ends in "ok" or
 * "not all freed", so that each run with RT_SHOW_STATS=1 doubles as a
 * leak check.
 */
#include "internal.h"

static const char *
verdict(int64_t current)
{
    return current == 0 ? "ok" : "not all freed";
}

static void
print_count(FILE *out, const char *name, const RtStatCount *c, bool must_drain)
{
    fprintf(out, "  %-14s allocated %12llu  freed %12llu  current %10lld  peak %10lld%s%s\n", name,
            (unsigned long long)c->allocated, (unsigned long long)c->freed, (long long)c->current,
            (long long)c->peak, must_drain ? "  " : "", must_drain ? verdict(c->current) : "");
}

void
rt_alloc_print_stats(FILE *out)
{
    RtAllocStats st;
    rt_alloc_stats(&st);
    fprintf(out, "rt allocator: backend %s\n", rt_alloc_name(st.backend));
    fprintf(out, "  class   size   pools   blocks in use   free blocks\n");
    for (int i = 0; i < RT_NB_SMALL_SIZE_CLASSES; i++) {
        const RtSizeClassStats *c = &st.classes[i];
        if (c->pools == 0)
            continue;
        fprintf(out, "  %5d   %4u   %5u   %13llu   %11llu\n", i, c->size, c->pools,
                (unsigned long long)c->blocks, (unsigned long long)c->free_blocks);
    }
    print_count(out, "blocks", &st.blocks, true);
    print_count(out, "small blocks", &st.small, false);
    print_count(out, "large blocks", &st.large, false);
    print_count(out, "pools", &st.pools, false);
    print_count(out, "arenas", &st.arenas, false);
    fprintf(out, "  arenas retained %llu (wholly free, kept for reuse), reused %llu times\n",
            (unsigned long long)st.arenas_retained, (unsigned long long)st.arenas_reused);
    fprintf(out, "  %llu arenas * %zu bytes/arena = %llu bytes mapped; %llu bytes in small blocks\n",
            (unsigned long long)st.arenas.current, (size_t)RT_ARENA_SIZE,
            (unsigned long long)st.arena_bytes, (unsigned long long)st.small_bytes);
    if (st.faults_injected)
        fprintf(out, "  %llu allocation(s) failed by fault injection\n", (unsigned long long)st.faults_injected);
}

static void
print_types(FILE *out)
{
    RtTypeStats ts[RT_MAX_TYPES];
    size_t n = rt_type_stats(ts, RT_MAX_TYPES);
    fprintf(out, "rt objects:\n  %-16s %12s %12s %10s %10s %12s %12s\n", "type", "allocated", "freed",
            "live", "peak", "bytes", "peak bytes");
    for (size_t i = 0; i < n && i < RT_MAX_TYPES; i++)
        fprintf(out, "  %-16s %12llu %12llu %10lld %10lld %12lld %12lld  %s\n", ts[i].name,
                (unsigned long long)ts[i].allocated, (unsigned long long)ts[i].freed, (long long)ts[i].live,
                (long long)ts[i].live_peak, (long long)ts[i].bytes, (long long)ts[i].bytes_peak,
                verdict(ts[i].live));
}

static void
print_gc(FILE *out)
{
    RtGcGenStats st[RT_GC_GENERATIONS];
    RtGcPauses p;
    intptr_t count[RT_GC_GENERATIONS];
    long threshold[RT_GC_GENERATIONS];
    rt_gc_get_stats(st);
    rt_gc_pauses(&p);
    rt_gc_get_count(count);
    rt_gc_get_threshold(threshold);
    fprintf(out, "rt gc: %s, thresholds %ld/%ld/%ld, counts %jd/%jd/%jd\n",
            rt_gc_isenabled() ? "enabled" : "disabled", threshold[0], threshold[1], threshold[2],
            (intmax_t)count[0], (intmax_t)count[1], (intmax_t)count[2]);
    for (int i = 0; i < RT_GC_GENERATIONS; i++)
        fprintf(out, "  gen %d: %llu collections, %llu collected, %llu uncollectable\n", i,
                (unsigned long long)st[i].collections, (unsigned long long)st[i].collected,
                (unsigned long long)st[i].uncollectable);
    fprintf(out, "  pauses: %llu, total %.6f s, max %.6f s\n", (unsigned long long)p.count, p.total_s, p.max_s);
}

/* The threaded variants' slow events (rt_thread_stats): where a run that
 * scales badly shows why -- e.g. list changes by other threads, each
 * under the home heap's lock. */
static void
print_threads(FILE *out)
{
    RtThreadStats t;
    rt_thread_stats(&t);
    fprintf(out, "rt threads: %zu attached; the world stopped %llu times, parked threads ran %llu tasks, "
            "%llu collections cleared on every thread\n", rt_thread_count(), (unsigned long long)t.stops,
            (unsigned long long)t.tasks_helped, (unsigned long long)t.parallel_deletes);
    fprintf(out, "  threads parked for other threads' stops %.6f s in all\n", t.parked_s);
    fprintf(out, "  list changes by other threads %llu (bias revocations %llu), blocks sent home %llu\n",
            (unsigned long long)t.remote_list_changes, (unsigned long long)t.bias_revocations,
            (unsigned long long)t.blocks_sent_home);
    if (RT_RC_BIASED)
        fprintf(out, "  objects handed to their owners %llu, hand-overs without memory %llu  %s\n",
                (unsigned long long)t.queued_to_owner, (unsigned long long)t.queue_oom,
                t.queue_oom == 0 ? "ok" : "leaked");
}

void
rt_print_stats(FILE *out)
{
    rt_alloc_print_stats(out);
    print_types(out);
    print_gc(out);
    if (RT_RC_THREADED)
        print_threads(out);
}
