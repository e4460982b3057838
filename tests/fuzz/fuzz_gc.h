/* fuzz_gc.h -- what the two files of the fuzz_gc target share.
 *
 * fuzz_gc.c reads the program and runs its operations; fuzz_gc_model.c
 * holds the model of every reference the program made, the TNode test
 * type, the finalizer and weakref callback, and the checks made after
 * every operation (fuzz_gc.c's opening comment describes both).
 */
#ifndef FUZZ_GC_H
#define FUZZ_GC_H

#include "internal.h"

#define MAX_OBJS 64
#define MAX_EDGES 16        /* the lazarus list's bound; others hold fewer */
#define LIST_MAX 8
#define MAX_ROOTS 4
#define MAX_TNODES 4096
#define LAZ 0               /* the lazarus list's entry */
#define MAX_RELEASES 16     /* class releases per input: type ids stay free */

enum { K_FREE, K_TNODE, K_LIST, K_DICT, K_TUPLE, K_SLOTS, K_PHOENIX, K_WEAKREF, K_COUNT };

typedef struct Obj {
    int kind;               /* K_FREE: the entry holds nothing */
    RtObject *op;
    bool dead;              /* known freed; the entry is reused once unreferenced */
    bool tainted;           /* was unreachable, then came back: its weakrefs may be cleared */
    int roots;              /* references the program holds */
    int nedges;
    int edge[MAX_EDGES];    /* entries it holds references to; -1: an empty slot */
    int tnode;              /* TNode: its id */
    bool resurrect, junk;   /* Phoenix, weakref: what the finalizer / callback does */
    bool finalized;         /* Phoenix */
    int referent;           /* weakref */
    bool referent_dead, has_callback;
    int calls;              /* weakref: callback calls */
} Obj;

typedef struct World {
    Obj obj[MAX_OBJS];
    bool reach[MAX_OBJS], maybe[MAX_OBJS];
    bool reach_op[MAX_OBJS];    /* reach once the running operation's own effect is made */
    int log[MAX_EDGES], nlog;   /* entries the running operation resurrected */
    int fresh;                  /* the entry it created, or -1 */
    bool faulting, exact;
    int ntnodes;
    int releases;               /* classes released (and made anew) */
    bool collecting;            /* between the gc callbacks' start and stop */
    unsigned opno;
    RtType *slots_cls, *phoenix_cls, *junk_cls;
} World;

/* A test type that counts its deallocations (fg_tnode_freed). */
typedef struct TNode {
    RtObject ob_base;
    int id;
    RtObject *slot[3];
} TNode;

/* ==== state (defined in fuzz_gc_model.c) ================================ */

extern World fg_world;                          /* the model and the running operation */
extern int fg_tnode_freed[MAX_TNODES];          /* deallocations of each TNode, by id */
extern const char *const fg_kind_name[K_COUNT]; /* each kind's type name, as rt_type_stats says it */
extern RtType fg_tnode_type;                    /* TNode's type; register it after rt_init_ex */

/* ==== failures ========================================================== */

/* Report the failure with the operation's number, dump the model, abort. */
_Noreturn void fg_fail(const char *fmt, ...) RT_PRINTF(1, 2);
/* A call failed: check that an armed fault made it fail, with RT_ERR_NOMEM. */
void fg_expect_nomem(const char *what);

/* ==== the model's graph ================================================= */

/* Entry i holds an object not known to be freed. */
bool fg_live(int i);
/* Fill reach with the entries reachable from the roots. */
void fg_compute_reach(bool *reach);
/* Recompute fg_world.maybe: the entries possibly alive. */
void fg_compute_maybe(void);
/* An entry to fill with a new object, or -1 when none is free. */
int fg_free_entry(void);
/* A new object got address op: mark dead whatever entry had it. */
void fg_claim_address(RtObject *op);

/* ==== finalizer and callbacks =========================================== */

/* The gc callback: checks that collections start and stop in pairs. */
void fg_gc_observer(const char *phase, const RtGcInfo *info, void *arg);
/* The Phoenix class's finalizer: may allocate and resurrect into lazarus. */
void fg_phoenix_finalize(RtObject *self);
/* The weakrefs' callback: may allocate. */
void fg_wr_callback(RtObject *wr, RtObject *arg);

/* ==== checks ============================================================ */

/* Check what weakref entry i returned (got) against the model. */
void fg_check_weakref(int i, RtObject *got);
/* After an operation: apply its resurrections, learn what died, check. */
void fg_settle(void);

#endif
