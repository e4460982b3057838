"""list_append: the Python twin of workloads/list_append.c.

For each round: ``lst = []``; append the ints 0..n-1; drop ``lst``.  One GC
allocation per round (the list); the ints are not GC objects on either side.
With ``threads`` > 1 each thread does its share of the rounds.
"""

from common import parallel, share

NAME = 'list_append'
DESCRIPTION = 'append n boxed ints to a fresh list, rounds times'
PARAMS = {'n': 1000000, 'rounds': 10, 'threads': 1}
MINIMUM = {'threads': 1}


def run(params, ctx):
    n = params['n']

    def part(index, threads):
        check = 0
        for _ in range(share(params['rounds'], index, threads)):
            lst = []
            for i in range(n):
                lst.append(i)
            check += len(lst)
            del lst             # drop the list (and its ints)
        return check

    return {'check': parallel(params['threads'], part)}
