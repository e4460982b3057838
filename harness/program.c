/* program.c -- a Python program as the thing measured: rtbench cpython,
 * sweep and tune take --script PATH or -m MODULE in place of a workload.
 *
 * The command line: --script PATH (or -m MODULE) may stand anywhere among
 * rtbench's options; the program's own arguments come after '--'.
 * rtb_program_take lifts both out of argv before getopt sees it, skipping
 * the values of options that take one (so that "--out -m.json" stays an
 * output path), and leaves rtbench's options to the usual parser.
 *
 * Before any work, the program is checked where that is cheap: a script
 * that is not there (or a folder without __main__.py) is refused with one
 * line and exit status 2; and each interpreter is asked, in one short run
 * (rtb_python_probe), for its default thresholds -- the program's settings
 * when none are given, the control of a search -- its version, and whether
 * it finds the -m module and the --freeze-after-import modules from where
 * run.py will look for them (the current folder for -m, the script's own
 * folder for a script).
 *
 * In results, a program's configurations are named after its file (or
 * module): "request_handler.py/t0:700/t1:10/t2:10/gc:on/impl:cpython", with
 * a synthetic workload descriptor of that name and no parameters, so that
 * the driver, the result files, compare and the plots treat it as any
 * other workload.
 */
#define _GNU_SOURCE
#include "rtbench.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ==== the command line ==================================================== */

/* Does argv[i] take the next argument as its value (an option of defs
 * with an argument, written without '=')? */
static bool
takes_value(const char *arg, const RtbOptDef *defs)
{
    if (strncmp(arg, "--", 2) != 0 || strchr(arg, '=') != NULL)
        return false;
    for (const RtbOptDef *d = defs; d->name != NULL; d++)
        if (d->has_arg && strcmp(arg + 2, d->name) == 0)
            return true;
    return false;
}

/* The name in results: the script's file name (a folder's or zip's own
 * name), or the module; no character a CSV field or a name part would
 * trip on. */
static void
program_name(RtbProgram *prog)
{
    const char *t = prog->target;
    size_t len = strlen(t);
    while (!prog->module && len > 1 && t[len - 1] == '/')
        len--;
    const char *base = t;
    for (size_t k = 0; !prog->module && k < len; k++)
        if (t[k] == '/')
            base = t + k + 1;
    snprintf(prog->name, sizeof prog->name, "%.*s", (int)(len - (size_t)(base - t)), base);
    for (char *c = prog->name; *c; c++)
        if (strchr(",\"\n\r/ ", *c) != NULL)
            *c = '_';
    memset(&prog->workload, 0, sizeof prog->workload);
    prog->workload.name = prog->name;
    prog->workload.description = "a Python program";
}

static int
take_target(const char *cmd, RtbProgram *prog, bool module, const char *target)
{
    if (prog->target != NULL)
        return rtb_usage_error(cmd, "one program at a time: %s %s, then %s %s", prog->module ? "-m" : "--script",
                               prog->target, module ? "-m" : "--script", target ? target : "");
    if (target == NULL || *target == '\0')
        return rtb_usage_error(cmd, "%s needs %s", module ? "-m" : "--script",
                               module ? "a module name (-m json.tool)" : "the path of a Python program");
    prog->module = module;
    prog->target = target;
    return 0;
}

int
rtb_program_take(const char *cmd, int argc, char **argv, const RtbOptDef *defs, RtbProgram *prog, int *rest_argc,
                 char ***rest)
{
    memset(prog, 0, sizeof *prog);
    char **out = rtb_xcalloc((size_t)argc + 1, sizeof *out);
    int n = 0, status = 0, i;
    out[n++] = argv[0];
    for (i = 1; i < argc && status == 0; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            break;
        if (strcmp(a, "--script") == 0 || strcmp(a, "-m") == 0) {
            status = take_target(cmd, prog, a[1] == 'm', i + 1 < argc ? argv[i + 1] : NULL);
            i++;
        } else if (strncmp(a, "--script=", 9) == 0) {
            status = take_target(cmd, prog, false, a + 9);
        } else if (strncmp(a, "-m", 2) == 0 && a[2] != '-') {
            status = take_target(cmd, prog, true, a + 2);
        } else {
            out[n++] = argv[i];
            if (takes_value(a, defs) && i + 1 < argc)
                out[n++] = argv[++i];
        }
    }
    if (status == 0 && prog->target == NULL) {
        free(out);
        return i < argc ? rtb_usage_error(cmd, "arguments after '--' are a program's: give --script PATH or -m "
                                               "MODULE") : 1;
    }
    if (status != 0) {
        free(out);
        return status;
    }
    prog->args = argv + i + (i < argc);     /* after the '--' */
    prog->nargs = argc - i - (i < argc);
    program_name(prog);
    *rest_argc = n;
    *rest = out;
    return 0;
}

/* ==== checks ============================================================== */

bool
rtb_module_name_ok(const char *m)
{
    for (const char *part = m; *part;) {
        size_t len = strcspn(part, ".");
        if (len == 0 || (part[0] >= '0' && part[0] <= '9'))
            return false;
        for (size_t k = 0; k < len; k++)
            if (!(part[k] == '_' || (part[k] >= 'a' && part[k] <= 'z') || (part[k] >= 'A' && part[k] <= 'Z') ||
                  (part[k] >= '0' && part[k] <= '9') || (unsigned char)part[k] >= 0x80))
                return false;
        part += len;
        if (*part == '.' && *++part == '\0')
            return false;
    }
    return *m != '\0';
}

int
rtb_program_check(const char *cmd, const RtbProgram *prog)
{
    if (prog->module)
        return rtb_module_name_ok(prog->target) ? 0
               : rtb_usage_error(cmd, "-m expects a module name such as json.tool; got '%s'", prog->target);
    struct stat st;
    if (stat(prog->target, &st) != 0)
        return rtb_usage_error(cmd, "no script %s (%s): give the path of a Python program", prog->target,
                               strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        char *main_py = rtb_asprintf("%s/__main__.py", prog->target);
        int r = stat(main_py, &st) == 0 ? 0
                : rtb_usage_error(cmd, "%s is a folder without __main__.py: give a script, or a folder or zip file "
                                  "with a __main__.py", prog->target);
        free(main_py);
        return r;
    }
    FILE *f = fopen(prog->target, "r");
    if (f == NULL)
        return rtb_usage_error(cmd, "cannot read the script %s (%s)", prog->target, strerror(errno));
    fclose(f);
    return 0;
}

/* ==== asking the interpreter ================================================ */

/* argv: MODULE (or ""), FOLDER to search first (or ""), FREEZE modules
 * (or ""); prints three lines: the thresholds, the modules not found (or
 * "-"), the version. */
static const char probe_code[] =
    "import gc, sys\n"
    "from importlib.util import find_spec\n"
    "def found(name):\n"
    "    try:\n"
    "        return find_spec(name) is not None\n"
    "    except Exception:\n"
    "        return False\n"
    "module, folder, freeze = sys.argv[1:4]\n"
    "if folder:\n"
    "    sys.path[0] = folder\n"
    "names = ([module] if module else []) + (freeze.split(',') if freeze else [])\n"
    "print(*gc.get_threshold()[:3])\n"
    "print(' '.join(n for n in names if not found(n)) or '-')\n"
    "print(sys.version.split()[0])\n";

int
rtb_python_probe(const char *python, const RtbProgram *prog, RtbPythonProbe *out, char *err, size_t errlen)
{
    char folder[PATH_MAX] = "";
    if (prog != NULL && !prog->module) {
        /* run.py puts the script's real folder first on sys.path */
        char *dir = rtb_dirname(prog->target), *real = realpath(dir, NULL);
        snprintf(folder, sizeof folder, "%s", real ? real : dir);
        free(dir);
        free(real);
    }
    char *argv[] = {(char *)python, "-c", (char *)probe_code, prog && prog->module ? (char *)prog->target : "", folder,
                    prog && prog->freeze ? (char *)prog->freeze : "", NULL};
    char text[1024];
    int status = rtb_capture(argv, text, sizeof text);
    memset(out, 0, sizeof *out);
    char missing[256];
    if (status != 0 || sscanf(text, "%ld %ld %ld %255s %63s", &out->threshold[0], &out->threshold[1],
                              &out->threshold[2], missing, out->version) != 5) {
        snprintf(err, errlen, "%s does not run as a Python 3 interpreter (exit status %d)", python, status);
        return -1;
    }
    /* the second line holds the missing names, separated by spaces */
    char *line = strchr(text, '\n');
    char *end = line ? strchr(line + 1, '\n') : NULL;
    if (line && end && strncmp(line + 1, "-\n", 2) != 0)
        snprintf(out->missing, sizeof out->missing, "%.*s", (int)(end - line - 1), line + 1);
    return 0;
}

/* ==== help ================================================================== */

void
rtb_program_help(const char *cmd)
{
    printf("A Python program instead of a workload (run by workloads/python/run.py, as\n"
           "'python PATH ARGS' would run it; stdout to /dev/null):\n"
           "  --script PATH             the program (a file, or a folder or zip file with\n"
           "                            a __main__.py)\n"
           "  -m MODULE                 or a module, as 'python -m MODULE'\n"
           "  -- ARGS...                the program's arguments, after rtbench's options\n"
           "  --freeze-after-import M1,M2  import these, then gc.freeze(), before the\n"
           "                            program's first line (a pre-fork server)\n"
           "  --fork-workers N          after the program's body, fork N workers that each\n"
           "                            call its worker(); their PSS and USS are recorded\n"
           "  --gc-timing on|off        time every collection (default on)\n");
    if (strcmp(cmd, "tune") != 0)
        printf("Without --threshold a program runs with the interpreter's own defaults\n"
               "(gc.get_threshold() as it starts).\n");
}

/* ==== in results ============================================================ */

void
rtb_program_to_run(const RtbConfig *c, RtbRun *r)
{
    const RtbProgram *prog = c->program;
    r->program_kind = rtb_strdup(prog->module ? "module" : "script");
    r->program_target = rtb_strdup(prog->target);
    r->nargs = prog->nargs;
    r->program_args = rtb_xcalloc((size_t)prog->nargs + 1, sizeof *r->program_args);
    for (int k = 0; k < prog->nargs; k++)
        r->program_args[k] = rtb_strdup(prog->args[k]);
    r->freeze = rtb_xcalloc(8, sizeof *r->freeze);
    if (c->freeze && prog->freeze != NULL) {
        char *copy = rtb_strdup(prog->freeze);
        for (char *save = NULL, *it = strtok_r(copy, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
            r->freeze = rtb_xrealloc(r->freeze, (size_t)(r->nfreeze + 2) * sizeof *r->freeze);
            r->freeze[r->nfreeze++] = rtb_strdup(it);
        }
        free(copy);
    }
    r->fork_workers = prog->fork_workers;
}

/* ==== the interpreters ==================================================== */

/* "/opt/a/bin/python3" -> "opt_a_bin_python3": a name part of its own. */
static char *
python_label(const char *given)
{
    while (*given == '/')
        given++;
    char *label = rtb_strdup(given);
    for (char *c = label; *c; c++)
        if (strchr("/,\"\n\r ", *c) != NULL)
            *c = '_';
    return label;
}

int
rtb_axes_resolve_pythons(const char *cmd, RtbAxes *ax)
{
    if (ax->npython == 0)
        ax->python[ax->npython++] = rtb_strdup(ax->base.python);
    char *run_py = rtb_asprintf("%s/workloads/python/run.py", rtb_home());
    int status = access(run_py, R_OK) == 0 ? 0
                 : rtb_usage_error(cmd, "cannot find workloads/python/run.py under %s (set RTBENCH_HOME to the "
                                   "rtbench source tree)", rtb_home());
    free(run_py);
    for (int k = 0; k < ax->npython && status == 0; k++) {
        char *found = rtb_which(ax->python[k]);
        if (found == NULL) {
            status = rtb_usage_error(cmd, "no interpreter '%s' (not an executable file, nor a program in PATH); "
                                     "install Debian's python3, or give --python PATH", ax->python[k]);
            break;
        }
        for (int j = 0; j < k; j++)
            if (strcmp(ax->python[j], found) == 0)
                status = rtb_usage_error(cmd, "--python names %s twice", found);
        if (ax->npython > 1)
            ax->python_label[k] = python_label(ax->python[k]);
        free((char *)ax->python[k]);
        ax->python[k] = found;
        if (ax->program == NULL || status != 0)
            continue;
        RtbPythonProbe probe;
        char err[512];
        if (rtb_python_probe(found, ax->program, &probe, err, sizeof err) != 0)
            status = rtb_usage_error(cmd, "%s", err);
        else if (probe.missing[0] != '\0')
            status = rtb_usage_error(cmd, "%s finds no module %s (looking %s): check the name, or the folder "
                                     "rtbench runs in", found, probe.missing,
                                     ax->program->module ? "from the current folder" : "beside the script first");
        else
            memcpy(ax->python_threshold[k], probe.threshold, sizeof probe.threshold);
    }
    if (status == 0)
        ax->base.python = ax->python[0];
    return status;
}
