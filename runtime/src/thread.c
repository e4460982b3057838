/* thread.c -- attaching threads to the runtime; the registry of thread
 * states (thread.h). */

#include "internal.h"

#include <stdlib.h>

#if RT_RC_THREADED

_Thread_local RtThreadState *rti_tstate;
#if RT_RC_ATOMIC
_Thread_local char rt_thread_anchor;     /* brc.c defines it when biased */
#endif

void
rti_threads_init(RtThreads *threads)
{
    pthread_mutex_init(&threads->lock, NULL);
    threads->head = NULL;
    threads->queue_oom = 0;
}

void
rti_threads_fini(RtThreads *threads)
{
    rti_assert_msg(threads->head == NULL, "rt_fini with threads still attached");
    pthread_mutex_destroy(&threads->lock);
}

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

int
rti_thread_attach(RtRuntime *rt)
{
    RtThreadState *ts = calloc(1, sizeof *ts);
    if (ts == NULL) {
        rti_nomem();
        return -1;
    }
    ts->tid = rti_thread_id();
    pthread_mutex_init(&ts->merge.lock, NULL);
    pthread_mutex_lock(&rt->threads.lock);
    ts->next = rt->threads.head;
    rt->threads.head = ts;
    pthread_mutex_unlock(&rt->threads.lock);
    rti_tstate = ts;
    return 0;
}

void
rt_thread_detach(void)
{
    RtThreadState *ts = rti_tstate;
    if (ts == NULL)
        return;
    RtThreads *threads = &rti_runtime.threads;
    pthread_mutex_lock(&threads->lock);
    for (RtThreadState **p = &threads->head; *p != NULL; p = &(*p)->next) {
        if (*p == ts) {
            *p = ts->next;
            break;
        }
    }
    pthread_mutex_unlock(&threads->lock);
    /* Out of the registry, nobody pushes to our queue any more: merge what
     * was pushed before (we are still the owner of those objects). */
#if RT_RC_BIASED
    rti_brc_merge_queue(ts);
#endif
    rti_tstate = NULL;
    pthread_mutex_destroy(&ts->merge.lock);
    free(ts->merge.items);
    free(ts);
}

bool rt_thread_is_attached(void) { return rti_tstate != NULL; }

size_t
rt_thread_count(void)
{
    RtThreads *threads = &rti_runtime.threads;
    size_t n = 0;
    pthread_mutex_lock(&threads->lock);
    for (RtThreadState *ts = threads->head; ts != NULL; ts = ts->next)
        n++;
    pthread_mutex_unlock(&threads->lock);
    return n;
}

void
rt_thread_safepoint(void)
{
#if RT_RC_BIASED
    if (rti_tstate != NULL)
        rti_brc_merge_queue(rti_tstate);
#endif
}

#else /* one thread */

int rt_thread_attach(void) { return 0; }
void rt_thread_detach(void) {}
bool rt_thread_is_attached(void) { return rti_runtime.initialized; }
size_t rt_thread_count(void) { return rti_runtime.initialized ? 1 : 0; }
void rt_thread_safepoint(void) {}

#endif
