/* stw.c -- stopping the world: safepoints, parking, blocking (thread.h).
 *
 * A collection in a threaded variant runs with every other attached thread
 * parked at a safepoint or blocked, as CPython's free-threaded build does
 * (_PyEval_StopTheWorld).  Here with one mutex and two condition variables
 * rather than CPython's per-thread states and 1 ms polls: the stopping
 * thread sets RTI_MODE_STOP (which every safepoint tests with one relaxed
 * load) and waits on `parked` until no other thread runs; parked threads
 * wait on `restarted`.  Only one stop runs at a time (`active`); a thread
 * that wants to stop the world while another does parks first.
 */

#include "internal.h"

#if RT_RC_THREADED

void
rti_world_init(RtWorld *w)
{
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->parked, NULL);
    pthread_cond_init(&w->restarted, NULL);
    w->active = false;
    w->stops = 0;
}

void
rti_world_fini(RtWorld *w)
{
    pthread_cond_destroy(&w->restarted);
    pthread_cond_destroy(&w->parked);
    pthread_mutex_destroy(&w->lock);
}

bool
rti_world_others_running(RtThreads *threads, const RtThreadState *self)
{
    bool running = false;
    pthread_mutex_lock(&threads->lock);
    for (RtThreadState *ts = threads->head; ts != NULL && !running; ts = ts->next)
        running = ts != self && ts->status == RTI_THREAD_RUNNING;
    pthread_mutex_unlock(&threads->lock);
    return running;
}

void
rti_world_park_locked(RtWorld *w, RtThreadState *ts)
{
    rti_assert(ts->status == RTI_THREAD_RUNNING);
    ts->status = RTI_THREAD_PARKED;
    pthread_cond_broadcast(&w->parked);
    while (w->active)
        pthread_cond_wait(&w->restarted, &w->lock);
    ts->status = RTI_THREAD_RUNNING;
}

/* Stops this thread has made and not yet ended (a stop nests: statistics
 * read inside a collection's callback stop the world again). */
static _Thread_local int stopping;

double
rti_world_stop(void)
{
    if (stopping++ > 0)
        return 0.0;
    RtThreads *threads = &rti_runtime.threads;
    RtWorld *w = &threads->world;
    RtThreadState *self = rti_tstate;
    pthread_mutex_lock(&w->lock);
    while (w->active) {
        /* Another thread stops the world: be stopped first. */
        if (self != NULL)
            rti_world_park_locked(w, self);
        else
            pthread_cond_wait(&w->restarted, &w->lock);
    }
    w->active = true;
    w->stops++;
    atomic_fetch_or_explicit(&threads->mode, RTI_MODE_STOP, memory_order_seq_cst);
    double t0 = rt_monotonic_s();
    while (rti_world_others_running(threads, self))
        pthread_cond_wait(&w->parked, &w->lock);
    double waited = rt_monotonic_s() - t0;
    pthread_mutex_unlock(&w->lock);
    return waited;
}

void
rti_world_start(void)
{
    rti_assert(stopping > 0);
    if (--stopping > 0)
        return;
    RtWorld *w = &rti_runtime.threads.world;
    pthread_mutex_lock(&w->lock);
    rti_assert(w->active);
    w->active = false;
    atomic_fetch_and_explicit(&rti_runtime.threads.mode, ~RTI_MODE_STOP, memory_order_release);
    pthread_cond_broadcast(&w->restarted);
    pthread_mutex_unlock(&w->lock);
}

void
rti_safepoint_slow(void)
{
    RtThreadState *ts = rti_tstate;
    if (ts == NULL || stopping > 0)
        return;     /* not attached: not counted; or the world is stopped for us */
    RtWorld *w = &rti_runtime.threads.world;
    pthread_mutex_lock(&w->lock);
    if (w->active && ts->status == RTI_THREAD_RUNNING)
        rti_world_park_locked(w, ts);
    pthread_mutex_unlock(&w->lock);
}

void
rt_thread_block_begin(void)
{
    RtThreadState *ts = rti_tstate;
    if (ts == NULL)
        return;
    RtWorld *w = &rti_runtime.threads.world;
    pthread_mutex_lock(&w->lock);
    ts->status = RTI_THREAD_BLOCKED;
    pthread_cond_broadcast(&w->parked);
    pthread_mutex_unlock(&w->lock);
}

void
rt_thread_block_end(void)
{
    RtThreadState *ts = rti_tstate;
    if (ts == NULL)
        return;
    RtWorld *w = &rti_runtime.threads.world;
    pthread_mutex_lock(&w->lock);
    while (w->active)
        pthread_cond_wait(&w->restarted, &w->lock);
    ts->status = RTI_THREAD_RUNNING;
    pthread_mutex_unlock(&w->lock);
}

uint64_t
rt_thread_stops(void)
{
    RtWorld *w = &rti_runtime.threads.world;
    pthread_mutex_lock(&w->lock);
    uint64_t n = w->stops;
    pthread_mutex_unlock(&w->lock);
    return n;
}

#else

void rt_thread_block_begin(void) {}
void rt_thread_block_end(void) {}
uint64_t rt_thread_stops(void) { return 0; }

#endif
