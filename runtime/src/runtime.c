/* runtime.c -- the runtime context: start, stop, errors.
 *
 * rti_runtime is the one place the runtime keeps mutable state (see
 * internal.h).  rt_init_ex() brings the parts up in dependency order --
 * allocator heap, types, collector -- and rt_fini() takes them down in
 * reverse, after printing statistics when RT_SHOW_STATS asked for them.
 * A runtime can be started again after rt_fini(), with another
 * configuration: the tests use this to run one program over every backend.
 */

#include "internal.h"

#include <stdlib.h>
#include <string.h>

RtRuntime rti_runtime;

/* The error slot is per thread, as CPython's exception state. */
static _Thread_local RtError last_error;
static _Thread_local char last_message[RT_ERROR_MESSAGE_MAX];

/* ==== errors ============================================================ */

static const char *const error_names[] = {
    [RT_OK] = "no error",
    [RT_ERR_NOMEM] = "out of memory",
    [RT_ERR_VALUE] = "bad value",
    [RT_ERR_INDEX] = "index out of range",
    [RT_ERR_KEY] = "key not found",
    [RT_ERR_TYPE] = "wrong type",
    [RT_ERR_STATE] = "bad state",
};

const char *
rt_error_name(RtError err)
{
    return (unsigned)err < sizeof error_names / sizeof error_names[0] ? error_names[err] : "unknown error";
}

void
rti_error_setv(RtError err, const char *fmt, va_list ap)
{
    last_error = err;
    if (fmt != NULL)
        vsnprintf(last_message, sizeof last_message, fmt, ap);
    else
        snprintf(last_message, sizeof last_message, "%s", rt_error_name(err));
}

void
rt_error_set(RtError err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rti_error_setv(err, fmt, ap);
    va_end(ap);
}

RtError rt_error(void) { return last_error; }

const char *
rt_error_message(void)
{
    return last_error == RT_OK ? "no error" : last_message;
}

void
rt_error_clear(void)
{
    last_error = RT_OK;
    last_message[0] = '\0';
}

void
rti_assert_fail(const char *expr, const char *why, const char *file, int line, const char *func)
{
    fprintf(stderr, "rt: invariant violated at %s:%d in %s(): %s\n", file, line, func, expr);
    if (why != NULL)
        fprintf(stderr, "rt: possible cause: %s\n", why);
    fflush(stderr);
    abort();
}

RtObject *
rti_nomem(void)
{
    rt_error_set(RT_ERR_NOMEM, "out of memory");
    return NULL;
}

/* ==== start and stop ==================================================== */

int
rt_init(void)
{
    RtConfig cfg;
    rt_config_default(&cfg);
    rt_config_from_env(&cfg, stderr);
    return rt_init_ex(&cfg);
}

int
rt_init_ex(const RtConfig *cfg)
{
    RtRuntime *rt = &rti_runtime;
    if (rt->initialized) {
        rt_error_set(RT_ERR_STATE, "the runtime is already running; call rt_fini() first");
        return -1;
    }
    for (int i = 0; i < RT_GC_GENERATIONS; i++) {
        if (cfg->gc_threshold[i] < 0) {
            rt_error_set(RT_ERR_VALUE, "GC threshold %d is negative (%ld)", i, cfg->gc_threshold[i]);
            return -1;
        }
    }
    rt_error_clear();
    if (cfg->arena_decay_ms < 0 || cfg->arena_decay_ms > RT_ARENA_DECAY_MAX_MS) {
        rt_error_set(RT_ERR_VALUE, "arena decay %lld ms is outside 0..%d", (long long)cfg->arena_decay_ms,
                     RT_ARENA_DECAY_MAX_MS);
        return -1;
    }
    if (rti_heap_init(&rt->heap, cfg->alloc, (double)cfg->arena_decay_ms / 1000.0) < 0)
        return -1;
    rt->config = *cfg;
    rti_types_init(rt);
    rti_gc_init(&rt->gc, cfg);
#if RT_RC_THREADED
    rt->owner = pthread_self();
    atomic_store_explicit(&rt->pending, NULL, memory_order_relaxed);
    rti_threads_init(&rt->threads);
    if (rti_thread_attach(rt) < 0) {
        rti_threads_fini(&rt->threads);
        rti_gc_fini(&rt->gc);
        rti_heap_fini(&rt->heap);
        return -1;
    }
#endif
    rt->initialized = true;
    rti_heap_refresh_fast_path(&rt->heap);
    if (cfg->fail_after != 0)
        rt_fault_inject(cfg->fail_after, cfg->fail_persistent);
    return 0;
}

void
rt_fini(void)
{
    RtRuntime *rt = &rti_runtime;
    if (!rt->initialized)
        return;
#if RT_RC_THREADED
    /* Every queue merged and the per-thread counts folded: what died since
     * the last collection is freed now, not reported as live. */
    rti_world_stop();
    rti_drain_all();
    rti_world_start();
#else
    rt_drain_pending();
#endif
    rt_fault_inject(0, false);
    if (rt->config.show_stats)
        rt_print_stats(stderr);
    rti_gc_fini(&rt->gc);
    rti_classes_fini(rt);
#if RT_RC_THREADED
    RtPoolHeap *mine = rti_theap;
    rt_thread_detach();
    /* No thread is attached now, so every heap is at rest: the last frees
     * (what the merge freed, handed to us; the debug backend's quarantine)
     * use ours, or the first. */
    rti_theap = mine != NULL ? mine : rt->heap.arenas.heaps;
    rt_drain_pending();
    rti_threads_fini(&rt->threads);
#endif
    rt->initialized = false;
    rti_heap_fini(&rt->heap);
#if RT_RC_THREADED
    rti_theap = NULL;
#endif
}

bool rt_is_initialized(void) { return rti_runtime.initialized; }
const RtConfig *rt_config(void) { return &rti_runtime.config; }
