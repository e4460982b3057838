"""dict_churn: the Python twin of workloads/dict_churn.c.

Fill a dict with ``keys`` string keys mapping to ``[i, i]``, then for each
of ``n`` steps insert the next key and delete the oldest one, so the dict
keeps ``keys`` entries while its keys and values turn over.  With
``threads`` > 1 each thread churns a dict of its own for its share of the
steps.
"""

from common import parallel, share

NAME = 'dict_churn'
DESCRIPTION = 'a dict of keys entries; n steps each insert one key and delete the oldest'
PARAMS = {'keys': 10000, 'n': 2000000, 'threads': 1}
MINIMUM = {'threads': 1}


def run(params, ctx):
    return {'check': parallel(params['threads'],
                              lambda index, threads: _churn(params['keys'], share(params['n'], index, threads)))}


def _churn(keys, n):
    d = {}
    for i in range(keys):
        d['k%d' % i] = [i, i]
    for s in range(n):
        j = keys + s
        d['k%d' % j] = [j, j]
        del d['k%d' % (j - keys)]
    # Checksum: the first element of each value still in the dict.
    check = 0
    for v in d.values():
        check += v[0]
    del d
    return check
