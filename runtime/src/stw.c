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
 *
 * Spin, then sleep.  A young collection takes tens of microseconds; a
 * condition variable's sleep and wake-up costs as much again on each side
 * (two futex calls and a reschedule -- more on a VM), and a workload that
 * collects every 700 allocations stops the world thousands of times: at two
 * threads binary_trees took longer than at one.  So both waits first spin
 * for up to RTI_STW_SPIN_S with the world lock released (the stopper
 * polling the count of running threads, RtWorld.running, which every
 * status change keeps under the lock; a parked thread polling the restart
 * count), and sleep on the
 * condition variable only past it -- CPython's PyMutex spins likewise
 * before parking.  Only while the attached threads are no more than the
 * cores: a spinning thread must not hold a core another one needs.
 *
 * Helping.  A parked thread is idle while the stopper works: the stopper
 * may hand it a task (rti_world_help; a collection's passes,
 * gc_parallel.c).  Posting sets `task` and bumps `tasks` under the lock and
 * wakes the sleepers; a parked thread that sees a task it has not run
 * joins it (`helpers`), runs it without the lock, and leaves; the stopper
 * runs it too, then closes it under the lock -- nobody joins after -- and
 * waits until the helpers have left.  The task divides its own work, so
 * a helper that wakes too late finds nothing left and the stopper has
 * done it: nothing waits on a thread that may not come.
 */

#include "internal.h"

#if RT_RC_THREADED

#include <sched.h>
#include <unistd.h>

#define RTI_STW_SPIN_S 100e-6

void
rti_world_init(RtWorld *w)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);    /* spins a little when taken */
    pthread_mutex_init(&w->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    pthread_cond_init(&w->parked, NULL);
    pthread_cond_init(&w->restarted, NULL);
    w->active = false;
    w->stops = 0;
    atomic_store_explicit(&w->restarts, 0, memory_order_relaxed);
    atomic_store_explicit(&w->running, 0, memory_order_relaxed);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    w->cores = cores > 0 ? (size_t)cores : 1;
    w->task = NULL;
    w->task_arg = NULL;
    atomic_store_explicit(&w->tasks, 0, memory_order_relaxed);
    atomic_store_explicit(&w->helpers, 0, memory_order_relaxed);
    w->helped = 0;
}

/* Whether a waiter may spin: every attached thread has a core. */
static bool
may_spin(RtWorld *w)
{
    return w->cores > 1 && rt_thread_count() <= w->cores;
}

/* Spin with the world lock released until done(arg) or RTI_STW_SPIN_S
 * passed; the lock is held again on return.  Returns done's last answer. */
static bool
spin_unlocked(RtWorld *w, bool (*done)(void *), void *arg)
{
    pthread_mutex_unlock(&w->lock);
    double until = rt_monotonic_s() + RTI_STW_SPIN_S;
    bool ok = done(arg);
    for (int polls = 0; !ok; polls++) {
        for (int k = 0; k < 32; k++)
            rti_cpu_relax();
        ok = done(arg);
        if (!ok && (polls & 15) == 15 && rt_monotonic_s() > until)
            break;
    }
    pthread_mutex_lock(&w->lock);
    return ok;
}

void
rti_world_fini(RtWorld *w)
{
    pthread_cond_destroy(&w->restarted);
    pthread_cond_destroy(&w->parked);
    pthread_mutex_destroy(&w->lock);
}

/* A count, not a walk of the registry under its lock: a stopper polls it
 * while it spins, and the parked threads ask how many are attached
 * (may_spin).  Both sides of a stop took the registry's lock, and its
 * contention cost futex calls: biased cycle_storm --n 20000 --rounds 32 at
 * two threads made 1,517-2,715 of them with the walk, 559-652 with the
 * count (three runs each; the wall time the same within the noise).  The
 * acquire pairs with the release of a parking thread's decrement: what it
 * did before it parked is seen by the stopper that sees it parked. */
bool
rti_world_others_running(RtThreads *threads, const RtThreadState *self)
{
    size_t running = atomic_load_explicit(&threads->world.running, memory_order_acquire);
    size_t mine = self != NULL && atomic_load_explicit(&self->status, memory_order_relaxed) == RTI_THREAD_RUNNING;
    rti_assert(running >= mine);
    return running > mine;
}

#if RT_DEBUG >= 2
/* The count agrees with the registry (the world lock held). */
static void
validate_running(RtThreads *threads)
{
    size_t n = 0;
    pthread_mutex_lock(&threads->lock);
    for (RtThreadState *ts = threads->head; ts != NULL; ts = ts->next)
        n += ts->status == RTI_THREAD_RUNNING;
    pthread_mutex_unlock(&threads->lock);
    rti_assert_msg(n == atomic_load_explicit(&threads->world.running, memory_order_relaxed),
                   "the count of running threads disagrees with the registry");
}
#else
static inline void validate_running(RtThreads *threads) { (void)threads; }
#endif

void
rti_world_count_registered_locked(RtWorld *w, const RtThreadState *ts, bool joins)
{
    rti_assert(ts->status == RTI_THREAD_RUNNING);
    if (joins)
        atomic_fetch_add_explicit(&w->running, 1, memory_order_relaxed);
    else
        atomic_fetch_sub_explicit(&w->running, 1, memory_order_release);
}

void
rti_world_set_status_locked(RtWorld *w, RtThreadState *ts, int status)
{
    int was = atomic_load_explicit(&ts->status, memory_order_relaxed);
    atomic_store_explicit(&ts->status, status, memory_order_relaxed);
    if (was == RTI_THREAD_RUNNING && status != RTI_THREAD_RUNNING)
        atomic_fetch_sub_explicit(&w->running, 1, memory_order_release);
    else if (was != RTI_THREAD_RUNNING && status == RTI_THREAD_RUNNING)
        atomic_fetch_add_explicit(&w->running, 1, memory_order_relaxed);
}

typedef struct RestartWait {
    RtWorld *w;
    uint64_t restarts, tasks;       /* as last seen */
} RestartWait;

/* The world started again, or a task was posted. */
static bool
woken(void *arg)
{
    RestartWait *r = arg;
    return atomic_load_explicit(&r->w->restarts, memory_order_acquire) != r->restarts
        || atomic_load_explicit(&r->w->tasks, memory_order_acquire) != r->tasks;
}

/* Run the open task as one of its helpers; the world lock held, released
 * meanwhile. */
static void
help_locked(RtWorld *w)
{
    void (*task)(void *) = w->task;
    void *arg = w->task_arg;
    atomic_fetch_add_explicit(&w->helpers, 1, memory_order_relaxed);
    w->helped++;
    pthread_mutex_unlock(&w->lock);
    task(arg);
    atomic_fetch_sub_explicit(&w->helpers, 1, memory_order_release);    /* its work, to the stopper */
    pthread_mutex_lock(&w->lock);
}

/* A parked thread waits for the restart, running each task posted
 * meanwhile; it spins after parking and after each task (the next one
 * follows within microseconds: a collection's passes), and sleeps past
 * that. */
void
rti_world_park_locked(RtWorld *w, RtThreadState *ts)
{
    rti_assert(ts->status == RTI_THREAD_RUNNING);
    rti_world_set_status_locked(w, ts, RTI_THREAD_PARKED);
    pthread_cond_broadcast(&w->parked);
    RestartWait r = {w, atomic_load_explicit(&w->restarts, memory_order_relaxed),
                     atomic_load_explicit(&w->tasks, memory_order_relaxed)};
    bool spin = true;
    while (w->active) {
        uint64_t tasks = atomic_load_explicit(&w->tasks, memory_order_relaxed);
        if (w->task != NULL && tasks != r.tasks) {
            r.tasks = tasks;
            help_locked(w);
            spin = true;
        } else if (spin && may_spin(w)) {
            spin = false;
            spin_unlocked(w, woken, &r);
        } else {
            pthread_cond_wait(&w->restarted, &w->lock);
        }
    }
    rti_world_set_status_locked(w, ts, RTI_THREAD_RUNNING);
}

/* Every wait for another thread's stop to end goes through here: parked
 * (running the stopper's tasks) when ts is running, else -- blocked, or not
 * attached -- on the restart.  An attached thread's wait is counted for
 * rt_thread_stats (parked_s): two clock reads a wait, against a stop's
 * microseconds. */
void
rti_world_wait_out_locked(RtWorld *w, RtThreadState *ts)
{
    if (!w->active)
        return;
    double since = rt_monotonic_s();
    while (w->active) {
        if (ts != NULL && ts->status == RTI_THREAD_RUNNING)
            rti_world_park_locked(w, ts);
        else
            pthread_cond_wait(&w->restarted, &w->lock);
    }
    if (ts != NULL)
        rti_count_event(&rti_runtime.threads.counters.parked_ns, (uint64_t)((rt_monotonic_s() - since) * 1e9));
}

/* Set while the stopper runs a task as a peer: the safepoints its
 * deallocs pass must not park it on its own stop (rti_safepoint_slow). */
static _Thread_local bool running_as_peer;

/* The stopper's own call of a task: as a peer, without its privileges of
 * the stopped world (other heaps' lists and pools changed with no lock),
 * while the parked threads may change their own at the same time. */
static void
run_as_peer(void (*task)(void *), void *arg)
{
    int stopping = rti_world_stopping;
    rti_world_stopping = 0;
    running_as_peer = true;
    task(arg);
    running_as_peer = false;
    rti_world_stopping = stopping;
}

static void
help(void (*task)(void *), void *arg, bool as_peer)
{
    rti_assert(rti_world_stopped_here());
    RtWorld *w = &rti_runtime.threads.world;
    if (rt_thread_count() < 2) {
        task(arg);
        return;
    }
    pthread_mutex_lock(&w->lock);
    rti_assert(w->active && w->task == NULL);
    w->task = task;
    w->task_arg = arg;
    atomic_fetch_add_explicit(&w->tasks, 1, memory_order_release);
    pthread_cond_broadcast(&w->restarted);      /* the parked threads that sleep */
    pthread_mutex_unlock(&w->lock);
    if (as_peer)
        run_as_peer(task, arg);
    else
        task(arg);
    /* Closed under the lock: no thread joins from now on, and those that
     * did are working, so the wait is short. */
    pthread_mutex_lock(&w->lock);
    w->task = NULL;
    pthread_mutex_unlock(&w->lock);
    for (int i = 0; atomic_load_explicit(&w->helpers, memory_order_acquire) > 0; i++) {
        if (i > 1024)
            sched_yield();      /* a helper may have lost its core */
        else
            rti_cpu_relax();
    }
}

void rti_world_help(void (*task)(void *), void *arg) { help(task, arg, false); }
void rti_world_help_as_peers(void (*task)(void *), void *arg) { help(task, arg, true); }

/* A counter of the world's, read under its lock. */
static uint64_t
read_locked(const uint64_t *counter)
{
    RtWorld *w = &rti_runtime.threads.world;
    pthread_mutex_lock(&w->lock);
    uint64_t n = *counter;
    pthread_mutex_unlock(&w->lock);
    return n;
}

uint64_t rti_world_helped(void) { return read_locked(&rti_runtime.threads.world.helped); }

typedef struct StopWait {
    RtThreads *threads;
    const RtThreadState *self;
} StopWait;

static bool
all_parked(void *arg)
{
    StopWait *sw = arg;
    return !rti_world_others_running(sw->threads, sw->self);
}

/* Stops this thread has made and not yet ended (a stop nests: statistics
 * read inside a collection's callback stop the world again). */
_Thread_local int rti_world_stopping;

double
rti_world_stop(void)
{
    if (rti_world_stopping++ > 0)
        return 0.0;
    RtThreads *threads = &rti_runtime.threads;
    RtWorld *w = &threads->world;
    RtThreadState *self = rti_tstate;
    pthread_mutex_lock(&w->lock);
    rti_world_wait_out_locked(w, self);     /* another thread stops the world: be stopped first */
    w->active = true;
    w->stops++;
    atomic_fetch_or_explicit(&threads->mode, RTI_MODE_STOP, memory_order_seq_cst);
    double t0 = rt_monotonic_s();
    StopWait sw = {threads, self};
    if (rti_world_others_running(threads, self) && may_spin(w))
        spin_unlocked(w, all_parked, &sw);
    while (rti_world_others_running(threads, self))
        pthread_cond_wait(&w->parked, &w->lock);
    validate_running(threads);
    double waited = rt_monotonic_s() - t0;
    pthread_mutex_unlock(&w->lock);
    return waited;
}

void
rti_world_start(void)
{
    rti_assert(rti_world_stopping > 0);
    if (--rti_world_stopping > 0)
        return;
    RtWorld *w = &rti_runtime.threads.world;
    pthread_mutex_lock(&w->lock);
    rti_assert(w->active);
    validate_running(&rti_runtime.threads);
    w->active = false;
    atomic_fetch_add_explicit(&w->restarts, 1, memory_order_release);
    atomic_fetch_and_explicit(&rti_runtime.threads.mode, ~RTI_MODE_STOP, memory_order_release);
    pthread_cond_broadcast(&w->restarted);
    pthread_mutex_unlock(&w->lock);
}

void
rti_safepoint_slow(void)
{
    RtThreadState *ts = rti_tstate;
    /* Not attached: not counted; or the world is stopped for us, by us --
     * also while we run a task as its peer. */
    if (ts == NULL || rti_world_stopped_here() || running_as_peer)
        return;
    RtWorld *w = &rti_runtime.threads.world;
    pthread_mutex_lock(&w->lock);
    if (ts->status == RTI_THREAD_RUNNING)
        rti_world_wait_out_locked(w, ts);
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
    rti_world_set_status_locked(w, ts, RTI_THREAD_BLOCKED);
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
    rti_world_wait_out_locked(w, ts);       /* blocked: on the restart */
    rti_world_set_status_locked(w, ts, RTI_THREAD_RUNNING);
    pthread_mutex_unlock(&w->lock);
}

uint64_t rt_thread_stops(void) { return read_locked(&rti_runtime.threads.world.stops); }

#else

void rt_thread_block_begin(void) {}
void rt_thread_block_end(void) {}
uint64_t rt_thread_stops(void) { return 0; }

#endif
