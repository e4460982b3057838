"""run.py's command line, parsed into a Command.

Every error is a UsageError whose message says what was wrong and what is
accepted; run.py prints it as one line and exits EXIT_USAGE.
"""
import importlib
import os

WORKLOADS = (
    'list_append', 'dict_churn', 'cycle_storm', 'binary_trees',
    'long_lived', 'fragmentation', 'gc_collect', 'gc_traversal', 'shared_refs',
)

MAX_PARAM = 2**63 - 1           # parameters are int64 on the C side
MAX_THRESHOLD = 2**31 - 1       # gc.set_threshold takes C ints
MAX_WORKERS = 1024
MAX_FD = 2**31 - 1

USAGE = ('usage: run.py WORKLOAD [--PARAM VALUE ...] [OPTIONS]\n'
         '       run.py [OPTIONS] [--freeze-after-import MODULE,...] '
         '[--fork-workers N]\n'
         '              (--script PATH | -m MODULE) [--] [ARGS...]\n'
         '       run.py --list\n'
         'OPTIONS: --threshold T0[,T1[,T2]] --gc on|off --gc-timing on|off '
         '--result-fd N --ready-fd N')
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_FAILED = 1

OPTIONS = ('--threshold', '--gc', '--gc-timing', '--result-fd', '--ready-fd')
PROGRAM_OPTIONS = ('--freeze-after-import', '--fork-workers')


class UsageError(Exception):
    """A bad command line; the message says what was wrong and what is accepted."""


class Command:
    """What the command line asks for."""

    __slots__ = ('mode', 'module', 'params', 'threshold', 'gc_enabled',
                 'gc_timing', 'result_fd', 'ready_fd', 'target', 'args',
                 'freeze', 'fork_workers')

    def __init__(self, mode):
        self.mode = mode        # 'list', 'twin', 'script' or 'module'
        self.module = None      # the workload module (twin)
        self.params = None
        self.threshold = None   # None, or [T0, T1, T2] (None keeps one)
        self.gc_enabled = True
        self.gc_timing = True
        self.result_fd = None
        self.ready_fd = None
        self.target = None      # the script's path or the module's name
        self.args = []          # the program's arguments
        self.freeze = []        # --freeze-after-import
        self.fork_workers = 0


def load_workload(name):
    """Import and return the module of workload name."""
    if name not in WORKLOADS:
        raise UsageError('unknown workload %r (expected one of: %s; or '
                         '--script PATH, -m MODULE)'
                         % (name, ', '.join(WORKLOADS)))
    return importlib.import_module(name)


def parse_count(option, text, maximum, minimum=0):
    """Return text as an int in [minimum, maximum], or raise UsageError."""
    digits = text[1:] if text[:1] == '-' else text
    if not (digits.isascii() and digits.isdigit()):
        raise UsageError('%s expects an integer >= %d, got %r'
                         % (option, minimum, text))
    value = int(text)
    if value < minimum:
        raise UsageError('%s must be an integer >= %d, got %s'
                         % (option, minimum, text))
    if value > maximum:
        raise UsageError('%s must be an integer <= %d, got %s'
                         % (option, maximum, text))
    return value


def parse_threshold(text):
    """Return [T0, T1, T2] from 'T0[,T1[,T2]]'; None keeps a threshold."""
    parts = text.split(',')
    if not 1 <= len(parts) <= 3 or not all(
            part.isascii() and part.isdigit() for part in parts):
        raise UsageError('--threshold expects T0[,T1[,T2]] with integers '
                         '>= 0 (T0=0 disables automatic collection), got %r'
                         % text)
    values = [parse_count('--threshold', part, MAX_THRESHOLD) for part in parts]
    return values + [None] * (3 - len(values))


def parse_switch(option, text):
    """Return True for 'on', False for 'off', or raise UsageError."""
    if text not in ('on', 'off'):
        raise UsageError('%s expects on or off, got %r' % (option, text))
    return text == 'on'


def parse_fd(option, text):
    """Return text as an open descriptor >= 3, or raise UsageError."""
    fd = parse_count(option, text, MAX_FD, 3)
    try:
        os.fstat(fd)
    except OSError:
        raise UsageError('%s %d: descriptor %d is not open (open it for '
                         'writing in the process that starts run.py)'
                         % (option, fd, fd))
    return fd


def parse_modules(text):
    """Return the module names of --freeze-after-import's 'A,B.C'."""
    names = text.split(',')
    for name in names:
        if not all(part.isidentifier() for part in name.split('.')):
            raise UsageError('--freeze-after-import expects module names '
                             'separated by commas (json,email.parser), got %r'
                             % text)
    return names


def split_argv(argv):
    """Split argv into (positional names, {option: value}, program or None).

    program is (mode, target, args) when --script or -m was given: it ends
    run.py's own options.
    """
    names = []
    options = {}                # '--name' -> text; the last one given wins
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == '--list':
            raise UsageError('--list takes no other arguments')
        if arg in ('--script', '-m') or arg.startswith(('--script=', '-m')):
            mode = 'script' if arg.startswith('--script') else 'module'
            if arg in ('--script', '-m'):
                if i == len(argv):
                    raise UsageError('%s needs %s' % (
                        arg, 'the path of a Python program' if mode == 'script'
                        else 'a module name'))
                target = argv[i]
                i += 1
            else:
                target = arg[len('--script='):] if mode == 'script' else arg[2:]
            args = argv[i:]
            if args[:1] == ['--']:
                args = args[1:]
            return names, options, (mode, target, args)
        if not arg.startswith('--') or arg == '--':
            names.append(arg)
            continue
        option, sep, value = arg.partition('=')
        if not sep:
            if i == len(argv):
                raise UsageError('%s needs a value' % option)
            value = argv[i]
            i += 1
        options[option] = value
    return names, options, None


def parse_args(argv):
    """Parse argv (without the program name) into a Command."""
    if argv == ['--list']:
        return Command('list')
    names, options, program = split_argv(argv)
    if program is not None:
        mode, target, args = program
        if names:
            raise UsageError('%s runs a program, not workload %s: give one or '
                             'the other' % ('--script' if mode == 'script' else '-m',
                                            names[0]))
        command = Command(mode)
        command.target = target
        command.args = args
        if not target:
            raise UsageError('%s needs a non-empty %s' % (
                '--script' if mode == 'script' else '-m',
                'path' if mode == 'script' else 'module name'))
        accepted = OPTIONS + PROGRAM_OPTIONS
    else:
        if not names:
            raise UsageError('no workload given (expected one of: %s; or '
                             '--list, --script PATH, -m MODULE)'
                             % ', '.join(WORKLOADS))
        if len(names) > 1:
            raise UsageError('one workload at a time, got %s' % ', '.join(names))
        command = Command('twin')
        command.module = module = load_workload(names[0])
        command.params = dict(module.PARAMS)
        accepted = tuple('--' + p for p in module.PARAMS) + OPTIONS

    minimum = getattr(command.module, 'MINIMUM', {})
    for option, value in options.items():
        if option == '--threshold':
            command.threshold = parse_threshold(value)
        elif option == '--gc':
            command.gc_enabled = parse_switch(option, value)
        elif option == '--gc-timing':
            command.gc_timing = parse_switch(option, value)
        elif option in ('--result-fd', '--ready-fd'):
            setattr(command, option[2:].replace('-', '_'), parse_fd(option, value))
        elif option in PROGRAM_OPTIONS and command.mode == 'twin':
            raise UsageError('%s applies to a program (--script PATH or -m '
                             'MODULE), not to workload %s'
                             % (option, command.module.NAME))
        elif option == '--freeze-after-import':
            command.freeze = parse_modules(value)
        elif option == '--fork-workers':
            command.fork_workers = parse_count(option, value, MAX_WORKERS, 1)
        elif command.mode == 'twin' and option[2:] in command.params:
            command.params[option[2:]] = parse_count(
                option, value, MAX_PARAM, minimum.get(option[2:], 0))
        else:
            what = ('a program' if command.mode != 'twin'
                    else command.module.NAME)
            raise UsageError('unknown option %s for %s (expected: %s)'
                             % (option, what, ', '.join(accepted)))
    if command.result_fd is not None and command.result_fd == command.ready_fd:
        raise UsageError('--result-fd and --ready-fd must be two descriptors, '
                         'got %d for both' % command.result_fd)
    return command


def describe_workloads():
    """Return what --list prints: each workload's name, description, parameters."""
    listing = []
    for name in WORKLOADS:
        module = load_workload(name)
        listing.append({'name': module.NAME,
                        'description': module.DESCRIPTION,
                        'params': dict(module.PARAMS)})
    return listing
