"""Delivery adapters, one sub-package each, registered as entry points (``lingang.adapters``)."""
