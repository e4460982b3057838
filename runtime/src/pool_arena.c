/* pool_arena.c -- the pool allocator's arenas: mapping, ordering, retention.
 *
 * An arena is 1 MiB mapped with mmap at a 1 MiB-aligned address (pool.h
 * says what it holds).  This file maps arenas, hands their pools to pool.c
 * and takes them back, keeps 'usable_arenas' sorted by free pools (the most
 * used arena first, obmalloc's rule, O(1) with nfp2lasta as bpo-37029 made
 * it), and decides when a wholly free arena goes back to the OS.
 *
 * Retention with decay (mimalloc's purge delay, jemalloc's dirty decay).
 * obmalloc unmaps an arena as soon as it is wholly free, keeping one
 * (bpo-37257).  A program that drops a large structure and builds the next
 * one -- list_append's 32 MiB of ints every round -- then unmaps and
 * faults in the same memory every time: a minor fault per 4 KiB page, 80k
 * of them over list_append's ten rounds.  Here a wholly free arena is
 * retained: it stays mapped, with its pools' free lists intact, at the tail
 * of usable_arenas (allocation takes it back only when every partly used
 * arena is full, so retained arenas do not raise the peak), and goes back
 * to the OS when
 *   - it has been free for the decay (RtConfig.arena_decay_ms, the
 *     RT_ARENA_DECAY_MS option; 0 releases at once, as obmalloc), or
 *   - more arenas are retained than the cap, max(RTI_RETAIN_MIN, the recent
 *     peak of arenas in use / RTI_RETAIN_PEAK_DIV) (pool.h), or
 *   - the program asks (rt_alloc_trim, rt_fini).
 * The newest retained arena is never released by age or by the cap, as
 * obmalloc keeps one.  There is no timer thread: the clock is read only on
 * slow paths -- an arena becoming wholly free, and the trim points (every
 * full collection, rt_alloc_trim) -- and the oldest retained arenas, which
 * sit at the very end of the list, are released there.  "Recent peak": the
 * most arenas in use since the age rule last released one.
 *
 * Statistics: arenas mapped (arenas_stat.allocated), released
 * (arenas_stat.freed), retained now (nretained) and taken back into use
 * (arenas_reused).
 */

#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define INITIAL_ARENA_OBJECTS 16

/* ==== the arena map ==================================================== */

static int
map_set(RtArenaMap *map, uintptr_t arena, bool used)
{
    uintptr_t i = arena >> RTI_ARENA_BITS;
    if (i >= RTI_MAP_ENTRIES)
        return -1;      /* beyond 48 bits: never from mmap without a hint */
    map->used[i] = used;
    return 0;
}

int
rti_arenas_init(RtPoolHeap *ph, double decay_s)
{
    void *used = mmap(NULL, RTI_MAP_ENTRIES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (used == MAP_FAILED)
        return -1;
    ph->map.used = used;
    ph->decay_s = decay_s;
    return 0;
}

void
rti_arenas_fini(RtPoolHeap *ph)
{
    for (uint32_t a = 0; a < ph->maxarenas; a++) {
        RtArena *ao = &ph->arenas[a];
        if (ao->address != 0) {
            RTI_UNPOISON((void *)ao->address, RT_ARENA_SIZE);
            munmap((void *)ao->address, RT_ARENA_SIZE);
        }
    }
    free(ph->arenas);
    if (ph->map.used != NULL)
        munmap(ph->map.used, RTI_MAP_ENTRIES);
}

/* ==== mapping and unmapping ============================================= */

/* Map ARENA_SIZE bytes at an ARENA_SIZE-aligned address.  Linux usually
 * places a new mapping right below the previous one, so the first try is
 * aligned whenever the previous arena was; otherwise over-map and trim. */
static void *
map_aligned_arena(void)
{
    int prot = PROT_READ | PROT_WRITE, flags = MAP_PRIVATE | MAP_ANONYMOUS;
    uint8_t *p = mmap(NULL, RT_ARENA_SIZE, prot, flags, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (((uintptr_t)p & (RT_ARENA_SIZE - 1)) == 0)
        return p;
    munmap(p, RT_ARENA_SIZE);
    p = mmap(NULL, 2 * RT_ARENA_SIZE, prot, flags, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    uint8_t *aligned = (uint8_t *)(((uintptr_t)p + RT_ARENA_SIZE - 1) & ~(uintptr_t)(RT_ARENA_SIZE - 1));
    size_t head = (size_t)(aligned - p), tail = RT_ARENA_SIZE - head;
    if (head)
        munmap(p, head);
    if (tail)
        munmap(aligned + RT_ARENA_SIZE, tail);
    return aligned;
}

/* Grow the descriptor vector; the new slots go to the unused list.  This
 * runs only when every mapped arena is full (usable_arenas is empty) and no
 * slot is unused, so no list points into the vector that realloc may move;
 * pools name their arena by index, which survives the move. */
static int
grow_arena_vector(RtPoolHeap *ph)
{
    rti_assert(ph->usable_arenas == NULL && ph->unused_arena_objects == NULL);
    uint32_t n = ph->maxarenas ? ph->maxarenas * 2 : INITIAL_ARENA_OBJECTS;
    if (n <= ph->maxarenas)     /* 2^32 descriptors: 4 PiB of arenas */
        return -1;
    RtArena *v = realloc(ph->arenas, (size_t)n * sizeof(RtArena));
    if (v == NULL)
        return -1;
    for (uint32_t i = ph->maxarenas; i < n; i++) {
        v[i].address = 0;
        v[i].nextarena = i + 1 < n ? &v[i + 1] : NULL;
    }
    ph->unused_arena_objects = &v[ph->maxarenas];
    ph->arenas = v;
    ph->maxarenas = n;
    return 0;
}

/* Map a new arena and return its descriptor, with every pool free. */
static RtArena *
new_arena(RtPoolHeap *ph)
{
    if (ph->unused_arena_objects == NULL && grow_arena_vector(ph) < 0)
        return NULL;
    void *base = map_aligned_arena();
    if (base == NULL)
        return NULL;
    if (map_set(&ph->map, (uintptr_t)base, true) < 0) {
        munmap(base, RT_ARENA_SIZE);
        return NULL;
    }
    RTI_POISON(base, RT_ARENA_SIZE);
    RTI_UNPOISON(base, RTI_POOL_DESC_SIZE);     /* the class map */
    RtArena *ao = ph->unused_arena_objects;
    ph->unused_arena_objects = ao->nextarena;
    ao->address = (uintptr_t)base;
    ao->pool_address = (uint8_t *)base + RTI_FIRST_POOL * RT_POOL_SIZE;
    ao->nfreepools = ao->ntotalpools = RTI_POOLS_PER_ARENA - RTI_FIRST_POOL;
    ao->freepools = NULL;
    ao->nextarena = ao->prevarena = NULL;
    ao->free_since = 0;
    rti_stat_up(&ph->arenas_stat);
    return ao;
}

/* Unmap a wholly free arena that is on no list; its slot becomes unused. */
static void
release_arena(RtPoolHeap *ph, RtArena *ao)
{
    map_set(&ph->map, ao->address, false);
    RTI_UNPOISON((void *)ao->address, RT_ARENA_SIZE);
    munmap((void *)ao->address, RT_ARENA_SIZE);
    ao->address = 0;
    ao->nextarena = ph->unused_arena_objects;
    ph->unused_arena_objects = ao;
    rti_stat_down(&ph->arenas_stat);
}

/* ==== usable_arenas ===================================================== */

static void
unlink_usable(RtPoolHeap *ph, RtArena *ao)
{
    if (ao->prevarena != NULL)
        ao->prevarena->nextarena = ao->nextarena;
    else
        ph->usable_arenas = ao->nextarena;
    if (ao->nextarena != NULL)
        ao->nextarena->prevarena = ao->prevarena;
}

static uint32_t
arenas_in_use(const RtPoolHeap *ph)
{
    return (uint32_t)ph->arenas_stat.current - ph->nretained;
}

/* Take one free pool out of the first usable arena (mapping an arena when
 * there is none, or taking back a retained one) and keep usable_arenas
 * sorted.  *arena_changed: an arena was mapped or taken back (the caller
 * validates the heap once the pool is in use). */
RtPool *
rti_arena_take_pool(RtPoolHeap *ph, bool *arena_changed)
{
    if (ph->usable_arenas == NULL) {
        RtArena *ao = new_arena(ph);
        if (ao == NULL)
            return NULL;
        ph->usable_arenas = ao;
        rti_assert(ph->nfp2lasta[ao->nfreepools] == NULL);
        ph->nfp2lasta[ao->nfreepools] = ao;
    }
    RtArena *ao = ph->usable_arenas;
    rti_assert(ao->nfreepools > 0);
    *arena_changed = ao->nfreepools == ao->ntotalpools;
    if (ao->free_since != 0) {
        /* A retained arena: the most recently freed (the front of the
         * wholly free group, since nothing partly used is left). */
        ao->free_since = 0;
        ph->nretained--;
        ph->arenas_reused++;
    }
    /* The head has the fewest free pools; after taking one it is the only
     * arena with nfreepools - 1, so it becomes that count's last. */
    if (ph->nfp2lasta[ao->nfreepools] == ao)
        ph->nfp2lasta[ao->nfreepools] = NULL;
    if (ao->nfreepools > 1)
        ph->nfp2lasta[ao->nfreepools - 1] = ao;
    RtPool *pool = ao->freepools;
    if (pool != NULL) {
        ao->freepools = pool->nextpool;
    } else {
        pool = RTI_POOL_OF(ao->pool_address);
        RTI_UNPOISON(pool, sizeof *pool);
        pool->arenaindex = (uint32_t)(ao - ph->arenas);
        pool->szidx = RTI_NO_CLASS;
        ao->pool_address += RT_POOL_SIZE;
    }
    if (--ao->nfreepools == 0) {
        /* Now full: no longer usable. */
        ph->usable_arenas = ao->nextarena;
        if (ph->usable_arenas != NULL)
            ph->usable_arenas->prevarena = NULL;
        ao->nextarena = ao->prevarena = NULL;
    }
    rti_stat_up(&ph->pools);
    if (*arena_changed && arenas_in_use(ph) > ph->recent_peak)
        ph->recent_peak = arenas_in_use(ph);
    return pool;
}

/* Unlink the last arena of usable_arenas, wholly free, and unmap it. */
static void
release_last(RtPoolHeap *ph, RtArena *ao)
{
    rti_assert(ao->nextarena == NULL && ao->nfreepools == ao->ntotalpools && ao->free_since != 0);
    if (ph->nfp2lasta[ao->nfreepools] == ao) {
        RtArena *p = ao->prevarena;
        ph->nfp2lasta[ao->nfreepools] = (p != NULL && p->nfreepools == ao->nfreepools) ? p : NULL;
    }
    unlink_usable(ph, ao);
    ph->nretained--;
    release_arena(ph, ao);
}

/* The last arena of usable_arenas, when it is retained (the oldest). */
static RtArena *
oldest_retained(const RtPoolHeap *ph)
{
    RtArena *last = ph->nfp2lasta[RTI_POOLS_PER_ARENA - RTI_FIRST_POOL];
    return last != NULL && last->nextarena == NULL && last->free_since != 0 ? last : NULL;
}

/* The retention rule (top): release the oldest retained arenas while they
 * have been free for the decay or exceed the cap, keeping the newest. */
void
rti_pool_decay(RtPoolHeap *ph, double now)
{
    uint32_t cap = ph->recent_peak / RTI_RETAIN_PEAK_DIV;
    if (cap < RTI_RETAIN_MIN)
        cap = RTI_RETAIN_MIN;
    bool aged = false;
    RtArena *ao;
    while (ph->nretained > 1 && (ao = oldest_retained(ph)) != NULL) {
        bool old = now - ao->free_since >= ph->decay_s;
        if (!old && ph->nretained <= cap)
            break;
        aged |= old;
        release_last(ph, ao);
    }
    if (aged)
        ph->recent_peak = arenas_in_use(ph);
    rti_pool_check(ph);
}

/* An empty pool goes back to its arena; the arena moves right in
 * usable_arenas, and when wholly free is retained (see top). */
void
rti_arena_give_pool(RtPoolHeap *ph, RtPool *pool)
{
    RtArena *ao = &ph->arenas[pool->arenaindex];
    pool->nextpool = ao->freepools;
    ao->freepools = pool;
    rti_stat_down(&ph->pools);
    uint32_t nf = ao->nfreepools;
    RtArena *lastnf = ph->nfp2lasta[nf];
    /* ao leaves the group of arenas with nf free pools. */
    if (lastnf == ao) {
        RtArena *p = ao->prevarena;
        ph->nfp2lasta[nf] = (p != NULL && p->nfreepools == nf) ? p : NULL;
    }
    ao->nfreepools = ++nf;

    if (nf == 1) {
        /* It was full, so it was on no list: it has the fewest free pools
         * of all, so it goes to the front.  (A one-pool arena would now be
         * wholly free: pool.h's geometry has 63.) */
        ao->nextarena = ph->usable_arenas;
        ao->prevarena = NULL;
        if (ph->usable_arenas != NULL)
            ph->usable_arenas->prevarena = ao;
        ph->usable_arenas = ao;
        if (ph->nfp2lasta[1] == NULL)
            ph->nfp2lasta[1] = ao;
    } else {
        /* Move it right past the last arena with nf - 1 free pools
         * (lastnf), unless it was that arena: it becomes the first of its
         * new group. */
        if (ph->nfp2lasta[nf] == NULL)
            ph->nfp2lasta[nf] = ao;
        if (ao != lastnf) {
            unlink_usable(ph, ao);
            ao->prevarena = lastnf;
            ao->nextarena = lastnf->nextarena;
            if (ao->nextarena != NULL)
                ao->nextarena->prevarena = ao;
            lastnf->nextarena = ao;
        }
    }
    if (nf == ao->ntotalpools) {
        double now = rt_monotonic_s();
        ao->free_since = now > 0 ? now : 1e-9;  /* 0 means "in use" */
        ph->nretained++;
        rti_pool_decay(ph, now);
    }
}

/* ==== trim ============================================================== */

/* At a trim point, after pool.c gave back the cached blocks and the
 * retained pools: the retention rule runs (by_rule: a full collection), or
 * every retained arena goes (rt_alloc_trim). */
void
rti_arenas_trim(RtPoolHeap *ph, bool by_rule)
{
    if (by_rule) {
        if (ph->nretained > 1)
            rti_pool_decay(ph, rt_monotonic_s());
        return;
    }
    RtArena *ao;
    while ((ao = oldest_retained(ph)) != NULL)
        release_last(ph, ao);
    ph->recent_peak = arenas_in_use(ph);
    rti_pool_check(ph);
}
