/* thread.h -- thread states: the registry of attached threads, and what
 * each thread owns (internal).
 *
 * In the threaded variants (atomic, biased) every thread that uses the
 * runtime beyond taking and dropping references attaches (rt/thread.h): it
 * gets an RtThreadState, linked into the runtime's registry.  rt_init
 * attaches the calling thread; rt_fini detaches it.
 *
 * What a thread state holds today:
 *   - its index, 1..RTI_THREAD_INDEX_MAX, unique among the attached
 *     threads and reused once a thread detaches: what the biased
 *     variant's objects record as their owner (rt/brc.h);
 *   - its pool heap (pool_heap.c): its size-class pools and free caches,
 *     used without a lock (also reached as rti_theap); adopted at attach,
 *     abandoned at detach with its blocks still live;
 *   - the biased variant's merge queue: objects whose shared count went
 *     below zero while this thread owned them (brc.c), each holding one
 *     reference, merged by this thread at its next drain;
 *   - its status for stopping the world (stw.c): running, blocked (it
 *     promised not to touch objects: rt_thread_block_begin), or parked at
 *     a safepoint.
 *
 * Stopping the world: a thread that collects sets `requested`, and waits
 * until every other attached thread is parked or blocked; each running
 * thread parks at its next safepoint (object allocation, and
 * rt_thread_safepoint) until the world starts again.
 *
 * Sharing: the pool allocator takes no lock (each thread its own heap; the
 * shared arenas have their own lock, pool_arena.c).  While one thread is
 * attached, the type statistics and the collector's lists and count are
 * the runtime's, used without a lock, as in the single-threaded build.
 * When a second thread attaches, the world is stopped once (so that no
 * thread is half way through an unlocked operation), `shared` is set for
 * good, every tracked object goes to its home heap's lists, and from then
 * on each thread counts in its own heap (RtThreadHeap: gc_heap.c,
 * object.c).  The heap lock (rti_heap_lock) remains for what has no home:
 * objects outside the pools on the global lists, the other backends'
 * calls, fault injection, the collector's 'collecting' flag.  Reading
 * every heap's statistics, and trimming them, stops the world.
 *
 * Locking order: world lock, then registry lock, then heap lock, then the
 * arenas' lock.  The
 * registry lock guards the list and every push onto a merge queue (so that
 * a thread that has left the registry gets no more pushes); a thread's
 * queue lock guards its queue against its own drain.
 */
#ifndef RT_THREAD_INTERNAL_H
#define RT_THREAD_INTERNAL_H

#include "rt/rt.h"
#include "pool.h"

/* The bits of RtThreads.mode (zero in the nonatomic variant). */
enum { RTI_MODE_SHARED = 1u, RTI_MODE_STOP = 2u };

#if RT_RC_THREADED
#include <pthread.h>
#include <stdatomic.h>

/* A growable array of objects, guarded by its holder's lock: a merge
 * queue's, the objects waiting for per-thread counts. */
typedef struct RtObjectArray {
    RtObject **items;
    size_t n, capacity;
} RtObjectArray;

typedef struct RtMergeQueue {
    pthread_mutex_t lock;
    RtObjectArray objects;
    atomic_bool nonempty;       /* a cheap test for the owner's drain */
} RtMergeQueue;

enum { RTI_THREAD_RUNNING, RTI_THREAD_BLOCKED, RTI_THREAD_PARKED };

/* The ids of the objects counted per thread (brc_counts.c), under its
 * lock: objects[id] is the object (NULL: a free id, on the free stack);
 * id 0 is never given, since tid 0 means merged.  waiting[] holds the
 * objects enabled while one thread had the runtime (RT_REF_LATER): they
 * get their ids when a second thread attaches. */
typedef struct RtRefIds {
    pthread_mutex_t lock;
    RtObject **objects;
    size_t size;                    /* ids handed out so far, 0 included */
    size_t capacity;
    size_t *free_ids, nfree;        /* released ids, reused first */
    size_t live;                    /* objects counted per thread now */
    RtObjectArray waiting;          /* enabled, counted per thread later */
} RtRefIds;

/* The most threads attached at once: the biased header's 16-bit tid field
 * (rt/brc.h), whose 0 means merged and 0xffff no thread. */
#define RTI_THREAD_INDEX_MAX 0xfffeu
#if RT_RC_BIASED
_Static_assert(RTI_THREAD_INDEX_MAX == RT_TID_MAX, "thread indices are the biased header's tids");
#endif

typedef struct RtThreadState {
    uintptr_t tid;                  /* its index */
    RtPoolHeap *heap;               /* its pool heap (pool_heap.c), also rti_theap */
    struct RtThreadState *next;     /* the registry */
    RtMergeQueue merge;
#if RT_RC_BIASED
    RtThreadCounts *counts;         /* its rt_thread_counts (rt/brc.h) */
#endif
    _Atomic int status;             /* RTI_THREAD_*, written under the world lock (read
                                     * without it by a spinning stopper) */
} RtThreadState;

typedef struct RtWorld {
    pthread_mutex_t lock;
    pthread_cond_t parked;          /* a thread parked or blocked */
    pthread_cond_t restarted;       /* the world started again */
    bool active;                    /* a stop is in progress */
    uint64_t stops;
    _Atomic uint64_t restarts;      /* world starts: what a spinning parked thread polls */
    /* Registered threads whose status is RTI_THREAD_RUNNING: what a
     * stopper tests, spinning without a lock.  Written under the lock, by
     * each status change (rti_world_set_status_locked) and each
     * registration. */
    _Atomic size_t running;
    size_t cores;                   /* online CPUs: spin only while threads <= cores */
    /* Work the stopper shares with the parked threads (rti_world_help). */
    void (*task)(void *);           /* under the lock; NULL: none open */
    void *task_arg;
    _Atomic uint64_t tasks;         /* tasks posted: what a spinning parked thread polls */
    atomic_int helpers;             /* parked threads inside the open task */
    uint64_t helped;                /* parked threads' calls of a task, under the lock */
} RtWorld;

/* rt_thread_stats' counters that the slow paths bump, from any thread
 * (relaxed atomics); reset by rt_init. */
typedef struct RtThreadCounters {
    _Atomic uint64_t remote_list_changes;   /* gc_heap.c */
    _Atomic uint64_t bias_revocations;      /* gc_heap.c */
    _Atomic uint64_t parallel_deletes;      /* gc_parallel.c */
    _Atomic uint64_t blocks_sent_home;      /* pool.c */
    _Atomic uint64_t queued_to_owner;       /* brc_queue.c */
    _Atomic uint64_t parked_ns;             /* stw.c: threads waiting out another's stop */
} RtThreadCounters;

static inline void
rti_count_event(_Atomic uint64_t *counter, uint64_t n)
{
    atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

typedef struct RtThreads {
    pthread_mutex_t lock;
    RtThreadState *head;
    _Atomic size_t attached;    /* the registry's length (rt_thread_count), written under the lock */
    /* The indices in use, a bit each (bit 0 and RT_TID_NONE's: never
     * given), and where the next search starts; under the lock. */
    uint64_t index_used[(RTI_THREAD_INDEX_MAX + 2) / 64];
    uint32_t index_hint;
    uint64_t queue_oom;         /* pushes that found no memory (leaked counts) */
    RtThreadCounters counters;
    RtWorld world;
    pthread_mutex_t heap_lock;
    /* What the object fast paths test, in one load: RTI_MODE_SHARED once a
     * second thread attached (lock), RTI_MODE_STOP while a stop is asked
     * (park at the next safepoint). */
    atomic_uint mode;
#if RT_RC_BIASED
    RtRefIds ids;
#endif
} RtThreads;


extern _Thread_local RtThreadState *rti_tstate;
extern _Thread_local bool rti_no_collect;

struct RtRuntime;
/* Attach the calling thread without the public checks (rt_init). */
int rti_thread_attach(struct RtRuntime *rt);

void rti_threads_init(RtThreads *threads);
void rti_threads_fini(RtThreads *threads);
/* The registered thread with this id, or NULL; the registry lock held. */
RtThreadState *rti_thread_find_locked(RtThreads *threads, uintptr_t tid);
#if RT_RC_BIASED
/* Merge the objects queued to ts (brc.c); ts's thread calls, or ts's
 * thread is stopped.  Returns how many were freed. */
size_t rti_brc_merge_queue(RtThreadState *ts);
/* Append op to a (brc_queue.c); false when there is no memory. */
bool rti_object_array_push(RtObjectArray *a, RtObject *op);
/* Per-thread counts (brc_counts.c).  Fold every attached thread's counts
 * into the shared ones and free the objects whose count is then zero;
 * returns how many were freed.  The world stopped, or the caller alone. */
size_t rti_brc_fold_counts(RtThreads *threads);
/* The calling thread detaches: its counts go into the shared ones. */
void rti_brc_counts_leave(RtThreads *threads);
/* A second thread attaches, the world stopped: the objects waiting for
 * per-thread counts get them. */
void rti_brc_counts_share(RtThreads *threads);
void rti_brc_ids_init(RtRefIds *ids);
void rti_brc_ids_fini(RtRefIds *ids);
#endif

/* ---- stopping the world (stw.c) ---- */
void rti_world_init(RtWorld *w);
void rti_world_fini(RtWorld *w);
/* Stop every other attached thread at a safepoint; returns the seconds it
 * took them to get there.  The caller is attached (or alone). */
double rti_world_stop(void);
void rti_world_start(void);
/* Stops the calling thread has made and not ended (stw.c). */
extern _Thread_local int rti_world_stopping;
/* Whether the world is stopped by the calling thread: every other attached
 * thread parked or blocked, touching no object. */
static inline bool rti_world_stopped_here(void) { return rti_world_stopping > 0; }
/* Park the calling thread if a stop is in progress (the safepoint's slow
 * path). */
void rti_safepoint_slow(void);
/* Is any registered thread other than self running?  Exact with the world
 * lock held; without it (a spinning stopper) a snapshot. */
bool rti_world_others_running(RtThreads *threads, const RtThreadState *self);
/* A running thread joins (or leaves) the registry: the count of running
 * threads with it; the world lock held. */
void rti_world_count_registered_locked(RtWorld *w, const RtThreadState *ts, bool joins);
/* A registered thread's status to status, and the count of running
 * threads with it; the world lock held. */
void rti_world_set_status_locked(RtWorld *w, RtThreadState *ts, int status);
/* Park ts until the world starts; world lock held, ts running.  While
 * parked it runs the tasks the stopper shares (rti_world_help). */
void rti_world_park_locked(RtWorld *w, RtThreadState *ts);
/* Wait until no stop is in progress, world lock held: parked if ts is a
 * running thread, else on the restart; an attached thread's wait counted
 * in rt_thread_stats' parked_s.  Returns at once with no stop. */
void rti_world_wait_out_locked(RtWorld *w, RtThreadState *ts);
/* Called by the thread that stopped the world: run task(arg) on this
 * thread and on each parked thread that answers in time, and return once
 * every one of those calls has returned.  The task divides its work
 * itself (each call claims parts until none is left), so any number of
 * callers, one included, does all of it.  A parked thread runs it with
 * its own thread-locals (rti_theap: it may claim its own heap's part
 * first) and must not allocate, park or stop the world (the safepoints
 * its deallocs pass do not park it: internal.h). */
void rti_world_help(void (*task)(void *), void *arg);
/* rti_world_help for a task whose calls change their own thread's heap
 * (frees, untracks) while the others run theirs: the stopper runs its call
 * as they do, through the owners' locks and delayed lists, not with the
 * stopped world's shortcuts (rti_world_stopped_here() is false inside). */
void rti_world_help_as_peers(void (*task)(void *), void *arg);
/* Calls of a task by parked threads since the start (rt_thread_stats). */
uint64_t rti_world_helped(void);
#endif

#endif /* RT_THREAD_INTERNAL_H */
