/* alloc.c -- rt_malloc and friends: backend dispatch, fault injection,
 * statistics.
 *
 * The common case is the pool backend with no fault armed: rt_malloc and
 * rt_free test one flag and run the pool's inlined fast path.  Every other
 * case -- another backend, an armed fault, a runtime not started -- goes
 * through alloc_slow/free_slow, which count blocks for the backends that
 * keep no statistics of their own, and fail allocations on purpose.
 *
 * The backends' raw entry points (RtAllocator) are also public, so that the
 * microbenchmarks can time each one by the same route.
 */

#include "internal.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ==== the backends' entry points ======================================== */

static void *pool_api_malloc(size_t n) { return rti_pool_alloc(rti_pool_heap(), n); }
static void *pool_api_realloc(void *p, size_t n) { return rti_pool_realloc(rti_pool_heap(), p, n); }
static void pool_api_free(void *p) { rti_pool_free(&rti_runtime.heap.arenas.map, rti_pool_heap(), p); }  /* NULL: see rt_free */

const RtAllocator rti_pool_allocator = {"pool", pool_api_malloc, pool_api_realloc, pool_api_free};
/* glibc's own functions: this file is never linked with an allocator that
 * overrides them (mimalloc and jemalloc are dlopen'ed RTLD_LOCAL). */
const RtAllocator rti_malloc_allocator = {"malloc", malloc, realloc, free};

static const char *const backend_names[RT_ALLOC_KIND_COUNT] = {
    [RT_ALLOC_POOL] = "pool",
    [RT_ALLOC_MALLOC] = "malloc",
    [RT_ALLOC_DEBUG] = "debug",
    [RT_ALLOC_MIMALLOC] = "mimalloc",
    [RT_ALLOC_JEMALLOC] = "jemalloc",
};

const char *
rt_alloc_name(RtAllocKind kind)
{
    return (unsigned)kind < RT_ALLOC_KIND_COUNT ? backend_names[kind] : "?";
}

int
rt_alloc_parse(const char *name, RtAllocKind *kind)
{
    for (int k = 0; k < RT_ALLOC_KIND_COUNT; k++) {
        if (name != NULL && strcasecmp(name, backend_names[k]) == 0) {
            *kind = (RtAllocKind)k;
            return 0;
        }
    }
    return -1;
}

const RtAllocator *
rt_allocator(RtAllocKind kind)
{
    switch (kind) {
    case RT_ALLOC_POOL: return &rti_pool_allocator;
    case RT_ALLOC_MALLOC: return &rti_malloc_allocator;
    case RT_ALLOC_DEBUG: return &rti_debug_allocator;
    case RT_ALLOC_MIMALLOC:
    case RT_ALLOC_JEMALLOC: return rti_dl_allocator(kind);
    default: return NULL;
    }
}

const RtAllocator *
rt_allocator_direct(RtAllocKind kind)
{
    if (kind == RT_ALLOC_MIMALLOC || kind == RT_ALLOC_JEMALLOC)
        return rti_dl_allocator_direct(kind);
    return rt_allocator(kind);
}

bool
rt_alloc_available(RtAllocKind kind)
{
    return rt_allocator(kind) != NULL;
}

const char *
rt_alloc_unavailable_reason(RtAllocKind kind)
{
    if ((unsigned)kind >= RT_ALLOC_KIND_COUNT)
        return "no such backend";
    if (rt_allocator(kind) != NULL)
        return NULL;
    return rti_dl_unavailable_reason(kind);
}

RtAllocKind
rt_alloc_current(void)
{
    return rti_runtime.heap.backend;
}

/* ==== the heap ========================================================== */

/* Threads read the flags without a lock: once they share the runtime,
 * they change only with the world stopped (rt_fault_inject). */
void
rti_heap_refresh_fast_path(RtHeap *heap)
{
    heap->pool_free = rti_runtime.initialized && heap->backend == RT_ALLOC_POOL;
    bool fast = heap->pool_free && heap->fault.countdown == 0 && !heap->fault.firing;
    heap->fast_small = fast ? RT_SMALL_REQUEST_THRESHOLD : 0;
}

int
rti_heap_init(RtHeap *heap, RtAllocKind backend, double arena_decay_s)
{
    const RtAllocator *vt = rt_allocator(backend);
    if (vt == NULL) {
        const char *why = rt_alloc_unavailable_reason(backend);
        rt_error_set(RT_ERR_VALUE, "allocator backend '%s' is not available: %s", rt_alloc_name(backend),
                     why ? why : "unknown reason");
        return -1;
    }
    memset(heap, 0, sizeof *heap);
    heap->backend = backend;
    heap->vt = vt;
#if RT_RC_THREADED
    /* No heap yet: each thread gets one at attach (pool_heap.c). */
    heap->arenas.heap_size = sizeof(RtThreadHeap);
    heap->arenas.on_heap_init = rti_thread_heap_init;
    RtPoolHeap *first = NULL;
#else
    RtPoolHeap *first = &heap->pool;
#endif
    if (rti_pools_init(&heap->arenas, first, arena_decay_s) < 0) {
        rt_error_set(RT_ERR_NOMEM, "cannot reserve the arena map");
        return -1;
    }
    if (backend == RT_ALLOC_DEBUG && rti_debug_init(heap) < 0)
        return -1;
    return 0;
}

void
rti_heap_fini(RtHeap *heap)
{
    if (heap->backend == RT_ALLOC_DEBUG)
        rti_debug_flush(heap);
#if RT_RC_THREADED
    rti_pools_fini(&heap->arenas, NULL);
#else
    rti_pools_fini(&heap->arenas, &heap->pool);
#endif
    heap->fast_small = 0;
    heap->pool_free = false;
}

/* ==== fault injection =================================================== */

/* Place to set a breakpoint: every injected failure passes here. */
static RT_NOINLINE void
fault_fire(RtFault *f)
{
    f->fired++;
    if (f->persistent)
        f->firing = true;
}

/* True when this allocation must fail. */
static inline bool
fault_check(RtHeap *heap)
{
    RtFault *f = &heap->fault;
    if (f->firing) {
        f->fired++;
        return true;
    }
    if (f->countdown == 0)
        return false;
    if (--f->countdown != 0)
        return false;
    fault_fire(f);
    if (!rti_heap_shared())     /* else off until the next rt_fault_inject */
        rti_heap_refresh_fast_path(heap);
    return true;
}

void
rt_fault_inject(uint64_t nth, bool persistent)
{
    RtHeap *heap = &rti_runtime.heap;
    bool stopped = rti_world_stop_shared();
    bool held = rti_heap_lock();
    heap->fault.countdown = nth;
    heap->fault.persistent = persistent;
    heap->fault.firing = false;
    heap->fault.fired = 0;
    rti_heap_refresh_fast_path(heap);
    rti_heap_unlock(held);
    rti_world_start_shared(stopped);
}

uint64_t rt_fault_countdown(void) { return rti_runtime.heap.fault.countdown; }
uint64_t rt_fault_fired(void) { return rti_runtime.heap.fault.fired; }

/* ==== dispatch ========================================================== */

static inline void
count_block(RtHeap *heap)
{
    RtStatCount *c = &heap->blocks;
    c->allocated++;
    if (++c->current > c->peak)
        c->peak = c->current;
}

static RT_NOINLINE void *
alloc_slow(RtHeap *heap, size_t size)
{
    if (heap->fast_small != 0)
        return rti_pool_alloc_large(rti_pool_heap(), size);    /* 0 or more than 512 bytes */
    if (rt_unlikely(!rti_runtime.initialized)) {
        rt_error_set(RT_ERR_STATE, "rt_malloc called before rt_init()");
        return NULL;
    }
    bool held = rti_heap_lock();
    void *p = NULL;
    if (!fault_check(heap)) {
        p = heap->vt->malloc(size ? size : 1);
        if (p != NULL)
            count_block(heap);
    }
    rti_heap_unlock(held);
    return p != NULL ? p : rti_nomem();
}

/* The fast path: 1..512 bytes from the pool backend with no fault armed,
 * one compare (size - 1 wraps for 0). */
void *
rt_malloc(size_t size)
{
    RtHeap *heap = &rti_runtime.heap;
    if (rt_likely(size - 1 < heap->fast_small))
        return rti_pool_alloc_class(rti_pool_heap(), RTI_SIZE_CLASS(size));   /* the pool sets NOMEM */
    return alloc_slow(heap, size);
}

void *
rt_calloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return rti_nomem();
    size_t n = count * size;
    void *p = rt_malloc(n);
    if (p == NULL)
        return NULL;
    if (n <= 64 && n % sizeof(uintptr_t) == 0)
        rti_zero_words(p, n / sizeof(uintptr_t));     /* a list's few items: no call */
    else
        memset(p, 0, n);
    return p;
}

void *
rt_realloc(void *ptr, size_t size)
{
    RtHeap *heap = &rti_runtime.heap;
    if (ptr == NULL)
        return rt_malloc(size);
    /* realloc(p, 0) may free p and return NULL: ask for one byte instead,
     * as PyMem_RawRealloc does. */
    size = size ? size : 1;
    void *p;
    if (rt_likely(heap->fast_small != 0)) {
        /* The pool backend with no fault armed (rt_malloc's test): the
         * calling thread's heap, and malloc's own realloc for a large
         * block, without the heap lock.  Under it, two threads growing
         * lists took turns at every resize, copy included (list_append at
         * 2 threads: 900 futex waits in 0.3 s). */
        p = rti_pool_realloc(rti_pool_heap(), ptr, size);
    } else {
        if (rt_unlikely(!rti_runtime.initialized)) {
            rt_error_set(RT_ERR_STATE, "rt_realloc called before rt_init()");
            return NULL;
        }
        bool held = rti_heap_lock();
        p = fault_check(heap) ? NULL : heap->vt->realloc(ptr, size);
        rti_heap_unlock(held);
    }
    return p != NULL ? p : rti_nomem();
}

static RT_NOINLINE void
free_slow(RtHeap *heap, void *ptr)
{
    if (!rti_runtime.initialized)
        return;     /* nothing can have come from a heap not started */
    bool held = rti_heap_lock();
    heap->vt->free(ptr);
    heap->blocks.freed++;
    heap->blocks.current--;
    rti_heap_unlock(held);
}

/* NULL needs no test of its own on the pool's path: it is in no arena, so
 * it takes the large path, which ignores it. */
void
rt_free(void *ptr)
{
    RtHeap *heap = &rti_runtime.heap;
    if (rt_likely(heap->pool_free)) {
        rti_pool_free(&heap->arenas.map, rti_pool_heap(), ptr);
        return;
    }
    if (ptr != NULL)
        free_slow(heap, ptr);
}

/* Every heap is trimmed: with the world stopped when threads share the
 * runtime (a full collection has stopped it already). */
void
rti_alloc_trim(bool by_rule)
{
    RtHeap *heap = &rti_runtime.heap;
    if (!rti_runtime.initialized)
        return;
    bool stopped = rti_world_stop_shared();
    bool held = rti_heap_lock();
    if (heap->backend == RT_ALLOC_DEBUG)
        rti_debug_flush(heap);
    rti_pools_trim(&heap->arenas, by_rule);
    rti_heap_unlock(held);
    rti_world_start_shared(stopped);
}

void
rt_alloc_trim(void)
{
    rti_alloc_trim(false);
}

/* ==== statistics ======================================================== */

/* The totals of every block, from the pool's counters or the dispatch's. */
static void
fill_blocks(const RtHeap *heap, RtAllocStats *st)
{
    st->backend = heap->backend;
    st->faults_injected = heap->fault.fired;
    if (heap->backend == RT_ALLOC_POOL) {
        /* Every block is small or large. */
        st->blocks.allocated = st->small.allocated + st->large.allocated;
        st->blocks.freed = st->small.freed + st->large.freed;
        st->blocks.current = st->small.current + st->large.current;
        st->blocks.peak = st->small.peak + st->large.peak;  /* an upper bound */
    } else {
        st->blocks = heap->blocks;
    }
}

/* The totals of every thread's heap, read with the world stopped when
 * threads share the runtime. */
static void
stats(RtAllocStats *st, void (*pools)(RtArenas *, RtAllocStats *))
{
    RtHeap *heap = &rti_runtime.heap;
    memset(st, 0, sizeof *st);
    if (!rti_runtime.initialized)
        return;
    bool stopped = rti_world_stop_shared();
    bool held = rti_heap_lock();
    pools(&heap->arenas, st);
    fill_blocks(heap, st);
    rti_heap_unlock(held);
    rti_world_start_shared(stopped);
}

void rt_alloc_stats(RtAllocStats *st) { stats(st, rti_pools_stats); }
void rt_alloc_stats_counts(RtAllocStats *st) { stats(st, rti_pools_counts); }

void
rt_alloc_stats_thread(RtAllocStats *st)
{
    RtHeap *heap = &rti_runtime.heap;
    memset(st, 0, sizeof *st);
    if (!rti_runtime.initialized || !rt_thread_is_attached())
        return;
    rti_pool_heap_counts(rti_pool_heap(), st);
    bool held = rti_heap_lock();
    fill_blocks(heap, st);
    rti_heap_unlock(held);
}
