/* gc.c -- the generational strategy, its trigger, and the gc module API.
 *
 * Three generations (CPython 3.11/3.12):
 *
 *   - A new GC object counts toward generation 0 at allocation (tracked or
 *     not; deallocation takes it back): count0 = allocations - deallocations.
 *   - When count0 exceeds threshold0 (and collection is enabled, threshold0
 *     is not 0, and no collection is running), collect_generations picks the
 *     oldest generation whose count exceeds its threshold; generation 2 is
 *     skipped while long_lived_pending < long_lived_total / 4 (issue #4074:
 *     without that, a growing heap makes full collections quadratic).
 *   - Collecting generation g merges the younger lists into g, raises the
 *     count of g+1 by one and zeroes the counts up to g; survivors move to
 *     g+1 (generation 2 keeps its own).
 *
 * As in CPython 3.11 the collection runs inside the allocation that crossed
 * the threshold, before the new object is tracked.  Every collection is
 * timed on the monotonic clock, logged for pause statistics, and reported to
 * the callbacks (collect_with_callback says what its pause holds).  The
 * passes themselves are in gc_passes.c.
 *
 * Threads (thread.h): once a second thread has attached, each tracked
 * object lives on its home heap's lists and each thread counts its own
 * allocations (gc_heap.c); a collection -- by whichever thread's count
 * crossed the threshold -- stops the world first (stw.c).  A young one
 * gathers the heaps' generation 0 onto the global list, runs the passes
 * there and sends the survivors home at the end; an older one (from
 * RT_GC_PARALLEL, default 1) runs passes 1-3 on every stopped thread, each
 * on its own heap's objects first, and leaves the survivors on their
 * heaps (gc_parallel.c).  Its pause is logged in two parts: the time the
 * other threads took to reach a safepoint, and all the time the world then
 * stands for the collection (the callbacks' own time apart).  With the
 * world stopped, every thread's merge queue is merged before and after the
 * passes, so that counts are exact and cycles die at once.
 */

#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAUSE_LOG_INITIAL 1024

/* The generation size, in objects, from which the passes prefetch
 * (gc_passes.c, 'Speed'): between the sizes measured slower and faster
 * with the lookahead. */
#define RTI_GC_PREFETCH_MIN 65536

static inline RtGcState *state(void) { return &rti_runtime.gc; }

void
rti_gc_init(RtGcState *gc, const RtConfig *cfg)
{
    memset(gc, 0, sizeof *gc);
    for (int i = 0; i < RT_GC_GENERATIONS; i++) {
        rti_gc_list_init(&gc->gen[i].head);
        gc->gen[i].threshold = cfg->gc_threshold[i];
    }
    rti_gc_list_init(&gc->permanent);
    gc->prefetch_min = RTI_GC_PREFETCH_MIN;
    gc->enabled = cfg->gc_enabled;
    gc->timing = cfg->gc_timing;
    gc->parallel_min = cfg->gc_parallel_min;
}

void
rti_gc_fini(RtGcState *gc)
{
    free(gc->pauses.seconds);
    free(gc->pauses.start);
    free(gc->pauses.generation);
    free(gc->pauses.safepoint);
    memset(&gc->pauses, 0, sizeof gc->pauses);
}

/* ==== timing and callbacks ============================================== */

double
rt_monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Called after a collection, outside its passes, so that the collection
 * itself never allocates.  The log grows from the system allocator; if it
 * cannot, the pause still counts in count, total and max. */
static void
log_pause(RtGcPauseLog *log, int generation, double start, double seconds, double safepoint)
{
    log->count++;
    log->total += seconds;
    if (seconds > log->max)
        log->max = seconds;
    log->safepoint_total += safepoint;
    if (safepoint > log->safepoint_max)
        log->safepoint_max = safepoint;
    if (log->n == log->capacity) {
        size_t cap = log->capacity ? log->capacity * 2 : PAUSE_LOG_INITIAL;
        double *s = realloc(log->seconds, cap * sizeof *s);
        if (s != NULL)
            log->seconds = s;
        double *t = s ? realloc(log->start, cap * sizeof *t) : NULL;
        if (t != NULL)
            log->start = t;
        uint8_t *g = t ? realloc(log->generation, cap) : NULL;
        if (g != NULL)
            log->generation = g;
        double *sp = g ? realloc(log->safepoint, cap * sizeof *sp) : NULL;
        if (sp != NULL)
            log->safepoint = sp;
        if (s == NULL || t == NULL || g == NULL || sp == NULL) {
            log->dropped++;
            return;
        }
        log->capacity = cap;
    }
    log->seconds[log->n] = seconds;
    log->start[log->n] = start;
    log->generation[log->n] = (uint8_t)generation;
    log->safepoint[log->n] = safepoint;
    log->n++;
}

static void
invoke_callbacks(RtGcState *gc, const char *phase, const RtGcInfo *info)
{
    /* A callback may remove itself: iterate over a copy. */
    RtGcCallbackSlot slots[RTI_GC_MAX_CALLBACKS];
    size_t n = gc->ncallbacks;
    memcpy(slots, gc->callbacks, n * sizeof slots[0]);
    for (size_t i = 0; i < n; i++)
        slots[i].fn(phase, info, slots[i].arg);
}

/* ==== the collection ==================================================== */

/* Generations 0 to 'last' (and the permanent one with 'permanent'): well
 * formed, nothing marked.  A collection checks only the generations it
 * touches, the collected ones and the one its survivors join, as CPython's
 * gc_collect_main validates young and old: the check then costs in
 * proportion to the collection, not to the heap (a check of every
 * generation around every young collection made the checked builds'
 * young collections as slow as full ones). */
static void
validate_generations(RtGcState *gc, int last, bool permanent)
{
    for (int i = 0; i <= last; i++) {
        RTI_GC_VALIDATE(&gc->gen[i].head, false, false);
        rti_assert(gc->gen[i].count >= 0);
    }
    if (permanent)
        RTI_GC_VALIDATE(&gc->permanent, false, false);
#if RT_RC_THREADED && RT_DEBUG >= 2
    for (RtPoolHeap *ph = rti_runtime.heap.arenas.heaps; ph != NULL; ph = ph->next_heap) {
        for (int i = 0; i <= last; i++)
            rti_gc_validate_heap_list((RtThreadHeap *)ph, i);
        if (permanent)
            rti_gc_validate_heap_list((RtThreadHeap *)ph, RTI_GC_PERMANENT);
    }
#endif
    (void)gc, (void)last, (void)permanent;
}

/* Passes 1-3 on the calling thread alone, over the global lists: the
 * heaps' generations gathered there first (homes), the younger merged
 * into generation.  The survivors go to *old (the generation they join,
 * or the homes' list to distribute); returns how many. */
static intptr_t
deduce_serial(RtGcState *gc, int generation, bool homes, RtGcHead *old, RtGcHead *unreachable)
{
#if RT_RC_THREADED
    if (homes)
        rti_gc_gather(gc, generation);
#endif
    (void)homes;
    for (int i = 0; i < generation; i++)
        rti_gc_list_merge(&gc->gen[i].head, &gc->gen[generation].head);
    RtGcHead *young = &gc->gen[generation].head;
    RtGcScan scan = rti_gc_deduce_unreachable(young, unreachable);
    /* Untracking tuples walks the survivors: only when there are tuples. */
    intptr_t survivors = scan.tuples ? rti_gc_untrack_tuples(young) : scan.survivors;
    if (young != old)
        rti_gc_list_merge(young, old);  /* a full collection's stay (without homes) */
    return survivors;
}

/* The long-lived counts of CPython's full-collection rule. */
static void
count_survivors(RtGcState *gc, int generation, intptr_t survivors)
{
    if (generation < RT_GC_GENERATIONS - 1) {
        if (generation == RT_GC_GENERATIONS - 2)
            gc->long_lived_pending += survivors;
    } else {
        gc->long_lived_pending = 0;
        gc->long_lived_total = survivors;
    }
}

/* Steps 4-7 on the collecting thread: weakrefs, finalizers, resurrection,
 * clears.  counted: *garbage counts the unreachable set and no weakref is
 * alive.  Returns collected (CPython 3.11's final_unreachable): objects a
 * finalizer resurrected, or freed by reference counting, are not counted;
 * weakrefs their callbacks freed are.  With no weakref alive,
 * handle_weakrefs' walk would only count what the parallel sweep has
 * counted: skipped (a cache miss per object of the unreachable set -- 5-8
 * ms of a full collection of cycle_storm's 140,000 garbage objects). */
static intptr_t
tail(RtGcHead *unreachable, RtGcHead *old, RtGcGarbage *garbage, bool counted)
{
    intptr_t m = counted ? 0 : rti_gc_handle_weakrefs(unreachable, old, garbage);
    intptr_t left = garbage->count;
    RtGcHead final_unreachable;
    if (garbage->finalizers > 0 && rti_gc_finalize_garbage(unreachable) > 0) {
        left = rti_gc_handle_resurrected(unreachable, &final_unreachable, old);
    } else {
        /* No finalizer ran, so nothing was resurrected or freed: weakref
         * callbacks cannot reach the unreachable set. */
        rti_gc_list_init(&final_unreachable);
        rti_gc_list_merge(unreachable, &final_unreachable);
    }
    rti_gc_delete_garbage(&final_unreachable, old);
    return m + left;
}

#if RT_RC_THREADED
/* The tail after the shared passes: with no weakref alive and no
 * finalizer to run, the clears alone are left, and each thread may run
 * those on its own part (rti_gc_delete_parallel); else tail(). */
static intptr_t
tail_parallel(RtGcState *gc, RtGcGarbage *garbage, RtGcHead *old)
{
    bool counted = rti_type_live(RTI_TYPE_ID_WEAKREF) == 0;
    if (counted && garbage->finalizers == 0 && rti_gc_delete_parallel(gc, old))
        return garbage->count;
    RtGcHead unreachable;
    rti_gc_join_unreachable(gc, &unreachable, garbage);
    return tail(&unreachable, old, garbage, counted);
}
#endif

/* Collect generation 'generation' and the younger ones; returns collected +
 * uncollectable (rt_gc_collect's value). */
static intptr_t
collect_main(RtGcState *gc, int generation, intptr_t *collected, intptr_t *uncollectable)
{
    int touched = generation + 1 < RT_GC_GENERATIONS ? generation + 1 : generation;
    bool full = generation == RT_GC_GENERATIONS - 1;
    bool homes = rti_heap_shared();     /* the objects live on their heaps' lists */
    validate_generations(gc, touched, false);
    if (!full)
        gc->gen[generation + 1].count += 1;
    for (int i = 0; i <= generation; i++)
        gc->gen[i].count = 0;
    /* old: where the survivors go, and what the finalizers and weakref
     * callbacks keep alive.  With homes, a list sent home at the end. */
    RtGcHead kept, unreachable;
    RtGcHead *old = full ? &gc->gen[generation].head : &gc->gen[generation + 1].head;
    if (homes) {
        rti_gc_list_init(&kept);
        old = &kept;
    }
    intptr_t survivors, m;
    RtGcGarbage garbage;
#if RT_RC_THREADED
    if (homes && generation >= gc->parallel_min) {
        survivors = rti_gc_collect_parallel(gc, generation, &garbage);
        m = tail_parallel(gc, &garbage, old);
    } else
#endif
    {
        survivors = deduce_serial(gc, generation, homes, old, &unreachable);
        m = tail(&unreachable, old, &garbage, false);
    }
    count_survivors(gc, generation, survivors);
    if (full) {
        /* CPython ends a full collection by emptying its free lists, and
         * each object freed from them takes one off count0 (as every
         * deallocation does, down to 0).  Its free lists hold tens of
         * tuples and dicts at the least, so count0 ends at 0, even when
         * finalizers allocated during the collection.  rtbench has no free
         * lists; it ends at 0 too. */
        gc->gen[0].count = 0;
    }
#if RT_RC_THREADED
    if (homes)
        rti_gc_distribute(gc, old, touched);
#endif

    validate_generations(gc, touched, false);
    RtGcGenStats *st = &gc->stats[generation];
    st->collections++;
    st->collected += (uint64_t)m;
    *collected = m;
    *uncollectable = 0;     /* no legacy (tp_del) finalizers in this model */
    return m;
}

/* The generation the thresholds pick (CPython's collect_generations): the
 * oldest whose count exceeds its threshold, generation 2 only once the
 * long-lived objects pending are a quarter of those that survived the last
 * full collection; -1 when none does. */
static int
scheduled_generation(const RtGcState *gc)
{
    for (int i = RT_GC_GENERATIONS - 1; i >= 0; i--) {
        if (gc->gen[i].count > gc->gen[i].threshold) {
            if (i == RT_GC_GENERATIONS - 1 && gc->long_lived_pending < gc->long_lived_total / 4)
                continue;
            return i;
        }
    }
    return -1;
}

/* Before a collection, the world stopped (stop) or alone: every thread's
 * merge queue merged and, with threads, their counts folded, so that the
 * counts are exact and the generation picked from them. */
static void
settle_before(RtGcState *gc, bool stop)
{
    rti_drain_all();
#if RT_RC_THREADED
    if (stop)
        rti_gc_fold_counts(gc);
#else
    (void)gc, (void)stop;
#endif
}

/* After it, still stopped: what its frees queued merged, and the classes
 * whose last instance it freed released. */
static void
settle_after(RtGcState *gc, bool stop)
{
    rti_drain_all();
#if RT_RC_THREADED
    /* The collection's own deallocations went into this thread's delta;
     * folded now they stop at zero, as each one does alone (rti_gc_on_free,
     * CPython's clamp).  Left in the delta they would hold the next
     * collection back by as many allocations as this one freed.  The
     * other threads' blocks it freed into this thread's caches go home
     * before the heaps' biases are judged (pool.c). */
    if (stop) {
        rti_gc_fold_counts(gc);
        if (rti_theap != NULL)
            rti_pool_cache_send_home(rti_theap);
        rti_gc_heaps_rebias();
    }
#else
    (void)gc, (void)stop;
#endif
    rti_classes_reap();         /* the rows add up now (instance.c) */
}

static inline double timing_now(const RtGcState *gc) { return gc->timing ? rt_monotonic_s() : 0.0; }

/* Collect generation, the world stopped (stop) or alone, settle_before
 * done since 'stopped' (its clock reading); returns what it collected.
 * The pause logged, and given to the "stop" callbacks, is all the time
 * the world stands for the collection but the callbacks' own: the
 * settling on both sides, the passes, and a full collection's trim of the
 * pools (as CPython's clears its free lists inside the collection) -- the
 * time the other threads stand still once parked.  The time they took to
 * park is logged beside it (safepoint). */
static intptr_t
collect_with_callback(RtGcState *gc, int generation, bool stop, double stopped, double safepoint)
{
    RtGcInfo info = {generation, 0, 0, 0.0};
    double before = timing_now(gc) - stopped;
    if (gc->ncallbacks)
        invoke_callbacks(gc, "start", &info);
    double t0 = timing_now(gc);
    intptr_t n = collect_main(gc, generation, &info.collected, &info.uncollectable);
    if (generation == RT_GC_GENERATIONS - 1)
        rti_alloc_trim(true);   /* as CPython clears its free lists */
    settle_after(gc, stop);
    if (gc->timing) {
        info.duration_s = before + (rt_monotonic_s() - t0);
        log_pause(&gc->pauses, generation, stopped, info.duration_s, safepoint);
    }
    if (gc->ncallbacks)
        invoke_callbacks(gc, "stop", &info);
    return n;
}

/* Run a collection (generation < 0: the one the thresholds pick, if any)
 * with the world stopped when threads share the heap; gc->collecting is
 * set. */
static intptr_t
collect_stopped(RtGcState *gc, int generation)
{
    bool stop = rti_heap_shared();
    double safepoint = stop ? rti_world_stop() : 0.0;
    double stopped = timing_now(gc);
    settle_before(gc, stop);
    if (generation < 0)
        generation = scheduled_generation(gc);
    intptr_t n = 0;
    if (generation >= 0)
        n = collect_with_callback(gc, generation, stop, stopped, safepoint);
    else
        settle_after(gc, stop);
    if (stop)
        rti_world_start();
    bool held = rti_heap_lock();
    gc->collecting = false;
    rti_heap_unlock(held);
    return n;
}

void
rti_gc_collect_scheduled(RtGcState *gc)
{
    collect_stopped(gc, -1);
}

RT_NOINLINE RtObject *
rti_gc_collect_then_track(RtObject *op)
{
    rti_gc_collect_scheduled(state());
    rt_gc_track(op);
    return op;
}

void
rti_gc_on_free(RtGcState *gc)
{
    rti_assert(gc->gen[0].count >= 0);
    if (gc->gen[0].count > 0)
        gc->gen[0].count--;
}

/* ==== the gc module API ================================================= */

void rt_gc_enable(void) { state()->enabled = true; }
void rt_gc_disable(void) { state()->enabled = false; }
bool rt_gc_isenabled(void) { return state()->enabled; }

intptr_t
rt_gc_collect(int generation)
{
    RtGcState *gc = state();
    if (generation < 0 || generation >= RT_GC_GENERATIONS) {
        rt_error_set(RT_ERR_VALUE, "invalid generation %d (accepted: 0, 1, 2)", generation);
        return -1;
    }
    if (!rti_runtime.initialized) {
        rt_error_set(RT_ERR_STATE, "rt_gc_collect called before rt_init()");
        return -1;
    }
    bool held = rti_heap_lock();
    bool busy = gc->collecting;
    gc->collecting = true;
    rti_heap_unlock(held);
    if (busy)
        return 0;
    return collect_stopped(gc, generation);
}

void
rt_gc_get_count(intptr_t count[RT_GC_GENERATIONS])
{
    bool stopped = rti_world_stop_shared();
#if RT_RC_THREADED
    if (stopped)
        rti_gc_fold_counts(state());
#endif
    for (int i = 0; i < RT_GC_GENERATIONS; i++)
        count[i] = state()->gen[i].count;
    rti_world_start_shared(stopped);
}

void
rt_gc_get_threshold(long threshold[RT_GC_GENERATIONS])
{
    for (int i = 0; i < RT_GC_GENERATIONS; i++)
        threshold[i] = state()->gen[i].threshold;
}

int
rt_gc_set_threshold(long t0, long t1, long t2)
{
    long t[RT_GC_GENERATIONS] = {t0, t1, t2};
    for (int i = 0; i < RT_GC_GENERATIONS; i++) {
        if (t[i] < 0 && t[i] != RT_GC_KEEP) {
            rt_error_set(RT_ERR_VALUE, "threshold%d must be >= 0 (got %ld)", i, t[i]);
            return -1;
        }
    }
    for (int i = 0; i < RT_GC_GENERATIONS; i++)
        if (t[i] != RT_GC_KEEP)
            state()->gen[i].threshold = t[i];
#if RT_RC_THREADED
    if (rti_runtime.initialized)
        rti_gc_heaps_retune(state());
#endif
    return 0;
}

void
rt_gc_get_stats(RtGcGenStats stats[RT_GC_GENERATIONS])
{
    memcpy(stats, state()->stats, sizeof state()->stats);
}

int
rt_gc_callback_add(RtGcCallback cb, void *arg)
{
    RtGcState *gc = state();
    if (cb == NULL || gc->ncallbacks == RTI_GC_MAX_CALLBACKS) {
        rt_error_set(RT_ERR_VALUE, cb ? "at most %d gc callbacks" : "NULL gc callback", RTI_GC_MAX_CALLBACKS);
        return -1;
    }
    gc->callbacks[gc->ncallbacks++] = (RtGcCallbackSlot){cb, arg};
    return 0;
}

int
rt_gc_callback_remove(RtGcCallback cb, void *arg)
{
    RtGcState *gc = state();
    for (size_t i = 0; i < gc->ncallbacks; i++) {
        if (gc->callbacks[i].fn == cb && gc->callbacks[i].arg == arg) {
            memmove(&gc->callbacks[i], &gc->callbacks[i + 1], (gc->ncallbacks - i - 1) * sizeof gc->callbacks[0]);
            gc->ncallbacks--;
            return 0;
        }
    }
    rt_error_set(RT_ERR_VALUE, "gc callback not registered");
    return -1;
}

/* CPython 3.11: every generation joins the permanent one, and every count
 * is reset (get_count() reads (0, 0, 0) after it). */
void
rt_gc_freeze(void)
{
    RtGcState *gc = state();
    bool stopped = rti_world_stop_shared();
#if RT_RC_THREADED
    if (stopped) {
        rti_gc_fold_counts(gc);
        for (int i = 0; i < RT_GC_GENERATIONS; i++)
            rti_gc_heaps_move(i, RTI_GC_PERMANENT);
    }
#endif
    for (int i = 0; i < RT_GC_GENERATIONS; i++) {
        rti_gc_list_merge(&gc->gen[i].head, &gc->permanent);
        gc->gen[i].count = 0;
    }
    validate_generations(gc, RT_GC_GENERATIONS - 1, true);
    rti_world_start_shared(stopped);
}

void
rt_gc_unfreeze(void)
{
    RtGcState *gc = state();
    bool stopped = rti_world_stop_shared();
#if RT_RC_THREADED
    if (stopped)
        rti_gc_heaps_move(RTI_GC_PERMANENT, RT_GC_GENERATIONS - 1);
#endif
    rti_gc_list_merge(&gc->permanent, &gc->gen[RT_GC_GENERATIONS - 1].head);
    validate_generations(gc, RT_GC_GENERATIONS - 1, true);
    rti_world_start_shared(stopped);
}

intptr_t
rt_gc_get_freeze_count(void)
{
    bool stopped = rti_world_stop_shared();
    intptr_t n = rti_gc_list_size(&state()->permanent);
#if RT_RC_THREADED
    if (stopped)
        n += rti_gc_heaps_size(RTI_GC_PERMANENT);
#endif
    rti_world_start_shared(stopped);
    return n;
}

bool
rt_gc_is_tracked(const RtObject *op)
{
    return (RT_TYPE(op)->flags & RT_TYPE_GC) && rti_gc_tracked(RTI_AS_GC(op));
}

bool
rt_gc_is_finalized(const RtObject *op)
{
    return (RT_TYPE(op)->flags & RT_TYPE_GC) && rti_gc_finalized(RTI_AS_GC(op));
}

/* Alone, the global lists with no lock; once threads share the runtime,
 * the object's home's (internal.h, gc_heap.c). */
void rt_gc_track(RtObject *op) { rti_gc_track(op); }
void rt_gc_untrack(RtObject *op) { rti_gc_untrack(op); }

void
rt_gc_pauses(RtGcPauses *out)
{
    const RtGcPauseLog *log = &state()->pauses;
    *out = (RtGcPauses){log->count, log->total, log->max, log->n, log->seconds, log->start, log->generation,
                        log->dropped, log->safepoint, log->safepoint_total, log->safepoint_max};
}

void
rt_gc_pauses_reset(void)
{
    RtGcPauseLog *log = &state()->pauses;
    log->n = 0;
    log->count = log->dropped = 0;
    log->total = log->max = 0.0;
    log->safepoint_total = log->safepoint_max = 0.0;
}
