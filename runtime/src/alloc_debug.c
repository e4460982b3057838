/* alloc_debug.c -- the 'debug' backend: the pool allocator under guards.
 *
 * Like CPython's PYTHONMALLOC=debug hooks, each block is wrapped:
 *
 *     [ size | state | serial ][ the caller's bytes ... ][ 16 guard bytes ]
 *       16-byte header           filled with CLEAN on alloc  GUARD (0xFD)
 *
 * On free the header must say LIVE (FREED means a double free; anything else
 * a pointer this allocator never returned, or a header overwritten from
 * below), and the guard must be intact (else an overrun, reported with how
 * far it went).  The bytes are then filled with DEAD and the block parked in
 * a quarantine ring, so that a double free or a write after free is caught
 * while the block is parked; when it leaves the ring the DEAD fill is checked
 * and the block goes back to the pool.
 *
 * Every report names the block's address and size, then aborts: a heap that
 * failed these checks cannot be trusted to go on.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define CLEAN_BYTE 0xCD
#define DEAD_BYTE 0xDD
#define GUARD_BYTE 0xFD
#define GUARD_SIZE 16
#define STATE_LIVE 0x4c495645u    /* "LIVE" */
#define STATE_FREED 0x46524545u   /* "FREE" */
#define QUARANTINE RTI_DEBUG_QUARANTINE

typedef struct DebugHeader {
    size_t size;
    uint32_t state;
    uint32_t serial;
} DebugHeader;
_Static_assert(sizeof(DebugHeader) == 16, "debug header keeps 16-byte alignment");

int
rti_debug_init(RtHeap *heap)
{
    memset(&heap->debug, 0, sizeof heap->debug);
    return 0;
}

static RT_COLD void
report(const char *what, const void *user, size_t size, const char *detail)
{
    fflush(stdout);
    fprintf(stderr, "rt debug allocator: %s: block %p (size %zu)%s%s\n", what, user, size,
            detail ? ": " : "", detail ? detail : "");
    fprintf(stderr, "rt debug allocator: the heap is corrupt; aborting\n");
    abort();
}

static void *
debug_malloc(size_t size)
{
    RtHeap *heap = &rti_runtime.heap;
    if (size > SIZE_MAX - sizeof(DebugHeader) - GUARD_SIZE)
        return NULL;
    DebugHeader *h = rti_pool_alloc(rti_pool_heap(), sizeof(DebugHeader) + size + GUARD_SIZE);
    if (h == NULL)
        return NULL;
    h->size = size;
    h->state = STATE_LIVE;
    h->serial = ++heap->debug.serial;
    uint8_t *user = (uint8_t *)(h + 1);
    memset(user, CLEAN_BYTE, size);
    memset(user + size, GUARD_BYTE, GUARD_SIZE);
    return user;
}

/* How many guard bytes, counted from the block's end, were overwritten. */
static size_t
guard_damage(const uint8_t *guard)
{
    for (size_t i = GUARD_SIZE; i > 0; i--)
        if (guard[i - 1] != GUARD_BYTE)
            return i;
    return 0;
}

/* A header inside an arena must start a block of its pool. */
static bool
plausible_block(const RtArenaMap *map, const DebugHeader *h)
{
    if (!rti_arena_map_contains(map, h))
        return true;    /* a large block: only its header can tell */
    if (RTI_POOL_SLOT(h) < RTI_FIRST_POOL)
        return false;   /* the descriptor table */
    const RtPool *pool = RTI_POOL_OF(h);
    size_t offset = (size_t)((const uint8_t *)h - RTI_POOL_MEM(pool));
    return pool->szidx != RTI_NO_CLASS && offset % RTI_CLASS_SIZE(pool->szidx) == 0;
}

static void
check_live(const DebugHeader *h, const void *user)
{
    if (!plausible_block(&rti_runtime.heap.arenas.map, h))
        report("free of a pointer that is not the start of a block", user, 0, NULL);
    if (h->state == STATE_FREED)
        report("double free", user, h->size, NULL);
    if (h->state != STATE_LIVE)
        report("free of a pointer not allocated by rt_malloc (or its header was overwritten)",
               user, 0, NULL);
    size_t damage = guard_damage((const uint8_t *)user + h->size);
    if (damage != 0) {
        char detail[96];
        snprintf(detail, sizeof detail, "overrun: %zu byte(s) written past the end", damage);
        report("buffer overrun", user, h->size, detail);
    }
}

/* A parked block leaves the quarantine: check nothing wrote to it. */
static void
release(RtHeap *heap, DebugHeader *h)
{
    const uint8_t *user = (const uint8_t *)(h + 1);
    for (size_t i = 0; i < h->size; i++)
        if (user[i] != DEAD_BYTE) {
            char detail[96];
            snprintf(detail, sizeof detail, "byte %zu changed after the block was freed", i);
            report("write after free", user, h->size, detail);
        }
    rti_pool_free(&heap->arenas.map, rti_pool_heap(), h);
}

static void
debug_free(void *user)
{
    if (user == NULL)
        return;
    RtHeap *heap = &rti_runtime.heap;
    RtDebugHeap *dh = &heap->debug;
    DebugHeader *h = (DebugHeader *)user - 1;
    check_live(h, user);
    h->state = STATE_FREED;
    memset(user, DEAD_BYTE, h->size);
    DebugHeader *old = dh->quarantine[dh->next];
    dh->quarantine[dh->next] = h;
    dh->next = (dh->next + 1) % QUARANTINE;
    if (old != NULL)
        release(heap, old);
}

static void *
debug_realloc(void *user, size_t size)
{
    if (user == NULL)
        return debug_malloc(size);
    DebugHeader *h = (DebugHeader *)user - 1;
    check_live(h, user);
    void *q = debug_malloc(size);
    if (q == NULL)
        return NULL;
    memcpy(q, user, size < h->size ? size : h->size);
    debug_free(user);
    return q;
}

const RtAllocator rti_debug_allocator = {"debug", debug_malloc, debug_realloc, debug_free};

/* Empty the quarantine, checking each parked block: before the pool goes,
 * and when memory is trimmed. */
void
rti_debug_flush(RtHeap *heap)
{
    RtDebugHeap *dh = &heap->debug;
    for (size_t i = 0; i < QUARANTINE; i++) {
        if (dh->quarantine[i] != NULL)
            release(heap, dh->quarantine[i]);
        dh->quarantine[i] = NULL;
    }
    dh->next = 0;
}
