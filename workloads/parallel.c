/* parallel.c -- rt_workload_parallel (parallel.h). */
#include "parallel.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct Part {
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
        return NULL;
    }
    void (*hook)(RtWorkloadCtx *, bool) = p->ctx->ops->thread;
    if (hook != NULL)
        hook(p->ctx, true);
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
    for (int i = 0; i < n; i++)
        parts[i] = (Part){.ctx = ctx, .body = body, .arg = arg, .index = i, .threads = n};
    int started = start_parts(parts, n);
    int status = started == n ? body(arg, 0, n, &parts[0].check) : -1;
    rt_thread_block_begin();    /* the joins wait: a collection need not */
    for (int i = 1; i < started; i++)
        pthread_join(parts[i].thread, NULL);
    rt_thread_block_end();
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
