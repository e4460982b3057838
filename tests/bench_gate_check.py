#!/usr/bin/python3
"""The CI regression gate, run here: the commands of .github/workflows/bench.yml's
'gate' job against two commits of a scratch clone.

    tests/bench_gate_check.py [--keep]               the gate's verdict (long: below)
    tests/bench_gate_check.py --builds BUILD_DIR     the gate's steps (ctest)

1. Clone this repository's HEAD into a temporary folder (the base), and
   commit a change on top (the head): tests/fixtures/list_append_slower.patch
   (about 10% more instructions in list_append, a deliberate extra loop),
   or with --builds a line added to the README.
2. Run the gate job's steps as the workflow writes them (safe.directory with
   a private HOME, then scripts/bench-gate HEAD^1 ...) with
   BENCH_SUITE_SIZE=--tiny and GITHUB_STEP_SUMMARY pointing into the
   scratch folder.  With --builds, bench-gate builds nothing
   (BENCH_HEAD_BUILD and BENCH_BASE_BUILD both name BUILD_DIR) and measures
   one shard of the suites (-- --shard 1/40): seconds, for ctest.
3. Check what CI relies on: the results folders are real folders with
   their commits; the summary has the instructions, time and RSS tables and
   stays under GitHub's 1 MiB; the base worktree is gone; scripts/bench-history
   turns the head folder into customSmallerIsBetter entries; and the exit
   status: 1 on the fixture, naming list_append (instructions are exact:
   the gate fails however noisy the machine), 0 with --builds (one binary
   on both sides: equal counts).
4. Check the workflow's shape: permissions, concurrency, the checkout depth,
   safe.directory, the uploaded path (a real folder, not results/latest).

Exit 0 when every check holds, 77 (skipped) with --builds where no
instruction counter can run.  The verdict run takes two builds and the
whole counted tiny suite on both sides, about 1,200 counted samples: under
callgrind each costs valgrind's start-up and ~70x the workload (here, on 2
cores under a load average of 19, 7.5 s a sample: hours; run it on a quiet
machine).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
failures = []


def check(cond, what):
    print('%s  %s' % ('ok  ' if cond else 'FAIL', what))
    if not cond:
        failures.append(what)


def sh(cmd, cwd, env=None, check_rc=True):
    p = subprocess.run(cmd, cwd=cwd, env=env, shell=isinstance(cmd, str), capture_output=True, text=True)
    if check_rc and p.returncode != 0:
        sys.stderr.write('%s\n%s%s' % (cmd, p.stdout, p.stderr))
        raise SystemExit('bench_gate_check: a setup step failed')
    return p


def workflow():
    with open(os.path.join(ROOT, '.github/workflows/bench.yml')) as f:
        wf = yaml.safe_load(f)
    on = wf.get('on', wf.get(True))         # YAML 1.1 reads 'on' as True
    check('pull_request' in on and on['push']['branches'] == ['main'], 'runs on pull requests and pushes to main')
    check(wf['permissions'] == {'contents': 'read'}, 'permissions: contents read by default')
    check('github.head_ref' in wf['concurrency']['group'] and wf['concurrency']['cancel-in-progress'],
          'a concurrency group per pull request, cancelling older runs')
    gate = wf['jobs']['gate']
    check(gate['if'] == "github.event_name == 'pull_request'", 'the gate runs on pull requests')
    checkout = [s for s in gate['steps'] if s.get('uses', '').startswith('actions/checkout')][0]
    check(checkout['with']['fetch-depth'] == 2, 'the gate checks out the merge commit and its parents')
    uploads = [s for j in wf['jobs'].values() for s in j['steps'] if s.get('uses', '').startswith('actions/upload')]
    check(all('latest' not in s['with']['path'] for s in uploads), 'uploads real folders, never results/latest')
    check(wf['jobs']['history']['permissions'] == {'contents': 'write'}, 'only the history job may write')
    bench = [s for s in wf['jobs']['history']['steps'] if 'github-action-benchmark' in s.get('uses', '')][0]
    check(bench['with']['tool'] == 'customSmallerIsBetter', 'history in customSmallerIsBetter shape')
    runs = [s['run'] for s in gate['steps'] if 'run' in s and 'apt-get' not in s['run']]
    check(any('safe.directory' in r for r in runs), 'safe.directory for the container checkout')
    return runs


def scratch(tmp, builds):
    """The scratch clone with its head commit, and the gate's environment."""
    repo = os.path.join(tmp, 'repo')
    sh(['git', 'clone', '-q', '--shared', ROOT, repo], tmp)
    env = dict(os.environ, HOME=tmp, GIT_AUTHOR_NAME='t', GIT_AUTHOR_EMAIL='t@t', GIT_COMMITTER_NAME='t',
               GIT_COMMITTER_EMAIL='t@t', GITHUB_WORKSPACE=repo, BENCH_SUITE_SIZE='--tiny',
               GITHUB_STEP_SUMMARY=os.path.join(tmp, 'summary.md'))
    if builds:
        env.update(BENCH_HEAD_BUILD=builds, BENCH_BASE_BUILD=builds)
        with open(os.path.join(repo, 'README.md'), 'a') as f:
            f.write('\nA line that changes no code.\n')
        sh(['git', 'commit', '-qam', 'a change of no code'], repo, env)
    else:
        sh(['git', 'apply', os.path.join(ROOT, 'tests/fixtures/list_append_slower.patch')], repo)
        sh(['git', 'commit', '-qam', 'fixture: list_append does 10% more work'], repo, env)
    return repo, env


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--keep', action='store_true', help='keep the scratch folder')
    ap.add_argument('--builds', help='a build folder for both sides: the steps only, in seconds')
    args = ap.parse_args()
    builds = os.path.abspath(args.builds) if args.builds else None
    if builds and shutil.which('valgrind') is None and not os.path.exists('/sys/bus/event_source/devices/cpu'):
        print('skipped: no instruction counter (apt-get install valgrind)')
        return 77
    runs = workflow()
    keep = args.keep
    tmp = tempfile.mkdtemp(prefix='rtb-gate-')
    repo, env = scratch(tmp, builds)
    base, head = (sh(['git', 'rev-parse', r], repo).stdout.strip() for r in ('HEAD^1', 'HEAD'))
    status = None
    for cmd in runs:        # the gate job's commands, as the workflow writes them
        if builds and 'bench-gate' in cmd:
            cmd += ' -- --shard 1/40'
        p = sh(cmd, repo, env, check_rc=False)
        print('$ %s  -> %d' % (cmd, p.returncode))
        if 'bench-gate' in cmd:
            status = p.returncode
            sys.stdout.write(p.stderr[-3000:])
        elif p.returncode != 0:
            check(False, '%s: %s' % (cmd, p.stderr))
    out = os.path.join(repo, 'bench-results')
    for side, sha in (('base', base), ('head', head)):
        for d in (os.path.join(out, side), os.path.join(out, 'counted', side)):
            check(os.path.isdir(d) and not os.path.islink(d), '%s is a real folder' % d)
            check(os.path.exists(os.path.join(d, 'runs.json')), '%s has runs.json' % d)
            with open(os.path.join(d, 'COMMIT')) as f:
                check(f.read().strip() == sha, '%s names its commit' % d)
    with open(env['GITHUB_STEP_SUMMARY']) as f:
        summary = f.read()
    for metric in ('instructions', 'wall_s', 'peak_rss_bytes'):
        check('**%s**' % metric in summary, 'the summary has the %s table' % metric)
    check(len(summary.encode()) < 1 << 20, 'the summary stays under 1 MiB (%d bytes)' % len(summary.encode()))
    check(not os.path.exists(os.path.join(repo, '.bench/base')), 'the base worktree is removed')
    hist = sh([os.path.join(repo, 'scripts/bench-history'), os.path.join(out, 'head')], repo)
    entries = json.loads(hist.stdout)
    check(entries and all(set(e) >= {'name', 'unit', 'value'} and isinstance(e['value'], (int, float))
                          for e in entries), 'bench-history writes customSmallerIsBetter entries')
    with open(os.path.join(out, 'counted', 'head', 'runs.json')) as f:
        counted = [s for r in json.load(f)['runs'] for s in r['samples']]
    check(counted and all(isinstance(s['instructions'], int) for s in counted), 'the counted suite counted')
    if builds:
        check(status == 0, 'one binary on both sides passes the gate (exit %s)' % status)
    else:
        check(status == 1, 'the gate fails on the 10%-slower list_append (exit %s)' % status)
        check('list_append' in summary.split('significantly worse')[-1], 'the failure names list_append')
    if keep:
        print('kept', tmp)
    else:
        subprocess.run(['rm', '-rf', tmp])
    print('%d check(s) failed' % len(failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
