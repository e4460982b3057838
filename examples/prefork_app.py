"""The application a pre-fork server preloads: an import-heavy start-up
that builds long-lived shared state.

Importing this module imports a good part of the standard library (as a web
framework's start-up does) and builds a catalogue of products, a routing
table and parsed templates -- objects every worker reads and none
changes.  The catalogue's size comes from the environment, as a service's
settings do: PREFORK_CATALOGUE (products, default 50000).

examples/prefork_server.py is the server that forks the workers.
"""

import argparse                 # noqa: F401  (the start-up's imports)
import asyncio                  # noqa: F401
import csv                      # noqa: F401
import dataclasses              # noqa: F401
import decimal
import email.mime.multipart     # noqa: F401
import email.parser             # noqa: F401
import html
import http.server              # noqa: F401
import json                     # noqa: F401
import logging.handlers         # noqa: F401
import os
import random
import string
import urllib.request           # noqa: F401
import xml.dom.minidom          # noqa: F401

SIZE = int(os.environ.get('PREFORK_CATALOGUE', '50000'))


class Product:
    """One catalogue entry (an instance, as an ORM's or a dataclass's)."""

    def __init__(self, sku, rng):
        self.sku = sku
        self.names = {'en': 'product %s' % sku, 'fr': 'produit %s' % sku}
        self.price = decimal.Decimal(rng.randrange(100, 100000)) / 100
        self.tags = [rng.choice(string.ascii_lowercase) * 3 for _ in range(3)]
        self.stock = rng.randrange(0, 500)


def build_catalogue(size, rng):
    """sku -> Product, the most popular first."""
    catalogue = {}
    for i in range(size):
        sku = 'sku-%06d' % i
        catalogue[sku] = Product(sku, rng)
    return catalogue


def build_routes(count):
    """(method, path pattern) -> handler name."""
    return {('GET', '/api/v1/resource%d/{id}' % i): 'handler_%d' % i
            for i in range(count)}


def build_templates(count):
    """name -> a template split into literal parts and placeholders."""
    return {'page%d' % i: ['<h1>', '{title}', '</h1><p>', html.escape('<%d>' % i),
                           '{body}', '</p>']
            for i in range(count)}


CATALOGUE = build_catalogue(SIZE, random.Random(7))
SKUS = list(CATALOGUE)
ROUTES = build_routes(2000)
TEMPLATES = build_templates(500)
