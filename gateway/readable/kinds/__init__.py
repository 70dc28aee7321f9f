"""One module per document kind; each exposes ``RENDERER`` (see :mod:`gateway.readable.registry`)."""
