#!/usr/bin/env python3
"""An ORM-like object graph with back-references: every unit of work
leaves cycles that only the collector frees.

Each unit of work opens a session with an identity map (as SQLAlchemy's
Session or Django's model instances do), loads customers from rows, each
customer with its orders and each order with its lines; every child keeps
a reference back to its parent (order.customer, line.order), and every
entity to its session.  The unit reports the revenue per product and
changes a few orders, then the session is closed and dropped: its whole
graph is garbage held together by cycles.  A few sessions are kept in a
short history, as request-scoped caches are, so some graphs survive into
the older generations.

    python3 examples/orm_graph.py [--units N] [--customers K] [--seed S]

Prints one line: the units of work, the entities loaded and the revenue.
"""

import argparse
import random
from collections import deque

HISTORY = 3


class Session:
    """A unit of work's identity map: (kind, key) -> entity."""

    def __init__(self):
        self.identity = {}
        self.dirty = set()

    def get(self, cls, key, row):
        entity = self.identity.get((cls.__name__, key))
        if entity is None:
            entity = cls(self, key, **row)
            self.identity[(cls.__name__, key)] = entity
        return entity


class Entity:
    def __init__(self, session, key, **fields):
        self.session = session          # back to the session: a cycle
        self.key = key
        self.__dict__.update(fields)


class Product(Entity):
    pass


class Customer(Entity):
    def __init__(self, session, key, **fields):
        super().__init__(session, key, **fields)
        self.orders = []


class Order(Entity):
    def __init__(self, session, key, customer, **fields):
        super().__init__(session, key, **fields)
        self.customer = customer        # back to the customer: a cycle
        customer.orders.append(self)
        self.lines = []


class OrderLine(Entity):
    def __init__(self, session, key, order, product, **fields):
        super().__init__(session, key, **fields)
        self.order = order              # back to the order: a cycle
        self.product = product
        order.lines.append(self)


def load(session, rng, customers, unit):
    """Load customers with their orders and lines, from made-up rows."""
    loaded = []
    for c in range(customers):
        customer = session.get(Customer, (unit, c),
                               {'name': 'customer %d' % c,
                                'country': rng.choice(('FR', 'PT', 'FI', 'AT'))})
        for o in range(rng.randrange(1, 6)):
            order = session.get(Order, (unit, c, o),
                                {'customer': customer, 'status': 'open'})
            for n in range(rng.randrange(1, 8)):
                sku = rng.randrange(200)
                product = session.get(Product, sku, {'name': 'product %d' % sku,
                                                     'cents': 100 + sku * 7})
                session.get(OrderLine, (unit, c, o, n),
                            {'order': order, 'product': product,
                             'quantity': rng.randrange(1, 4)})
        loaded.append(customer)
    return loaded


def revenue_by_product(customers):
    revenue = {}
    for customer in customers:
        for order in customer.orders:
            for line in order.lines:
                name = line.product.name
                revenue[name] = revenue.get(name, 0) + line.quantity * line.product.cents
    return revenue


def unit_of_work(rng, customers, unit):
    """Load, report, change; return (session, entities, revenue)."""
    session = Session()
    loaded = load(session, rng, customers, unit)
    revenue = sum(revenue_by_product(loaded).values())
    for customer in loaded[::7]:
        for order in customer.orders:
            order.status = 'shipped'
            session.dirty.add(order)
    return session, len(session.identity), revenue


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--units', type=int, default=200,
                        help='units of work (sessions), default 200')
    parser.add_argument('--customers', type=int, default=60,
                        help='customers loaded per unit, default 60')
    parser.add_argument('--seed', type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    history = deque(maxlen=HISTORY)     # appending drops the oldest session
    entities = revenue = 0
    for unit in range(args.units):
        session, loaded, earned = unit_of_work(rng, args.customers, unit)
        history.append(session)
        entities += loaded
        revenue += earned
    print('%d units of work, %d entities loaded, revenue %d'
          % (args.units, entities, revenue))


if __name__ == '__main__':
    main()
