/* thread.c -- attaching threads to the runtime; the registry of thread
 * states (thread.h).  Stopping the world is in stw.c. */

#include "internal.h"

#include <stdlib.h>
#include <string.h>

#if RT_RC_THREADED

_Thread_local RtThreadState *rti_tstate;
_Thread_local RtPoolHeap *rti_theap;
/* Set while a detaching thread merges its queue: its deallocations must
 * not start a collection (it holds the world lock). */
_Thread_local bool rti_no_collect;

void
rti_threads_init(RtThreads *threads)
{
    pthread_mutex_init(&threads->lock, NULL);
    pthread_mutex_init(&threads->heap_lock, NULL);
    threads->head = NULL;
    atomic_store_explicit(&threads->attached, 0, memory_order_relaxed);
    memset(threads->index_used, 0, sizeof threads->index_used);
    threads->index_used[0] = 1;     /* index 0: merged objects' tid */
    threads->index_hint = 1;
    threads->queue_oom = 0;
    RtThreadCounters *c = &threads->counters;
    atomic_init(&c->remote_list_changes, 0);
    atomic_init(&c->bias_revocations, 0);
    atomic_init(&c->parallel_deletes, 0);
    atomic_init(&c->blocks_sent_home, 0);
    atomic_init(&c->queued_to_owner, 0);
    atomic_store_explicit(&threads->mode, 0, memory_order_relaxed);
    rti_world_init(&threads->world);
#if RT_RC_BIASED
    rti_brc_ids_init(&threads->ids);
#endif
}

void
rti_threads_fini(RtThreads *threads)
{
    rti_assert_msg(threads->head == NULL, "rt_fini with threads still attached");
#if RT_RC_BIASED
    rti_brc_ids_fini(&threads->ids);
#endif
    rti_world_fini(&threads->world);
    atomic_store_explicit(&threads->mode, 0, memory_order_relaxed);
    pthread_mutex_destroy(&threads->heap_lock);
    pthread_mutex_destroy(&threads->lock);
}

/* ==== thread indices ===================================================== */

static bool
index_is_used(const RtThreads *threads, uint32_t i)
{
    return (threads->index_used[i / 64] >> (i % 64)) & 1;
}

/* A free index, marked used; 0 when all RTI_THREAD_INDEX_MAX are taken.
 * Registry lock held.  Starts where the last search ended, so that an
 * index is reused only after the others had their turn. */
static uint32_t
index_take_locked(RtThreads *threads)
{
    uint32_t i = threads->index_hint;
    for (uint32_t tried = 0; tried < RTI_THREAD_INDEX_MAX; tried++, i = i % RTI_THREAD_INDEX_MAX + 1) {
        if (!index_is_used(threads, i)) {
            threads->index_used[i / 64] |= (uint64_t)1 << (i % 64);
            threads->index_hint = i % RTI_THREAD_INDEX_MAX + 1;
            return i;
        }
    }
    return 0;
}

static void
index_release_locked(RtThreads *threads, uint32_t i)
{
    rti_assert(i >= 1 && i <= RTI_THREAD_INDEX_MAX && index_is_used(threads, i));
    threads->index_used[i / 64] &= ~((uint64_t)1 << (i % 64));
}

/* ==== the registry ======================================================= */

RtThreadState *
rti_thread_find_locked(RtThreads *threads, uintptr_t tid)
{
    for (RtThreadState *ts = threads->head; ts != NULL; ts = ts->next)
        if (ts->tid == tid)
            return ts;
    return NULL;
}

int
rt_thread_attach(void)
{
    if (!rti_runtime.initialized) {
        rt_error_set(RT_ERR_STATE, "rt_thread_attach before rt_init()");
        return -1;
    }
    if (rti_tstate != NULL) {
        rt_error_set(RT_ERR_STATE, "this thread is attached already");
        return -1;
    }
    return rti_thread_attach(&rti_runtime);
}

/* The first time a second thread attaches, the running threads are
 * stopped once, so that none is half way through an operation that took no
 * lock, and the heap lock goes on for good for what still takes it
 * (thread.h).  World lock held. */
static void
share_the_heap_locked(RtThreads *threads)
{
    RtWorld *w = &threads->world;
    if ((atomic_load_explicit(&threads->mode, memory_order_relaxed) & RTI_MODE_SHARED) || threads->head == NULL)
        return;
    w->active = true;
    atomic_fetch_or_explicit(&threads->mode, RTI_MODE_STOP, memory_order_seq_cst);
    while (rti_world_others_running(threads, NULL))
        pthread_cond_wait(&w->parked, &w->lock);
#if RT_RC_BIASED
    rti_brc_counts_share(threads);      /* before the homes: their owners change */
#endif
    rti_gc_share(&rti_runtime.gc);      /* tracked objects to their homes (gc_heap.c) */
    rti_pools_share(&rti_runtime.heap.arenas);     /* the one heap's peak so far (pool_heap.c) */
    rti_types_share();                  /* the peaks' running totals (object.c) */
    atomic_fetch_or_explicit(&threads->mode, RTI_MODE_SHARED, memory_order_seq_cst);
    w->active = false;
    atomic_fetch_and_explicit(&threads->mode, ~RTI_MODE_STOP, memory_order_release);
    pthread_cond_broadcast(&w->restarted);
}

/* Undo an attach that failed before the thread was registered (the world
 * lock held: released here); returns -1. */
static int
attach_undo(RtWorld *w, RtThreadState *ts)
{
    if (ts->heap != NULL)
        rti_pool_heap_abandon(ts->heap);
    pthread_mutex_unlock(&w->lock);
    pthread_mutex_destroy(&ts->merge.lock);
    free(ts);
    return -1;
}

int
rti_thread_attach(RtRuntime *rt)
{
    RtThreadState *ts = calloc(1, sizeof *ts);
    if (ts == NULL) {
        rti_nomem();
        return -1;
    }

    ts->status = RTI_THREAD_RUNNING;
#if RT_RC_BIASED
    ts->counts = &rt_thread_counts;
#endif
    pthread_mutex_init(&ts->merge.lock, NULL);
    RtWorld *w = &rt->threads.world;
    pthread_mutex_lock(&w->lock);
    while (w->active)       /* not registered yet: not waited for */
        pthread_cond_wait(&w->restarted, &w->lock);
    share_the_heap_locked(&rt->threads);
    /* A heap, adopted while no collection runs (one trims the abandoned
     * heaps): an attached thread allocates (pool_heap.c). */
    ts->heap = rti_pool_heap_adopt(&rt->heap.arenas);
    if (ts->heap == NULL) {
        attach_undo(w, ts);
        rti_nomem();
        return -1;
    }
    pthread_mutex_lock(&rt->threads.lock);
    ts->tid = index_take_locked(&rt->threads);
    if (ts->tid != 0) {
        ts->next = rt->threads.head;
        rt->threads.head = ts;
        atomic_fetch_add_explicit(&rt->threads.attached, 1, memory_order_release);
        rti_world_count_registered_locked(w, ts, true);
    }
    pthread_mutex_unlock(&rt->threads.lock);
    if (ts->tid == 0) {
        attach_undo(w, ts);
        rt_error_set(RT_ERR_STATE, "rt_thread_attach: %u threads are attached already, the most the biased "
                                   "header's thread index holds; detach one first", RTI_THREAD_INDEX_MAX);
        return -1;
    }
    rti_gc_heaps_retune(&rt->gc);       /* one thread more: smaller batches */
    pthread_mutex_unlock(&w->lock);
    rti_tstate = ts;
    rti_theap = ts->heap;
#if RT_RC_BIASED
    rt_thread_tag = RT_TID_LOCAL(ts->tid, 0);
#endif
    return 0;
}

/* Leave the registry; the index stays taken until the thread has given
 * up its ownership (rt_thread_detach). */
static void
unregister(RtThreads *threads, RtThreadState *ts)
{
    pthread_mutex_lock(&threads->lock);
    for (RtThreadState **p = &threads->head; *p != NULL; p = &(*p)->next) {
        if (*p == ts) {
            *p = ts->next;
            atomic_fetch_sub_explicit(&threads->attached, 1, memory_order_release);
            rti_world_count_registered_locked(&threads->world, ts, false);
            break;
        }
    }
    pthread_mutex_unlock(&threads->lock);
}

/* The thread stops owning its objects: from now on it counts them as any
 * other thread does, and the next thread given its index owns them. */
static void
give_up_index(RtThreads *threads, RtThreadState *ts)
{
#if RT_RC_BIASED
    rt_thread_tag = RT_THREAD_TAG_NONE;
#endif
    pthread_mutex_lock(&threads->lock);
    index_release_locked(threads, (uint32_t)ts->tid);
    pthread_mutex_unlock(&threads->lock);
}

/* Leave the registry (no more pushes onto our queue), then merge what was
 * pushed, holding the world lock so that no collection starts meanwhile:
 * the merge writes counts and may free objects. */
void
rt_thread_detach(void)
{
    RtThreadState *ts = rti_tstate;
    if (ts == NULL)
        return;
    RtThreads *threads = &rti_runtime.threads;
    RtWorld *w = &threads->world;
    pthread_mutex_lock(&w->lock);
    rti_world_wait_out_locked(w, ts);       /* running: parked; blocked: on the restart */
    rti_world_set_status_locked(w, ts, RTI_THREAD_RUNNING);
    unregister(threads, ts);
    rti_gc_heaps_retune(&rti_runtime.gc);
#if RT_RC_BIASED
    rti_no_collect = true;
    rti_brc_merge_queue(ts);
    rti_no_collect = false;
    rti_brc_counts_leave(threads);
#endif
    give_up_index(threads, ts);
    rti_gc_heap_leave((RtThreadHeap *)ts->heap);
    rti_pool_heap_abandon(ts->heap);    /* blocks still live (pool_heap.c) */
    rti_theap = NULL;
    rti_tstate = NULL;
    pthread_cond_broadcast(&w->parked);
    pthread_mutex_unlock(&w->lock);
    pthread_mutex_destroy(&ts->merge.lock);
    free(ts->merge.objects.items);
    free(ts);
}

bool rt_thread_is_attached(void) { return rti_tstate != NULL; }

/* Without the registry's lock: the parked threads and the stopper ask at
 * every stop (stw.c). */
size_t
rt_thread_count(void)
{
    return atomic_load_explicit(&rti_runtime.threads.attached, memory_order_acquire);
}

void
rt_thread_safepoint(void)
{
    rti_safepoint();
#if RT_RC_BIASED
    if (rti_tstate != NULL)
        rti_brc_merge_queue(rti_tstate);
#endif
}

static uint64_t
read_counter(const _Atomic uint64_t *counter)
{
    return atomic_load_explicit((_Atomic uint64_t *)counter, memory_order_relaxed);
}

void
rt_thread_stats(RtThreadStats *out)
{
    RtThreads *threads = &rti_runtime.threads;
    const RtThreadCounters *c = &threads->counters;
    pthread_mutex_lock(&threads->lock);
    uint64_t queue_oom = threads->queue_oom;
    pthread_mutex_unlock(&threads->lock);
    *out = (RtThreadStats){
        .stops = rt_thread_stops(),
        .tasks_helped = rti_world_helped(),
        .parallel_deletes = read_counter(&c->parallel_deletes),
        .remote_list_changes = read_counter(&c->remote_list_changes),
        .bias_revocations = read_counter(&c->bias_revocations),
        .blocks_sent_home = read_counter(&c->blocks_sent_home),
        .queued_to_owner = read_counter(&c->queued_to_owner),
        .queue_oom = queue_oom,
        .parked_s = (double)read_counter(&c->parked_ns) * 1e-9,
    };
}

#else /* one thread */

void rt_thread_stats(RtThreadStats *out) { *out = (RtThreadStats){0}; }
int rt_thread_attach(void) { return 0; }
void rt_thread_detach(void) {}
bool rt_thread_is_attached(void) { return rti_runtime.initialized; }
size_t rt_thread_count(void) { return rti_runtime.initialized ? 1 : 0; }
void rt_thread_safepoint(void) {}

#endif
