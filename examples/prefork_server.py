#!/usr/bin/env python3
"""A pre-fork server: preload the application, fork workers that serve.

The master imports the application (examples/prefork_app.py: an
import-heavy start-up and a large catalogue that every worker shares, page
for page, until someone writes to those pages), then forks workers.  Each
worker serves a stream of made-up requests, most of them for a few popular
products: it looks products up in the shared catalogue, renders a page
(cached) and keeps every visitor's session, state that grows as a
long-running worker's does, so that its collector runs full collections.

A full collection touches every object it tracks, and writing to an
object's header copies the page that holds it out of the shared memory:
without gc.freeze() each worker ends up with its own copy of much of the
catalogue.  gc.freeze() after the start-up moves the catalogue out of the
collector's reach, and the pages stay shared.  Measure both:

    run.py --fork-workers 4 --script examples/prefork_server.py
    run.py --fork-workers 4 --freeze-after-import prefork_app \\
           --script examples/prefork_server.py

Under run.py's --fork-workers the master does not fork: run.py does, and
calls worker() in each.  Run alone, the program forks its own workers:

    python3 examples/prefork_server.py [--requests N] [--workers W] [--freeze]

PREFORK_CATALOGUE sets the catalogue's size (products, default 50000).
"""

import argparse
import gc
import os
import random
import sys

import prefork_app

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument('--requests', type=int, default=45000,
                    help='requests each worker serves (default 45000)')
parser.add_argument('--workers', type=int, default=2,
                    help='workers to fork when run alone (default 2)')
parser.add_argument('--freeze', action='store_true',
                    help='gc.freeze() before forking, when run alone')
ARGS = parser.parse_args()


class Session:
    """A visitor's session: what it viewed, kept for the worker's life."""

    def __init__(self, user):
        self.user = user
        self.views = []


def render(product, locale):
    """A response page for one product, as a list of parts."""
    template = prefork_app.TEMPLATES['page%d' % (product.stock % 500)]
    fields = {'title': product.names[locale],
              'body': '%s - %s EUR - %s' % (product.sku, product.price,
                                            ','.join(product.tags))}
    return [fields.get(part.strip('{}'), part) for part in template]


def worker():
    """Serve ARGS.requests requests: mostly popular products, rendered
    once and cached; every visitor's session is kept."""
    index = int(os.environ.get('RTBENCH_WORKER_INDEX', '0'))
    rng = random.Random(index)
    skus = prefork_app.SKUS
    popular = max(1, len(skus) // 100)
    pages = {}
    sessions = {}
    served = 0
    for _ in range(ARGS.requests):
        if rng.random() < 0.9:          # nine requests in ten: the top 1%
            sku = skus[rng.randrange(popular)]
        else:
            sku = skus[rng.randrange(len(skus))]
        locale = rng.choice(('en', 'fr'))
        page = pages.get((sku, locale))
        if page is None:
            page = pages[sku, locale] = render(prefork_app.CATALOGUE[sku], locale)
        user = rng.randrange(10 ** 9)
        session = sessions.get(user)
        if session is None:
            session = sessions[user] = Session(user)
        session.views.append(sku)
        served += len(page)
    return served


def serve_alone(workers, freeze):
    """Fork workers as a pre-fork server does; wait for them."""
    if freeze:
        gc.freeze()
    sys.stdout.flush()
    pids = []
    for index in range(workers):
        pid = os.fork()
        if pid == 0:
            os.environ['RTBENCH_WORKER_INDEX'] = str(index)
            try:
                worker()
            finally:
                os._exit(0)
        pids.append(pid)
    failed = sum(os.waitpid(pid, 0)[1] != 0 for pid in pids)
    print('%d workers served %d requests each; %d failed'
          % (workers, ARGS.requests, failed))
    return 1 if failed else 0


if __name__ == '__main__' and 'RTBENCH_FORK_WORKERS' not in os.environ:
    sys.exit(serve_alone(ARGS.workers, ARGS.freeze))
