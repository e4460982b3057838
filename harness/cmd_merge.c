/* cmd_merge.c -- rtbench merge DIR... --out DIR: join the folders of a
 * sharded suite or sweep (--shard I/N on several machines) into one.
 *
 * Result files of the same name are joined run by run.  Refused (exit 1,
 * nothing written): a shard missing ("sweep.json: shard 2 of 3 is
 * missing"), a shard given twice, a configuration in two shards, files of
 * different kinds, and -- unless --allow-mixed -- shards made by different
 * commits or on different machines, whose figures do not compare.  Other
 * files of the folders (micro.json, hyperfine-*.json) are copied from the
 * first folder that has them.
 */
#define _GNU_SOURCE
#include "rtbench.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void
help(void)
{
    printf("usage: rtbench merge DIR... --out DIR [--allow-mixed] [--force]\n\n"
           "Join the result folders of the shards of one suite or sweep (each made with\n"
           "--shard I/N) into one folder, ready for 'rtbench plot'.  Every shard of every\n"
           "file must be there, once; shards of different commits or machines are refused\n"
           "unless --allow-mixed.  micro.json and hyperfine-*.json are copied over.\n");
}

static const RtbOptDef options[] = {
    {"out", true, RTB_OPT_OUT}, {"allow-mixed", false, RTB_OPT_ALLOW_MIXED}, {"force", false, RTB_OPT_FORCE},
    {NULL, false, 0},
};

typedef struct Merge {
    const char **dirs;
    int ndirs;
    const char *out;
    bool mixed, force;
} Merge;

static int
parse(int argc, char **argv, Merge *m)
{
    RtbGetopt g = {"merge", argc, argv, NULL, 0, NULL, NULL};
    int r;
    m->dirs = rtb_xcalloc((size_t)argc + 1, sizeof *m->dirs);
    while ((r = rtb_getopt(&g, options, NULL)) == 1) {
        if (g.id == RTB_OPT_HELP)
            help(), r = -1;
        else if (g.positional != NULL)
            m->dirs[m->ndirs++] = g.positional;
        else if (g.id == RTB_OPT_OUT)
            m->out = g.value;
        else if (g.id == RTB_OPT_ALLOW_MIXED)
            m->mixed = true;
        else if (g.id == RTB_OPT_FORCE)
            m->force = true;
        if (r != 1)
            break;
    }
    rtb_getopt_free(&g);
    if (r == 0 && (m->ndirs == 0 || m->out == NULL))
        r = rtb_usage_error("merge", "give the shards' folders and --out DIR: rtbench merge A B C --out DIR");
    return r;
}

static bool
is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Join the shards of one file name; 0, or 1 after saying what is wrong. */
static int
merge_file(const Merge *m, const char *name)
{
    RtbResult out, part;
    char err[1024];
    bool seen[1001] = {false};
    int count = 0, status = 0, nparts = 0;
    memset(&out, 0, sizeof out);
    for (int d = 0; d < m->ndirs && status == 0; d++) {
        char *path = rtb_asprintf("%s/%s", m->dirs[d], name);
        if (!is_file(path)) {
            free(path);
            continue;
        }
        if (rtb_result_read(path, &part, err, sizeof err) != 0) {
            rtb_say("rtbench merge: %s", err);
            free(path);
            return 1;
        }
        int i = part.shard_index, n = part.shard_count;
        if (nparts == 0) {
            count = n;
        } else if (n != count || strcmp(part.kind ? part.kind : "", out.kind ? out.kind : "") != 0) {
            rtb_say("rtbench merge: %s: not a shard of the same command as the others (kind %s, shard %d/%d)", path,
                    part.kind ? part.kind : "?", i, n);
            status = 1;
        } else if (!m->mixed && (strcmp(part.machine.git_commit ? part.machine.git_commit : "",
                                        out.machine.git_commit ? out.machine.git_commit : "") != 0
                                 || strcmp(part.machine.hostname ? part.machine.hostname : "",
                                           out.machine.hostname ? out.machine.hostname : "") != 0)) {
            rtb_say("rtbench merge: %s: made by commit %s on %s, the others by %s on %s (--allow-mixed to join them "
                    "anyway)", path, part.machine.git_commit, part.machine.hostname, out.machine.git_commit,
                    out.machine.hostname);
            status = 1;
        }
        if (status == 0 && (i < 1 || i > 1000 || seen[i])) {
            rtb_say("rtbench merge: %s: shard %d/%d %s", path, i, n, i >= 1 && i <= 1000 ? "given twice" : "is not a shard");
            status = 1;
        }
        if (status == 0 && nparts++ == 0) {
            /* The first shard's header is the frame; its runs join below. */
            rtb_result_read(path, &out, err, sizeof err);
            for (size_t k = 0; k < out.nruns; k++)
                rtb_run_free(&out.runs[k]);
            free(out.runs);
            free(out.schedule.order);
            out.runs = NULL;
            out.schedule.order = NULL;
            out.nruns = out.schedule.norder = 0;
            out.shard_index = out.shard_count = 0;
        }
        if (status == 0) {
            seen[i] = true;
            out.complete = out.complete && part.complete;
            for (size_t k = 0; k < part.nruns && status == 0; k++) {
                for (size_t j = 0; j < out.nruns; j++)
                    if (strcmp(out.runs[j].name, part.runs[k].name) == 0) {
                        rtb_say("rtbench merge: %s: %s is in two shards", path, part.runs[k].name);
                        status = 1;
                    }
                RtbRun *r = rtb_result_add_run(&out);
                *r = part.runs[k];
                memset(&part.runs[k], 0, sizeof part.runs[k]);
            }
        }
        rtb_result_free(&part);
        free(path);
    }
    for (int i = 1; status == 0 && i <= count; i++)
        if (!seen[i]) {
            rtb_say("rtbench merge: %s: shard %d of %d is missing (give the folder of every shard)", name, i, count);
            status = 1;
        }
    if (status == 0 && count == 0 && nparts > 1) {
        rtb_say("rtbench merge: %s is in %d folders but was not made with --shard", name, nparts);
        status = 1;
    }
    if (status == 0) {
        for (size_t k = 0; k < out.nruns; k++)
            rtb_run_summarize(&out.runs[k], &out);
        char *dst = rtb_asprintf("%s/%s", m->out, name);
        if (rtb_result_write(dst, &out, err, sizeof err) != 0) {
            rtb_say("rtbench merge: %s", err);
            status = 1;
        }
        free(dst);
    }
    rtb_result_free(&out);
    return status;
}

static int
copy_file(const char *from, const char *to)
{
    char why[512], err[1024];
    Rtj *doc = rtj_parse_file(from, why, sizeof why);
    if (doc == NULL) {
        rtb_say("rtbench merge: %s: %s", from, why);
        return 1;
    }
    size_t len;
    char *text = rtj_dump(doc, 2, &len);
    int r = rtb_write_file_atomic(to, text, len, err, sizeof err);
    if (r != 0)
        rtb_say("rtbench merge: %s", err);
    free(text);
    rtj_free(doc);
    return r != 0;
}

/* Every *.json name in the folders, once. */
static int
names_in(const Merge *m, char ***names)
{
    int n = 0;
    *names = NULL;
    for (int d = 0; d < m->ndirs; d++) {
        DIR *dir = opendir(m->dirs[d]);
        struct dirent *e;
        while (dir != NULL && (e = readdir(dir)) != NULL) {
            size_t len = strlen(e->d_name);
            if (e->d_name[0] == '.' || len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
                continue;
            bool dup = false;
            for (int k = 0; k < n && !dup; k++)
                dup = strcmp((*names)[k], e->d_name) == 0;
            if (!dup) {
                *names = rtb_xrealloc(*names, (size_t)(n + 1) * sizeof **names);
                (*names)[n++] = rtb_strdup(e->d_name);
            }
        }
        if (dir != NULL)
            closedir(dir);
    }
    return n;
}

int
rtb_cmd_merge(int argc, char **argv)
{
    Merge m = {0};
    int r = parse(argc, argv, &m);
    if (r != 0) {
        free(m.dirs);
        return r < 0 ? 0 : r;
    }
    char err[1024];
    struct stat st;
    for (int d = 0; d < m.ndirs && r == 0; d++)
        if (stat(m.dirs[d], &st) != 0 || !S_ISDIR(st.st_mode))
            r = rtb_usage_error("merge", "%s is not a folder", m.dirs[d]);
    char **names = NULL;
    int n = r == 0 ? names_in(&m, &names) : 0;
    for (int k = 0; k < n && r == 0 && !m.force; k++) {
        char *dst = rtb_asprintf("%s/%s", m.out, names[k]);
        if (is_file(dst))
            r = rtb_usage_error("merge", "%s exists; add --force to replace it, or choose another --out", dst);
        free(dst);
    }
    if (r == 0 && rtb_check_writable(m.out, true, err, sizeof err) != 0)
        r = rtb_usage_error("merge", "%s", err);
    int failures = 0;
    for (int k = 0; k < n && r == 0; k++) {
        char *first = NULL;
        for (int d = 0; d < m.ndirs && first == NULL; d++) {
            char *path = rtb_asprintf("%s/%s", m.dirs[d], names[k]);
            if (is_file(path))
                first = path;
            else
                free(path);
        }
        char why[512];
        Rtj *doc = rtj_parse_file(first, why, sizeof why);
        bool ours = doc != NULL && rtj_get(doc, "schema") != NULL;
        rtj_free(doc);
        if (ours) {
            failures += merge_file(&m, names[k]);
        } else {
            char *dst = rtb_asprintf("%s/%s", m.out, names[k]);
            failures += copy_file(first, dst);
            free(dst);
        }
        free(first);
    }
    for (int k = 0; k < n; k++)
        free(names[k]);
    free(names);
    free(m.dirs);
    if (r == 0 && failures == 0)
        printf("merged %d file(s) into %s\n", n, m.out);
    return r != 0 ? r : failures ? 1 : 0;
}
