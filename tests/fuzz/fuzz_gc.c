/* fuzz_gc.c -- libFuzzer target: programs of object-graph operations.
 *
 * The input is a program over a table of MAX_OBJS entries.  Two header
 * bytes pick the backend (pool, malloc, debug), the thresholds (0 included)
 * and whether collection is enabled; then each operation creates an object
 * (TNode -- a test type that counts its deallocations --, list, dict, tuple
 * of existing objects, instance of "Slots" with 3 slots and weakref support,
 * instance of "Phoenix" whose finalizer may resurrect it into the "lazarus"
 * list, entry 0 of the table), links or unlinks two objects, drops or takes
 * a root reference, makes or reads a weakref (its callback may allocate),
 * collects, sets thresholds, enables, freezes, releases a class while its
 * instances live, or arms fault injection around the next operation.  The format (make_corpus.py writes it):
 *
 *   header a b   backend (a >> 5) % 3, threshold0 {0,1,2,3,5,8,20,700}[a & 7],
 *                a & 8 disabled, a & 16 timed; threshold1 b & 3, threshold2 (b >> 2) & 3,
 *                b & 16 the passes as for a large generation (prefetching)
 *   0 create kind flags [items]     1 link container slot target
 *   2 unlink container slot         3 drop rooted      4 root reachable
 *   5 weakref referent flags [arg]  6 deref weakref flags
 *   7 collect generation            8 threshold t0 t1t2
 *   9 enable on    10 freeze on     11 fault nth+persistent operation...
 *   12 clear lazarus               13 release class (and make it anew)
 *
 * (opcodes modulo 14); an operand is a byte that picks among the entries
 * that qualify (modulo their count), so that every input is a program.
 *
 * The model records every strong reference the program made: roots, edges
 * (slots, items, dict values, tuple items, weakref callback arguments, the
 * lazarus list's items).  The finalizer and the callbacks log what they do,
 * so a resurrection becomes an edge from lazarus.  Collections also run
 * inside allocations, so after every operation the model only knows:
 *   reach  objects reachable from the roots: certainly alive;
 *   maybe  objects reachable from the roots or from a cycle (peeling off
 *          what reference counting frees): possibly alive; the rest is dead.
 * After an explicit full collection with nothing frozen, maybe == reach.
 * Checks, after every operation: reachable TNodes are alive and dead ones
 * were freed exactly once; each type's live count lies between its reach
 * and maybe counts; each reachable object's reference count lies between
 * its references from reach and from maybe (plus roots); weakrefs clear
 * only when they may, and their callbacks run at most once, with the
 * referent unreachable and the weakref cleared; finalizers run at most once
 * and only on unreachable objects.  At the end everything must be freed.
 */
#include "fuzz_gc.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Edge slots of the kinds that have fixed ones (dicts: the keys 0..3). */
static const int kind_slots[K_COUNT] = {[K_TNODE] = 3, [K_DICT] = 4, [K_SLOTS] = 3, [K_PHOENIX] = 2, [K_WEAKREF] = 1};

/* ==== operations ======================================================== */

typedef struct Reader {
    const uint8_t *data;
    size_t size, pos;
} Reader;

static uint8_t u8(Reader *r) { return r->pos < r->size ? r->data[r->pos++] : 0; }

static bool is_reachable(int i) { return fg_world.reach[i]; }
static bool is_rootable(int i) { return fg_world.reach[i] && i != LAZ && fg_world.obj[i].roots < MAX_ROOTS; }
static bool is_rooted(int i) { return fg_live(i) && i != LAZ && fg_world.obj[i].roots > 0; }
static bool is_weakref(int i) { return fg_world.reach[i] && fg_world.obj[i].kind == K_WEAKREF; }
static bool
is_weak_target(int i)
{
    return fg_world.reach[i] && (fg_world.obj[i].kind == K_SLOTS || fg_world.obj[i].kind == K_PHOENIX);
}
static bool
is_container(int i)
{
    int k = fg_world.obj[i].kind;
    return fg_world.reach[i] && i != LAZ && k != K_TUPLE && k != K_WEAKREF;
}

/* The (n mod count)-th entry that passes want, or -1 when none does. */
static int
pick(uint8_t n, bool (*want)(int))
{
    int cand[MAX_OBJS], count = 0;
    for (int i = 0; i < MAX_OBJS; i++)
        if (want(i))
            cand[count++] = i;
    return count ? cand[n % count] : -1;
}

static Obj *
new_entry(int i, int kind, RtObject *op)
{
    fg_claim_address(op);
    Obj *o = &fg_world.obj[i];
    *o = (Obj){.kind = kind, .op = op, .roots = 1, .nedges = kind_slots[kind]};
    memset(o->edge, -1, sizeof o->edge);
    fg_world.fresh = i;
    return o;
}

static RtObject *
create_object(int kind, int nitems)
{
    switch (kind) {
    case K_TNODE: {
        TNode *n = (TNode *)rt_object_new(&fg_tnode_type);
        if (n != NULL) {
            n->id = fg_world.ntnodes;
            rt_gc_track((RtObject *)n);
        }
        return (RtObject *)n;
    }
    case K_LIST: return rt_list_new(0);
    case K_DICT: return rt_dict_new();
    case K_TUPLE: return rt_tuple_new(nitems);
    case K_SLOTS: return rt_instance_new(fg_world.slots_cls);
    default: return rt_instance_new(fg_world.phoenix_cls);
    }
}

static void
op_create(Reader *r)
{
    int kind = K_TNODE + u8(r) % (K_PHOENIX - K_TNODE + 1);
    uint8_t flags = u8(r);
    int items[4], nitems = 1 + flags % 4, i = fg_free_entry();
    for (int k = 0; k < nitems && kind == K_TUPLE; k++)
        items[k] = pick(u8(r), is_reachable);
    if (i < 0 || (kind == K_TNODE && fg_world.ntnodes == MAX_TNODES))
        return;
    RtObject *op = create_object(kind, nitems);
    if (op == NULL) {
        fg_expect_nomem("creating an object");
        return;
    }
    Obj *o = new_entry(i, kind, op);
    if (kind == K_TNODE)
        o->tnode = fg_world.ntnodes++;
    o->resurrect = (flags & 4) != 0;
    o->junk = (flags & 8) != 0;
    for (int k = 0; k < nitems && kind == K_TUPLE; k++) {
        rt_tuple_init_item(op, k, fg_world.obj[items[k]].op);
        o->edge[o->nedges++] = items[k];
    }
}

static void
link_list(Obj *o, uint8_t s, int t)
{
    if (o->nedges < LIST_MAX && (s & 1 || o->nedges == 0)) {
        o->edge[o->nedges++] = t;
        fg_compute_reach(fg_world.reach_op);
        if (rt_list_append(o->op, fg_world.obj[t].op) != 0) {
            fg_expect_nomem("rt_list_append");
            o->nedges--;
        }
        return;
    }
    int k = (s >> 1) % o->nedges;
    o->edge[k] = t;
    fg_compute_reach(fg_world.reach_op);
    if (rt_list_set(o->op, k, fg_world.obj[t].op) != 0)
        fg_fail("rt_list_set: %s", rt_error_message());
}

static void
op_link(Reader *r)
{
    int c = pick(u8(r), is_container);
    uint8_t s = u8(r);
    int t = pick(u8(r), is_reachable);
    if (c < 0)
        return;
    Obj *o = &fg_world.obj[c];
    if (o->kind == K_LIST) {
        link_list(o, s, t);
        return;
    }
    int k = s % kind_slots[o->kind], old = o->edge[k], rc = 0;
    RtObject *target = fg_world.obj[t].op;
    o->edge[k] = t;
    fg_compute_reach(fg_world.reach_op);
    if (o->kind == K_TNODE)
        rt_setref(&((TNode *)o->op)->slot[k], rt_newref(target));
    else if (o->kind == K_DICT)
        rc = rt_dict_set(o->op, rt_int_from(k), target);
    else
        rc = rt_instance_set(o->op, (uint32_t)k, target);
    if (rc != 0) {
        fg_expect_nomem("rt_dict_set");
        o->edge[k] = old;
    }
}

static void
unlink_list(Obj *o, uint8_t s)
{
    if (o->nedges == 0) {
        if (rt_list_pop(o->op, -1) != NULL || rt_error() != RT_ERR_INDEX)
            fg_fail("rt_list_pop of an empty list did not fail with RT_ERR_INDEX");
        rt_error_clear();
        return;
    }
    int k = s % o->nedges, t = o->edge[k];
    memmove(&o->edge[k], &o->edge[k + 1], (size_t)(o->nedges - k - 1) * sizeof o->edge[0]);
    o->nedges--;
    fg_compute_reach(fg_world.reach_op);
    RtObject *item = rt_list_pop(o->op, k);
    if (item != fg_world.obj[t].op)
        fg_fail("rt_list_pop returned %p, the model says %p", (void *)item, (void *)fg_world.obj[t].op);
    rt_decref(item);
}

static void
op_unlink(Reader *r)
{
    int c = pick(u8(r), is_container);
    uint8_t s = u8(r);
    if (c < 0)
        return;
    Obj *o = &fg_world.obj[c];
    if (o->kind == K_LIST) {
        unlink_list(o, s);
        return;
    }
    int k = s % kind_slots[o->kind], old = o->edge[k];
    o->edge[k] = -1;
    fg_compute_reach(fg_world.reach_op);
    if (o->kind == K_TNODE) {
        rt_clearref(&((TNode *)o->op)->slot[k]);
    } else if (o->kind == K_DICT) {
        int rc = rt_dict_del(o->op, rt_int_from(k));
        if (old >= 0 ? rc != 0 : rc != -1 || rt_error() != RT_ERR_KEY)
            fg_fail("rt_dict_del of key %d returned %d (%s)", k, rc, rt_error_message());
        rt_error_clear();
    } else if (rt_instance_set(o->op, (uint32_t)k, NULL) != 0) {
        fg_fail("rt_instance_set: %s", rt_error_message());
    }
}

static void
op_root(Reader *r, bool take)
{
    int i = pick(u8(r), take ? is_rootable : is_rooted);
    if (i < 0)
        return;
    fg_world.obj[i].roots += take ? 1 : -1;
    fg_compute_reach(fg_world.reach_op);
    if (take)
        rt_incref(fg_world.obj[i].op);
    else
        rt_decref(fg_world.obj[i].op);
}

static void
op_weakref(Reader *r)
{
    int x = pick(u8(r), is_weak_target);
    uint8_t flags = u8(r);
    int a = (flags & 4) ? pick(u8(r), is_reachable) : -1, i = fg_free_entry();
    if (x < 0 || i < 0)
        return;
    RtObject *wr = rt_weakref_new(fg_world.obj[x].op, (flags & 1) ? fg_wr_callback : NULL,
                                  a >= 0 ? fg_world.obj[a].op : NULL);
    if (wr == NULL) {
        fg_expect_nomem("rt_weakref_new");
        return;
    }
    Obj *o = new_entry(i, K_WEAKREF, wr);
    o->edge[0] = a;
    o->referent = x;
    o->has_callback = (flags & 1) != 0;
    o->junk = (flags & 2) != 0;
    if (rt_weakref_get(wr) != fg_world.obj[x].op)
        fg_fail("a new weakref does not return its referent");
}

/* Read a weakref and, if asked, take a root on what it returns: a
 * referent that was garbage comes back (and is tainted). */
static void
op_deref(Reader *r)
{
    int i = pick(u8(r), is_weakref);
    uint8_t flags = u8(r);
    if (i < 0)
        return;
    RtObject *got = rt_weakref_get(fg_world.obj[i].op);
    fg_check_weakref(i, got);
    Obj *x = &fg_world.obj[fg_world.obj[i].referent];
    if (got != NULL && (flags & 1) && x->roots < MAX_ROOTS) {
        rt_incref(got);
        x->roots++;
    }
}

static void
op_collect(Reader *r)
{
    uint8_t g = u8(r);
    if (g == 255) {
        if (rt_gc_collect(3) != -1 || rt_error() != RT_ERR_VALUE)
            fg_fail("rt_gc_collect(3) did not fail with RT_ERR_VALUE");
        rt_error_clear();
        return;
    }
    fg_world.exact = g % 3 == 2 && rt_gc_get_freeze_count() == 0;
    if (rt_gc_collect(g % 3) < 0)
        fg_fail("rt_gc_collect(%d): %s", g % 3, rt_error_message());
}

static void
op_threshold(Reader *r)
{
    static const long t0s[8] = {0, 1, 2, 3, 5, 8, 20, 700};
    uint8_t a = u8(r), b = u8(r);
    if (a == 255) {
        long before[3], after[3];
        rt_gc_get_threshold(before);
        if (rt_gc_set_threshold(-2, 1, 1) != -1 || rt_error() != RT_ERR_VALUE)
            fg_fail("a negative threshold was accepted");
        rt_error_clear();
        rt_gc_get_threshold(after);
        if (memcmp(before, after, sizeof before) != 0)
            fg_fail("a rejected threshold changed the thresholds");
        return;
    }
    if (rt_gc_set_threshold(t0s[a % 8], b & 3, (b >> 2) & 3) != 0)
        fg_fail("rt_gc_set_threshold: %s", rt_error_message());
}

/* Free the Slots or the Phoenix class and make it anew: the old class
 * must live on until its last instance (maybe garbage) is gone. */
static void
op_release(Reader *r)
{
    bool phoenix = u8(r) & 1;
    RtType **cls = phoenix ? &fg_world.phoenix_cls : &fg_world.slots_cls;
    if (fg_world.releases == MAX_RELEASES)
        return;
    fg_world.releases++;
    rt_class_free(*cls);
    *cls = rt_class_new(phoenix ? "Phoenix" : "Slots", phoenix ? 2 : 3, RT_CLASS_WEAKREF,
                        phoenix ? fg_phoenix_finalize : NULL);
    if (*cls == NULL)
        fg_fail("rt_class_new: %s", rt_error_message());
}

enum { OP_CREATE, OP_LINK, OP_UNLINK, OP_DROP, OP_ROOT, OP_WEAKREF, OP_DEREF, OP_COLLECT, OP_THRESHOLD, OP_ENABLE,
       OP_FREEZE, OP_FAULT, OP_CLEAR_LAZARUS, OP_RELEASE, OP_COUNT };

static void run_op(Reader *r, uint8_t op);

/* Arm fault injection around the next operation: its allocations may fail
 * (they must fail cleanly), and so may those of the callbacks it runs. */
static void
op_fault(Reader *r)
{
    uint8_t f = u8(r), next = u8(r) % OP_COUNT;
    if (next == OP_FAULT)
        return;
    rt_fault_inject(1 + f % 4, (f & 4) != 0);
    fg_world.faulting = true;
    run_op(r, next);
    rt_fault_inject(0, false);
    fg_world.faulting = false;
}

static void
run_op(Reader *r, uint8_t op)
{
    uint8_t b;
    switch (op) {
    case OP_CREATE: op_create(r); break;
    case OP_LINK: op_link(r); break;
    case OP_UNLINK: op_unlink(r); break;
    case OP_DROP: op_root(r, false); break;
    case OP_ROOT: op_root(r, true); break;
    case OP_WEAKREF: op_weakref(r); break;
    case OP_DEREF: op_deref(r); break;
    case OP_COLLECT: op_collect(r); break;
    case OP_THRESHOLD: op_threshold(r); break;
    case OP_ENABLE:
        b = u8(r) & 1;
        b ? rt_gc_enable() : rt_gc_disable();
        if (rt_gc_isenabled() != b)
            fg_fail("rt_gc_isenabled() disagrees");
        break;
    case OP_FREEZE: u8(r) & 1 ? rt_gc_freeze() : rt_gc_unfreeze(); break;
    case OP_FAULT: op_fault(r); break;
    case OP_RELEASE: op_release(r); break;
    default:
        fg_world.obj[LAZ].nedges = 0;
        fg_compute_reach(fg_world.reach_op);
        rt_list_clear(fg_world.obj[LAZ].op);
        break;
    }
}

static void
begin(void)
{
    fg_world.opno++;
    fg_world.nlog = 0;
    fg_world.fresh = -1;
    fg_world.exact = false;
    rt_error_clear();
    memcpy(fg_world.reach_op, fg_world.reach, sizeof fg_world.reach);
}

/* One operation and the checks after it. */
static void
step(Reader *r, uint8_t op)
{
    begin();
    run_op(r, op);
    fg_settle();
}

/* ==== start and end ===================================================== */

static void
start(Reader *r)
{
    static const long t0s[8] = {0, 1, 2, 3, 5, 8, 20, 700};
    static const RtAllocKind backends[3] = {RT_ALLOC_POOL, RT_ALLOC_MALLOC, RT_ALLOC_DEBUG};
    uint8_t a = u8(r), b = u8(r);
    RtConfig cfg;
    rt_config_default(&cfg);
    cfg.alloc = backends[(a >> 5) % 3];
    cfg.gc_threshold[0] = t0s[a & 7];
    cfg.gc_threshold[1] = b & 3;
    cfg.gc_threshold[2] = (b >> 2) & 3;
    cfg.gc_enabled = (a & 8) == 0;
    cfg.gc_timing = (a & 16) != 0;
    if (rt_init_ex(&cfg) != 0)
        fg_fail("rt_init_ex: %s", rt_error_message());
    if (b & 16)
        rti_runtime.gc.prefetch_min = 0;
    rti_type_register(&fg_tnode_type);
    memset(&fg_world, 0, sizeof fg_world);
    memset(fg_tnode_freed, 0, sizeof fg_tnode_freed);
    fg_world.slots_cls = rt_class_new("Slots", 3, RT_CLASS_WEAKREF, NULL);
    fg_world.phoenix_cls = rt_class_new("Phoenix", 2, RT_CLASS_WEAKREF, fg_phoenix_finalize);
    fg_world.junk_cls = rt_class_new("CbJunk", 1, 0, NULL);
    rt_gc_callback_add(fg_gc_observer, NULL);
    fg_world.obj[LAZ] = (Obj){.kind = K_LIST, .op = rt_list_new(0), .roots = 1};
    if (fg_world.slots_cls == NULL || fg_world.phoenix_cls == NULL || fg_world.junk_cls == NULL
        || fg_world.obj[LAZ].op == NULL)
        fg_fail("setting up: %s", rt_error_message());
    fg_compute_reach(fg_world.reach);
    fg_compute_maybe();
}

/* Drop everything; clear the lazarus list and collect until no finalizer
 * resurrects anything.  Guarantees every object is freed (every TNode
 * exactly once) and every block returned. */
static void
finish(void)
{
    rt_gc_unfreeze();
    for (int i = 1; i < MAX_OBJS; i++)
        while (is_rooted(i)) {
            begin();
            fg_world.obj[i].roots--;
            fg_compute_reach(fg_world.reach_op);
            rt_decref(fg_world.obj[i].op);
            fg_settle();
        }
    for (int round = 0; round <= MAX_OBJS; round++) {
        Reader none = {NULL, 0, 0};
        step(&none, OP_CLEAR_LAZARUS);
        begin();
        fg_world.exact = true;
        if (rt_gc_collect(2) < 0)
            fg_fail("rt_gc_collect(2): %s", rt_error_message());
        fg_settle();
        if (fg_world.obj[LAZ].nedges == 0)
            break;
    }
    for (int i = 1; i < MAX_OBJS; i++)
        if (fg_live(i))
            fg_fail("entry %d (%s) survived the teardown", i, fg_kind_name[fg_world.obj[i].kind]);
    for (int id = 0; id < fg_world.ntnodes; id++)
        if (fg_tnode_freed[id] != 1)
            fg_fail("TNode %d freed %d times", id, fg_tnode_freed[id]);
    rt_decref(fg_world.obj[LAZ].op);
    rt_gc_collect(2);   /* the callbacks' garbage */
    RtTypeStats ts[RT_MAX_TYPES];
    size_t n = rt_type_stats(ts, RT_MAX_TYPES);
    for (size_t i = 0; i < n && i < RT_MAX_TYPES; i++)
        if (ts[i].live != 0)
            fg_fail("%lld %s objects left after the teardown", (long long)ts[i].live, ts[i].name);
    char err[256];
    if (rti_pools_validate(&rti_runtime.heap.arenas, err, sizeof err) != 0)
        fg_fail("pool invariant broken: %s", err);
    RtAllocStats st;
    rt_alloc_stats(&st);
    if (st.blocks.current != 0)
        fg_fail("%lld blocks left after the teardown", (long long)st.blocks.current);
    rt_fini();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Reader r = {data, size, 0};
    start(&r);
    while (r.pos < r.size)
        step(&r, u8(&r) % OP_COUNT);
    finish();
    return 0;
}
