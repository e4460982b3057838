"""list_append: the Python twin of workloads/list_append.c.

For each round: ``lst = []``; append the ints 0..n-1; drop ``lst``.  One GC
allocation per round (the list); the ints are not GC objects on either side.
With ``threads`` > 1 each thread does every round with its share of the
ints (a range of 0..n-1), so that the live heap stays one thread's.
"""

from common import parallel, span

NAME = 'list_append'
DESCRIPTION = 'append n boxed ints to a fresh list, rounds times'
PARAMS = {'n': 1000000, 'rounds': 10, 'threads': 1}
MINIMUM = {'threads': 1}


def run(params, ctx):
    def part(index, threads):
        ints = span(params['n'], index, threads)
        check = 0
        for _ in range(params['rounds']):
            lst = []
            for i in ints:
                lst.append(i)
            check += len(lst)
            del lst             # drop the list (and its ints)
        return check

    return {'check': parallel(params['threads'], part)}
