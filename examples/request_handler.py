#!/usr/bin/env python3
"""A JSON request handler: parse, build an object graph, answer, drop it.

The loop of a small web service's handler, without the network: each
request is a JSON order (a customer, line items, a shipping address, a few
tags); the handler parses it, turns it into objects (an Order holding its
LineItems, each pointing back at the Order, so every request leaves a few
reference cycles), prices it against a catalogue built at start-up,
renders the JSON response and drops everything.  A small cache keeps the
last responses per customer, as services do, so that some objects live
long enough to reach the older generations.

    python3 examples/request_handler.py [--requests N] [--seed S]

Prints one line: the requests handled and a checksum of the responses.
"""

import argparse
import json
import random
from collections import OrderedDict

CATALOGUE_SIZE = 2000
CACHE_SIZE = 500


class Customer:
    def __init__(self, ident, name, tier):
        self.ident = ident
        self.name = name
        self.tier = tier


class LineItem:
    def __init__(self, order, sku, quantity, unit_cents):
        self.order = order              # a back-reference: a cycle
        self.sku = sku
        self.quantity = quantity
        self.unit_cents = unit_cents

    def total_cents(self):
        discount = 10 if self.order.customer.tier == 'gold' else 0
        return self.quantity * self.unit_cents * (100 - discount) // 100


class Order:
    def __init__(self, ident, customer, address, tags):
        self.ident = ident
        self.customer = customer
        self.address = address
        self.tags = tags
        self.items = []

    def add(self, sku, quantity, unit_cents):
        self.items.append(LineItem(self, sku, quantity, unit_cents))


def make_catalogue(rng):
    """sku -> {'name', 'cents', 'stock'}: the start-up's long-lived data."""
    return {'sku-%05d' % i: {'name': 'product %d' % i,
                             'cents': rng.randrange(100, 50000),
                             'stock': rng.randrange(0, 1000)}
            for i in range(CATALOGUE_SIZE)}


def make_request(rng, number):
    """One request body, as a client would send it."""
    return json.dumps({
        'id': number,
        'customer': {'id': rng.randrange(5000), 'name': 'customer %d' % number,
                     'tier': rng.choice(('basic', 'silver', 'gold'))},
        'address': {'street': '%d Main Street' % rng.randrange(1, 999),
                    'city': rng.choice(('Lyon', 'Porto', 'Turku', 'Graz')),
                    'zip': '%05d' % rng.randrange(100000)},
        'items': [{'sku': 'sku-%05d' % rng.randrange(CATALOGUE_SIZE),
                   'quantity': rng.randrange(1, 5)}
                  for _ in range(rng.randrange(1, 12))],
        'tags': [rng.choice(('gift', 'express', 'fragile', 'bulk'))
                 for _ in range(rng.randrange(0, 4))],
    })


def handle(body, catalogue, cache):
    """Answer one request; return the response body."""
    request = json.loads(body)
    who = request['customer']
    order = Order(request['id'], Customer(who['id'], who['name'], who['tier']),
                  request['address'], request['tags'])
    missing = []
    for item in request['items']:
        product = catalogue.get(item['sku'])
        if product is None or product['stock'] < item['quantity']:
            missing.append(item['sku'])
        else:
            order.add(item['sku'], item['quantity'], product['cents'])
    response = {
        'order': order.ident,
        'lines': [{'sku': line.sku, 'quantity': line.quantity,
                   'cents': line.total_cents()} for line in order.items],
        'total_cents': sum(line.total_cents() for line in order.items),
        'missing': missing,
        'ship_to': '%(street)s, %(zip)s %(city)s' % order.address,
    }
    cache[who['id']] = response         # the last answer per customer
    cache.move_to_end(who['id'])
    if len(cache) > CACHE_SIZE:
        cache.popitem(last=False)
    return json.dumps(response)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--requests', type=int, default=30000,
                        help='how many requests to handle (default 30000)')
    parser.add_argument('--seed', type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    catalogue = make_catalogue(rng)
    cache = OrderedDict()
    checksum = 0
    for number in range(args.requests):
        answer = handle(make_request(rng, number), catalogue, cache)
        checksum = (checksum * 31 + len(answer)) % 1000000007
    print('handled %d requests, checksum %d' % (args.requests, checksum))


if __name__ == '__main__':
    main()
