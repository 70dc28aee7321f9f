"""``gateway.convert.convert``: the single conversion call (see :mod:`gateway.mapping.convert`)."""

from gateway.mapping.convert import ConvertResult, convert, convert_parsed

__all__ = ["ConvertResult", "convert", "convert_parsed"]
