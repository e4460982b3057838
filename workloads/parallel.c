/* parallel.c -- rt_workload_parallel (parallel.h). */
#include "parallel.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* The start line: the parts report in once attached (or failed to), and
 * thread 0 lets them all go together -- so that no part runs alone while
 * the others are still being created and attached (0.3-7.6 ms a thread on
 * a 2-core VM), which made the parts end unevenly and the first one run
 * before the runtime was shared (a stop at the next safepoint).  Every
 * attached thread waits in a blocked stretch: an attach may stop the
 * world. */
typedef struct StartLine {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int ready;          /* parts reported in */
    bool go;
} StartLine;

/* Report in; an attached part then waits for the go. */
static void
line_report(StartLine *line, bool attached)
{
    if (attached)
        rt_thread_block_begin();
    pthread_mutex_lock(&line->lock);
    line->ready++;
    pthread_cond_broadcast(&line->changed);
    while (attached && !line->go)
        pthread_cond_wait(&line->changed, &line->lock);
    pthread_mutex_unlock(&line->lock);
    if (attached)
        rt_thread_block_end();
}

/* Thread 0: wait for the parts that started to report in, then go. */
static void
line_start(StartLine *line, int parts)
{
    rt_thread_block_begin();
    pthread_mutex_lock(&line->lock);
    while (line->ready < parts)
        pthread_cond_wait(&line->changed, &line->lock);
    line->go = true;
    pthread_cond_broadcast(&line->changed);
    pthread_mutex_unlock(&line->lock);
    rt_thread_block_end();
}

typedef struct Part {
    StartLine *line;
    pthread_t thread;
    RtWorkloadCtx *ctx;
    RtWorkloadBody body;
    void *arg;
    int index, threads;
    int status;
    int64_t check;
    RtError error;
    char message[160];
} Part;

static void
keep_error(Part *p)
{
    p->error = rt_error();
    snprintf(p->message, sizeof p->message, "%s", rt_error_message());
}

static void *
part_main(void *arg)
{
    Part *p = arg;
    if (rt_thread_attach() != 0) {
        p->status = -1;
        keep_error(p);
        line_report(p->line, false);
        return NULL;
    }
    void (*hook)(RtWorkloadCtx *, bool) = p->ctx->ops->thread;
    if (hook != NULL)
        hook(p->ctx, true);
    line_report(p->line, true);
    p->status = p->body(p->arg, p->index, p->threads, &p->check);
    if (p->status < 0)
        keep_error(p);
    if (hook != NULL)
        hook(p->ctx, false);
    rt_thread_detach();
    return NULL;
}

/* Start parts 1..n-1; returns how many started (the rest failed). */
static int
start_parts(Part *parts, int n)
{
    for (int i = 1; i < n; i++) {
        if (pthread_create(&parts[i].thread, NULL, part_main, &parts[i]) != 0) {
            rt_error_set(RT_ERR_NOMEM, "cannot start thread %d of %d", i, n);
            return i;
        }
    }
    return n;
}

int
rt_workload_parallel(RtWorkloadCtx *ctx, int64_t threads, RtWorkloadBody body, void *arg, int64_t *check)
{
    if (ctx->only_part > 0) {
        if (ctx->only_part > threads) {
            rt_error_set(RT_ERR_VALUE, "part %d of %lld threads: no such part", ctx->only_part, (long long)threads);
            return -1;
        }
        return body(arg, ctx->only_part - 1, (int)threads, check);
    }
    if (threads <= 1)
        return body(arg, 0, 1, check);
    if (!RT_RC_THREADED || threads > RT_WORKLOAD_MAX_THREADS) {
        if (RT_RC_THREADED)
            rt_error_set(RT_ERR_VALUE, "at most %d threads", RT_WORKLOAD_MAX_THREADS);
        else
            rt_error_set(RT_ERR_VALUE, "threads > 1 needs a threaded refcount variant (--rc atomic or biased)");
        return -1;
    }
    int n = (int)threads;
    Part *parts = calloc((size_t)n, sizeof *parts);     /* not the runtime's heap */
    if (parts == NULL) {
        rt_error_set(RT_ERR_NOMEM, "out of memory");
        return -1;
    }
    StartLine line = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, false};
    for (int i = 0; i < n; i++)
        parts[i] = (Part){.line = &line, .ctx = ctx, .body = body, .arg = arg, .index = i, .threads = n};
    int started = start_parts(parts, n);
    line_start(&line, started - 1);
    int status = started == n ? body(arg, 0, n, &parts[0].check) : -1;
    rt_thread_block_begin();    /* the joins wait: a collection need not */
    for (int i = 1; i < started; i++)
        pthread_join(parts[i].thread, NULL);
    rt_thread_block_end();
    pthread_cond_destroy(&line.changed);
    pthread_mutex_destroy(&line.lock);
    for (int i = 0; i < started; i++) {
        *check += parts[i].check;
        if (i > 0 && parts[i].status < 0 && status == 0) {
            rt_error_set(parts[i].error, "%s", parts[i].message);
            status = -1;
        }
    }
    free(parts);
    return status;
}
