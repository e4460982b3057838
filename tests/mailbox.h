/* mailbox.h -- mutex-guarded stacks of pointers through which the threads
 * of the threaded tests pass things to each other (test_threads.c,
 * test_threads_heap.c).
 *
 * The including file defines MAILBOX (the capacity of one) and MAILBOXES
 * (how many) first; boxes_init() before use, boxes_fini() after.
 */
#ifndef RT_TESTS_MAILBOX_H
#define RT_TESTS_MAILBOX_H

#include <pthread.h>
#include <stdbool.h>

#if !defined(MAILBOX) || !defined(MAILBOXES)
#error "define MAILBOX and MAILBOXES before including mailbox.h"
#endif

typedef struct Mailbox {
    pthread_mutex_t lock;
    void *items[MAILBOX];
    int n;
} Mailbox;
static Mailbox boxes[MAILBOXES];

static void
boxes_init(void)
{
    for (int k = 0; k < MAILBOXES; k++) {
        pthread_mutex_init(&boxes[k].lock, NULL);
        boxes[k].n = 0;
    }
}

static void
boxes_fini(void)
{
    for (int k = 0; k < MAILBOXES; k++)
        pthread_mutex_destroy(&boxes[k].lock);
}

/* False when box 'to' is full. */
static bool
post(int to, void *p)
{
    Mailbox *b = &boxes[to];
    pthread_mutex_lock(&b->lock);
    bool ok = b->n < MAILBOX;
    if (ok)
        b->items[b->n++] = p;
    pthread_mutex_unlock(&b->lock);
    return ok;
}

/* The last thing posted to box 'me', or NULL. */
static void *
take(int me)
{
    Mailbox *b = &boxes[me];
    pthread_mutex_lock(&b->lock);
    void *p = b->n > 0 ? b->items[--b->n] : NULL;
    pthread_mutex_unlock(&b->lock);
    return p;
}

#endif /* RT_TESTS_MAILBOX_H */
