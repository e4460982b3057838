/* thread.h -- thread states: the registry of attached threads, and what
 * each thread owns (internal).
 *
 * In the threaded variants (atomic, biased) every thread that uses the
 * runtime beyond taking and dropping references attaches (rt/thread.h): it
 * gets an RtThreadState, linked into the runtime's registry.  rt_init
 * attaches the calling thread; rt_fini detaches it.
 *
 * What a thread state holds today:
 *   - its id (rt_thread_id(): the address of a thread-local byte), which is
 *     what the biased variant's ob_tid records;
 *   - the biased variant's merge queue: objects whose shared count went
 *     below zero while this thread owned them (brc.c), each holding one
 *     reference, merged by this thread at its next drain.
 *
 * Locking: the registry lock guards the list and every push onto a merge
 * queue (so that a thread that has left the registry gets no more pushes);
 * a thread's queue lock guards its queue against its own drain.
 */
#ifndef RT_THREAD_INTERNAL_H
#define RT_THREAD_INTERNAL_H

#include "rt/rt.h"

#if RT_RC_THREADED
#include <pthread.h>
#include <stdatomic.h>

typedef struct RtMergeQueue {
    pthread_mutex_t lock;
    RtObject **items;
    size_t n, capacity;
    atomic_bool nonempty;       /* a cheap test for the owner's drain */
} RtMergeQueue;

typedef struct RtThreadState {
    uintptr_t tid;
    struct RtThreadState *next;     /* the registry */
    RtMergeQueue merge;
} RtThreadState;

typedef struct RtThreads {
    pthread_mutex_t lock;
    RtThreadState *head;
    uint64_t queue_oom;         /* pushes that found no memory (leaked counts) */
} RtThreads;

extern _Thread_local RtThreadState *rti_tstate;
extern _Thread_local char rt_thread_anchor;
static inline uintptr_t rti_thread_id(void) { return (uintptr_t)&rt_thread_anchor; }

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
#endif
#endif

#endif /* RT_THREAD_INTERNAL_H */
