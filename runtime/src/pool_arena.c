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
 *
 * Threads: the arenas are shared by every thread's heap (pool_heap.c).  In
 * the threaded variants each entry point here takes the arenas' lock: a
 * heap comes here only to take a pool or give one back, once per pool's
 * worth of blocks, and at trim points.
 */

#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define INITIAL_ARENA_OBJECTS 16

#if RT_RC_THREADED
static inline void lock(RtArenas *ar) { pthread_mutex_lock(&ar->lock); }
static inline void unlock(RtArenas *ar) { pthread_mutex_unlock(&ar->lock); }
#else
static inline void lock(RtArenas *ar) { (void)ar; }
static inline void unlock(RtArenas *ar) { (void)ar; }
#endif

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
rti_arenas_init(RtArenas *ar, double decay_s)
{
    void *used = mmap(NULL, RTI_MAP_ENTRIES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (used == MAP_FAILED)
        return -1;
    ar->map.used = used;
    ar->decay_s = decay_s;
#if RT_RC_THREADED
    pthread_mutex_init(&ar->lock, NULL);
#endif
    return 0;
}

void
rti_arenas_fini(RtArenas *ar)
{
    for (uint32_t a = 0; a < ar->maxarenas; a++) {
        RtArena *ao = &ar->arenas[a];
        if (ao->address != 0) {
            RTI_UNPOISON((void *)ao->address, RT_ARENA_SIZE);
            munmap((void *)ao->address, RT_ARENA_SIZE);
        }
    }
    free(ar->arenas);
    if (ar->map.used != NULL) {
        munmap(ar->map.used, RTI_MAP_ENTRIES);
#if RT_RC_THREADED
        pthread_mutex_destroy(&ar->lock);
#endif
    }
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
grow_arena_vector(RtArenas *ar)
{
    rti_assert(ar->usable_arenas == NULL && ar->unused_arena_objects == NULL);
    uint32_t n = ar->maxarenas ? ar->maxarenas * 2 : INITIAL_ARENA_OBJECTS;
    if (n <= ar->maxarenas)     /* 2^32 descriptors: 4 PiB of arenas */
        return -1;
    RtArena *v = realloc(ar->arenas, (size_t)n * sizeof(RtArena));
    if (v == NULL)
        return -1;
    for (uint32_t i = ar->maxarenas; i < n; i++) {
        v[i].address = 0;
        v[i].nextarena = i + 1 < n ? &v[i + 1] : NULL;
    }
    ar->unused_arena_objects = &v[ar->maxarenas];
    ar->arenas = v;
    ar->maxarenas = n;
    return 0;
}

/* Map a new arena and return its descriptor, with every pool free. */
static RtArena *
new_arena(RtArenas *ar)
{
    if (ar->unused_arena_objects == NULL && grow_arena_vector(ar) < 0)
        return NULL;
    void *base = map_aligned_arena();
    if (base == NULL)
        return NULL;
    if (map_set(&ar->map, (uintptr_t)base, true) < 0) {
        munmap(base, RT_ARENA_SIZE);
        return NULL;
    }
    RTI_POISON(base, RT_ARENA_SIZE);
    RTI_UNPOISON(base, RTI_POOL_DESC_SIZE);     /* the class map */
    RtArena *ao = ar->unused_arena_objects;
    ar->unused_arena_objects = ao->nextarena;
    ao->address = (uintptr_t)base;
    ao->pool_address = (uint8_t *)base + RTI_FIRST_POOL * RT_POOL_SIZE;
    ao->nfreepools = ao->ntotalpools = RTI_POOLS_PER_ARENA - RTI_FIRST_POOL;
    ao->freepools = NULL;
    ao->nextarena = ao->prevarena = NULL;
    ao->free_since = 0;
    rti_stat_up(&ar->arenas_stat);
    return ao;
}

/* Unmap a wholly free arena that is on no list; its slot becomes unused. */
static void
release_arena(RtArenas *ar, RtArena *ao)
{
    map_set(&ar->map, ao->address, false);
    RTI_UNPOISON((void *)ao->address, RT_ARENA_SIZE);
    munmap((void *)ao->address, RT_ARENA_SIZE);
    ao->address = 0;
    ao->nextarena = ar->unused_arena_objects;
    ar->unused_arena_objects = ao;
    rti_stat_down(&ar->arenas_stat);
}

/* ==== usable_arenas ===================================================== */

static void
unlink_usable(RtArenas *ar, RtArena *ao)
{
    if (ao->prevarena != NULL)
        ao->prevarena->nextarena = ao->nextarena;
    else
        ar->usable_arenas = ao->nextarena;
    if (ao->nextarena != NULL)
        ao->nextarena->prevarena = ao->prevarena;
}

static uint32_t
arenas_in_use(const RtArenas *ar)
{
    return (uint32_t)ar->arenas_stat.current - ar->nretained;
}

/* Take one free pool out of the first usable arena (mapping an arena when
 * there is none, or taking back a retained one) and keep usable_arenas
 * sorted.  *arena_changed: an arena was mapped or taken back (the caller
 * validates the heap once the pool is in use). */
static RtPool *
take_pool_locked(RtArenas *ar, bool *arena_changed)
{
    if (ar->usable_arenas == NULL) {
        RtArena *ao = new_arena(ar);
        if (ao == NULL)
            return NULL;
        ar->usable_arenas = ao;
        rti_assert(ar->nfp2lasta[ao->nfreepools] == NULL);
        ar->nfp2lasta[ao->nfreepools] = ao;
    }
    RtArena *ao = ar->usable_arenas;
    rti_assert(ao->nfreepools > 0);
    *arena_changed = ao->nfreepools == ao->ntotalpools;
    if (ao->free_since != 0) {
        /* A retained arena: the most recently freed (the front of the
         * wholly free group, since nothing partly used is left). */
        ao->free_since = 0;
        ar->nretained--;
        ar->arenas_reused++;
    }
    /* The head has the fewest free pools; after taking one it is the only
     * arena with nfreepools - 1, so it becomes that count's last. */
    if (ar->nfp2lasta[ao->nfreepools] == ao)
        ar->nfp2lasta[ao->nfreepools] = NULL;
    if (ao->nfreepools > 1)
        ar->nfp2lasta[ao->nfreepools - 1] = ao;
    RtPool *pool = ao->freepools;
    if (pool != NULL) {
        ao->freepools = pool->nextpool;
    } else {
        pool = RTI_POOL_OF(ao->pool_address);
        RTI_UNPOISON(pool, sizeof *pool);
        pool->arenaindex = (uint32_t)(ao - ar->arenas);
        pool->szidx = RTI_NO_CLASS;
        ao->pool_address += RT_POOL_SIZE;
    }
    if (--ao->nfreepools == 0) {
        /* Now full: no longer usable. */
        ar->usable_arenas = ao->nextarena;
        if (ar->usable_arenas != NULL)
            ar->usable_arenas->prevarena = NULL;
        ao->nextarena = ao->prevarena = NULL;
    }
    rti_stat_up(&ar->pools);
    if (*arena_changed && arenas_in_use(ar) > ar->recent_peak)
        ar->recent_peak = arenas_in_use(ar);
    return pool;
}

RtPool *
rti_arena_take_pool(RtArenas *ar, bool *arena_changed)
{
    lock(ar);
    RtPool *pool = take_pool_locked(ar, arena_changed);
    unlock(ar);
    return pool;
}

/* Unlink the last arena of usable_arenas, wholly free, and unmap it. */
static void
release_last(RtArenas *ar, RtArena *ao)
{
    rti_assert(ao->nextarena == NULL && ao->nfreepools == ao->ntotalpools && ao->free_since != 0);
    if (ar->nfp2lasta[ao->nfreepools] == ao) {
        RtArena *p = ao->prevarena;
        ar->nfp2lasta[ao->nfreepools] = (p != NULL && p->nfreepools == ao->nfreepools) ? p : NULL;
    }
    unlink_usable(ar, ao);
    ar->nretained--;
    release_arena(ar, ao);
}

/* The last arena of usable_arenas, when it is retained (the oldest). */
static RtArena *
oldest_retained(const RtArenas *ar)
{
    RtArena *last = ar->nfp2lasta[RTI_POOLS_PER_ARENA - RTI_FIRST_POOL];
    return last != NULL && last->nextarena == NULL && last->free_since != 0 ? last : NULL;
}

/* The retention rule (top): release the oldest retained arenas while they
 * have been free for the decay or exceed the cap, keeping the newest. */
static void
decay_locked(RtArenas *ar, double now)
{
    uint32_t cap = ar->recent_peak / RTI_RETAIN_PEAK_DIV;
    if (cap < RTI_RETAIN_MIN)
        cap = RTI_RETAIN_MIN;
    bool aged = false;
    RtArena *ao;
    while (ar->nretained > 1 && (ao = oldest_retained(ar)) != NULL) {
        bool old = now - ao->free_since >= ar->decay_s;
        if (!old && ar->nretained <= cap)
            break;
        aged |= old;
        release_last(ar, ao);
    }
    if (aged)
        ar->recent_peak = arenas_in_use(ar);
    rti_arenas_check(ar);
}

void
rti_pool_decay(RtArenas *ar, double now)
{
    lock(ar);
    decay_locked(ar, now);
    unlock(ar);
}

/* An empty pool goes back to its arena; the arena moves right in
 * usable_arenas, and when wholly free is retained (see top). */
void
rti_arena_give_pool(RtArenas *ar, RtPool *pool)
{
    lock(ar);
    RtArena *ao = &ar->arenas[pool->arenaindex];
    pool->nextpool = ao->freepools;
    ao->freepools = pool;
    rti_stat_down(&ar->pools);
    uint32_t nf = ao->nfreepools;
    RtArena *lastnf = ar->nfp2lasta[nf];
    /* ao leaves the group of arenas with nf free pools. */
    if (lastnf == ao) {
        RtArena *p = ao->prevarena;
        ar->nfp2lasta[nf] = (p != NULL && p->nfreepools == nf) ? p : NULL;
    }
    ao->nfreepools = ++nf;

    if (nf == 1) {
        /* It was full, so it was on no list: it has the fewest free pools
         * of all, so it goes to the front.  (A one-pool arena would now be
         * wholly free: pool.h's geometry has 63.) */
        ao->nextarena = ar->usable_arenas;
        ao->prevarena = NULL;
        if (ar->usable_arenas != NULL)
            ar->usable_arenas->prevarena = ao;
        ar->usable_arenas = ao;
        if (ar->nfp2lasta[1] == NULL)
            ar->nfp2lasta[1] = ao;
    } else {
        /* Move it right past the last arena with nf - 1 free pools
         * (lastnf), unless it was that arena: it becomes the first of its
         * new group. */
        if (ar->nfp2lasta[nf] == NULL)
            ar->nfp2lasta[nf] = ao;
        if (ao != lastnf) {
            unlink_usable(ar, ao);
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
        ar->nretained++;
        decay_locked(ar, now);
    }
    unlock(ar);
}

/* ==== trim ============================================================== */

/* At a trim point, after pool.c gave back every heap's cached blocks and
 * retained pools: the retention rule runs (by_rule: a full collection), or
 * every retained arena goes (rt_alloc_trim). */
void
rti_arenas_trim(RtArenas *ar, bool by_rule)
{
    lock(ar);
    if (by_rule) {
        if (ar->nretained > 1)
            decay_locked(ar, rt_monotonic_s());
    } else {
        RtArena *ao;
        while ((ao = oldest_retained(ar)) != NULL)
            release_last(ar, ao);
        ar->recent_peak = arenas_in_use(ar);
        rti_arenas_check(ar);
    }
    unlock(ar);
}

/* ==== validation (tests) ================================================ */

#define CHECK RTI_POOL_CHECK

/* Retention: the retained arenas are exactly the wholly free ones, at the
 * tail of usable_arenas, the most recently freed first; nretained counts
 * them. */
static int
validate_retained(const RtArenas *ar, char *err, size_t errlen)
{
    uint32_t n = 0;
    double newer = 0;
    for (const RtArena *a = ar->usable_arenas; a != NULL; a = a->nextarena) {
        bool wholly_free = a->nfreepools == a->ntotalpools;
        CHECK(wholly_free == (a->free_since != 0), "arena %p: %u of %u pools free, free since %g", (const void *)a,
              a->nfreepools, a->ntotalpools, a->free_since);
        if (wholly_free) {
            CHECK(n == 0 || a->free_since <= newer, "retained arena %p is newer than the one before it",
                  (const void *)a);
            newer = a->free_since;
            n++;
        }
    }
    CHECK(n == ar->nretained, "%u retained arenas found, %u recorded", n, ar->nretained);
    CHECK((int64_t)n <= ar->arenas_stat.current, "%u arenas retained of %lld mapped", n,
          (long long)ar->arenas_stat.current);
    return 0;
}

/* usable_arenas sorted by nfreepools with nfp2lasta consistent; each
 * mapped arena in the map, its free pools counted right; retention. */
int
rti_arenas_validate(const RtArenas *ar, char *err, size_t errlen)
{
    const RtArena *prev = NULL;
    for (const RtArena *a = ar->usable_arenas; a != NULL; prev = a, a = a->nextarena) {
        CHECK(a->prevarena == prev, "arena %p has a broken prev link", (const void *)a);
        CHECK(a->nfreepools > 0, "usable arena %p has no free pool", (const void *)a);
        CHECK(prev == NULL || prev->nfreepools <= a->nfreepools, "usable_arenas not sorted at %p", (const void *)a);
        bool last = a->nextarena == NULL || a->nextarena->nfreepools != a->nfreepools;
        CHECK((ar->nfp2lasta[a->nfreepools] == a) == last, "nfp2lasta[%u] is wrong", a->nfreepools);
    }
    for (uint32_t a = 0; a < ar->maxarenas; a++) {
        const RtArena *ao = &ar->arenas[a];
        if (ao->address == 0)
            continue;
        CHECK(rti_arena_map_contains(&ar->map, (void *)ao->address), "arena %u is not in the map", a);
        uint32_t nfree = (uint32_t)((ao->address + RT_ARENA_SIZE - (uintptr_t)ao->pool_address) / RT_POOL_SIZE);
        for (const RtPool *f = ao->freepools; f != NULL; f = f->nextpool)
            nfree++;
        CHECK(nfree == ao->nfreepools, "arena %u: %u free pools found, %u recorded", a, nfree, ao->nfreepools);
    }
    return validate_retained(ar, err, errlen);
}
