/* fuzz_sched.c -- several threads' operations interleaved by a seeded
 * scheduler, against a reachability oracle (threaded variants).
 *
 * THREADS attached worker threads each hold a hand of references to Nodes
 * (a GC type with two slots).  The input is a program: each operation names
 * the thread that runs it and what it does -- make a Node, drop a reference,
 * store one Node into another's slot (cycles across threads), pass a
 * reference to the shared mailbox or take one from it, reach a safepoint,
 * collect, count a Node per thread (rt_object_enable_thread_counts, on a
 * Node only its maker's hand holds).  The scheduler (the main thread,
 * detached meanwhile) hands a token to one thread per operation, so the
 * interleaving is the input's and runs again identically; the runtime
 * still sees real threads: biased counts owned by one thread and dropped
 * on another, merge queues, stops of the world with the other threads
 * blocked.  A worker attaches at its first turn: until a second one does,
 * the first has the runtime alone, and the Nodes it counts per thread wait
 * for the second (LATER, brc_counts.c).
 *
 * The model records every reference (hands, mailbox, slots).  After every
 * operation: no Node is freed twice, and none that the model can reach from
 * a hand or the mailbox is freed.  After a collection: every Node the model
 * cannot reach is freed (the collection merges every thread's queue with
 * the world stopped, so nothing unreachable survives it).  At the end every
 * Node is freed exactly once and the heap is empty.
 *
 * Built twice: as a ctest program that runs seeded random programs
 * (test_sched_<variant> [SEEDS]), and with -DRT_FUZZ_TARGET as a libFuzzer
 * target (the fuzz preset).
 */
#define _GNU_SOURCE
#include "rt/rt.h"
#include "prng.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !RT_RC_THREADED
#error "fuzz_sched runs a threaded variant"
#endif

#define THREADS 3
#define HAND 6
#define MAILBOX 6
#define MAX_NODES 256
#define MAX_OPS 400

#define COUNTED_NODE_MAX MAX_NODES
#include "../counted_node.h"

/* ==== the model =========================================================== */

typedef struct Model {
    int nnodes;
    int edge[MAX_NODES][2];         /* node ids, -1 for empty */
    int hand[THREADS][HAND];        /* node ids, -1 for empty */
    RtObject *hand_obj[THREADS][HAND];
    int mail[MAILBOX];
    RtObject *mail_obj[MAILBOX];
    RtObject *obj[MAX_NODES];       /* for slots: valid while reachable */
    int maker[MAX_NODES];           /* the thread that made it */
    bool passed[MAX_NODES];         /* ever mailed or stored in a slot */
} Model;

static Model M;
static int failures;

static void
fail(const char *what, int id, int opno)
{
    fprintf(stderr, "fuzz_sched: operation %d: node %d %s\n", opno, id, what);
    failures++;
}

static void
reach_from(int id, bool *seen)
{
    if (id < 0 || seen[id])
        return;
    seen[id] = true;
    reach_from(M.edge[id][0], seen);
    reach_from(M.edge[id][1], seen);
}

static void
reachable(bool *seen)
{
    memset(seen, 0, sizeof(bool) * MAX_NODES);
    for (int t = 0; t < THREADS; t++)
        for (int k = 0; k < HAND; k++)
            reach_from(M.hand[t][k], seen);
    for (int k = 0; k < MAILBOX; k++)
        reach_from(M.mail[k], seen);
}

/* After every operation; `collected`: also every unreachable Node is gone. */
static void
check(int opno, bool collected)
{
    bool seen[MAX_NODES];
    reachable(seen);
    for (int i = 0; i < M.nnodes; i++) {
        int f = atomic_load(&node_freed[i]);
        if (f > 1)
            fail("freed more than once", i, opno);
        else if (seen[i] && f != 0)
            fail("freed while reachable", i, opno);
        else if (collected && !seen[i] && f != 1)
            fail("unreachable and alive after a collection", i, opno);
    }
}

/* ==== the operations ====================================================== */

enum { OP_NEW, OP_DROP, OP_LINK, OP_SEND, OP_RECV, OP_SAFEPOINT, OP_COLLECT, OP_PERTHREAD, OP_COUNT };

typedef struct Op {
    uint8_t thread, kind, a, b, s;
} Op;

static void
set_slot(int from, int s, int to, RtObject *to_obj)
{
    Node *n = (Node *)M.obj[from];
    M.edge[from][s] = to;
    if (to >= 0)
        M.passed[to] = true;
    rt_setref(&n->slot[s], to_obj ? rt_newref(to_obj) : NULL);
}

static void
run_op(int t, const Op *op)
{
    int a = op->a % HAND, b = op->b % HAND, s = op->s % 2, m = op->a % MAILBOX;
    switch (op->kind % OP_COUNT) {
    case OP_NEW:
        if (M.hand[t][a] < 0 && M.nnodes < MAX_NODES) {
            RtObject *o = node_tracked(M.nnodes);
            if (o == NULL)
                return;
            int id = M.nnodes++;
            M.edge[id][0] = M.edge[id][1] = -1;
            M.obj[id] = o;
            M.maker[id] = t;
            M.passed[id] = false;
            M.hand[t][a] = id;
            M.hand_obj[t][a] = o;
        }
        break;
    case OP_DROP:
        if (M.hand[t][a] >= 0) {
            M.hand[t][a] = -1;
            rt_clearref(&M.hand_obj[t][a]);
        }
        break;
    case OP_LINK:       /* hand[a].slot[s] = hand[b] (or empty) */
        if (M.hand[t][a] >= 0)
            set_slot(M.hand[t][a], s, M.hand[t][b], M.hand_obj[t][b]);
        break;
    case OP_SEND:
        if (M.hand[t][a] >= 0 && M.mail[m] < 0) {
            M.passed[M.hand[t][a]] = true;
            M.mail[m] = M.hand[t][a];
            M.mail_obj[m] = M.hand_obj[t][a];
            M.hand[t][a] = -1;
            M.hand_obj[t][a] = NULL;
        }
        break;
    case OP_RECV:
        if (M.mail[m] >= 0 && M.hand[t][b] < 0) {
            M.hand[t][b] = M.mail[m];
            M.hand_obj[t][b] = M.mail_obj[m];
            M.mail[m] = -1;
            M.mail_obj[m] = NULL;
        }
        break;
    case OP_SAFEPOINT:
        rt_thread_safepoint();
        break;
    case OP_PERTHREAD: {    /* only its maker's hand ever held it: allowed */
        int id = M.hand[t][a];
        if (id >= 0 && M.maker[id] == t && !M.passed[id] && rt_object_enable_thread_counts(M.hand_obj[t][a]) != 0)
            fail("refused per-thread counts", id, -1);
        break;
    }
    default:
        rt_gc_collect(2);
        break;
    }
}

/* ==== the scheduler ======================================================= */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int turn = -1, started;
static bool stopping;
static const Op *current;

/* Wait for this thread's turn (false: the program ended), in a blocked
 * stretch when attached: a collection, or another thread's attach, need
 * not wait. */
static bool
wait_turn(int me)
{
    bool attached_here = rt_thread_is_attached();
    if (attached_here)
        rt_thread_block_begin();
    pthread_mutex_lock(&lock);
    while (turn != me && !stopping)
        pthread_cond_wait(&changed, &lock);
    bool mine = turn == me;
    pthread_mutex_unlock(&lock);
    if (attached_here)
        rt_thread_block_end();
    return mine;
}

static void *
worker(void *arg)
{
    int me = (int)(intptr_t)arg;
    pthread_mutex_lock(&lock);
    started++;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    while (wait_turn(me)) {
        if (!rt_thread_is_attached() && rt_thread_attach() != 0)
            abort();
        run_op(me, current);
        pthread_mutex_lock(&lock);
        turn = -1;
        pthread_cond_broadcast(&changed);
        pthread_mutex_unlock(&lock);
    }
    for (int k = 0; k < HAND; k++)
        rt_xdecref(M.hand_obj[me][k]);     /* none unless attached */
    rt_thread_detach();
    return NULL;
}

static void
give_turn(int t, const Op *op)
{
    pthread_mutex_lock(&lock);
    current = op;
    turn = t;
    pthread_cond_broadcast(&changed);
    while (turn != -1)
        pthread_cond_wait(&changed, &lock);
    pthread_mutex_unlock(&lock);
}

/* Run one program; returns the number of failed checks. */
static int
run_program(const Op *ops, int n)
{
    RtConfig cfg;
    rt_config_default(&cfg);
    cfg.gc_threshold[0] = 20;       /* collections by threshold too */
    if (rt_init_ex(&cfg) != 0)
        abort();
    memset(&M, 0, sizeof M);
    memset(M.hand, -1, sizeof M.hand);
    memset(M.mail, -1, sizeof M.mail);
    nodes_forget_frees(0, MAX_NODES);
    failures = 0;
    turn = -1;
    started = 0;
    stopping = false;
    pthread_t th[THREADS];
    rt_thread_detach();             /* the scheduler touches no object */
    for (int t = 0; t < THREADS; t++)
        pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t);
    pthread_mutex_lock(&lock);
    while (started < THREADS)
        pthread_cond_wait(&changed, &lock);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < n; i++) {
        give_turn(ops[i].thread % THREADS, &ops[i]);
        check(i, ops[i].kind % OP_COUNT == OP_COLLECT);
    }
    pthread_mutex_lock(&lock);
    stopping = true;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    if (rt_thread_attach() != 0)
        abort();
    memset(M.hand, -1, sizeof M.hand);
    for (int k = 0; k < MAILBOX; k++)
        rt_xdecref(M.mail_obj[k]);
    memset(M.mail, -1, sizeof M.mail);
    rt_gc_collect(2);
    check(n, true);
    RtAllocStats st;
    rt_alloc_stats(&st);
    if (st.blocks.current != 0) {
        fprintf(stderr, "fuzz_sched: %lld blocks left at the end\n", (long long)st.blocks.current);
        failures++;
    }
    rt_fini();
    return failures;
}

static int
decode(const uint8_t *data, size_t size, Op *ops)
{
    int n = 0;
    for (size_t i = 0; i + 5 <= size && n < MAX_OPS; i += 5)
        ops[n++] = (Op){data[i], data[i + 1], data[i + 2], data[i + 3], data[i + 4]};
    return n;
}

#ifdef RT_FUZZ_TARGET
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static Op ops[MAX_OPS];
    if (run_program(ops, decode(data, size, ops)) != 0)
        abort();
    return 0;
}
#else
int
main(int argc, char **argv)
{
    int seeds = argc > 1 ? atoi(argv[1]) : 60, bad = 0;
    static uint8_t bytes[MAX_OPS * 5];
    static Op ops[MAX_OPS];
    for (int seed = 1; seed <= seeds; seed++) {
        RtPrng r;
        rt_prng_seed(&r, (uint64_t)seed);
        for (size_t i = 0; i < sizeof bytes; i++)
            bytes[i] = (uint8_t)rt_prng_next(&r);
        /* Every other program begins with thread 0 alone for up to 120
         * operations: the runtime unshared, Nodes counted per thread LATER. */
        int alone = seed % 2 ? (int)rt_prng_below(&r, 120) : 0;
        for (int i = 0; i < alone; i++)
            bytes[i * 5] = 0;
        int f = run_program(ops, decode(bytes, sizeof bytes, ops));
        if (f != 0)
            fprintf(stderr, "fuzz_sched: seed %d: %d failed checks\n", seed, f);
        bad += f != 0;
    }
    printf("%d seeded programs of %d operations on %d threads, %d failed\n", seeds, MAX_OPS, THREADS, bad);
    return bad != 0;
}
#endif
