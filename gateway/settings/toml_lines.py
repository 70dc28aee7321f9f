"""Re-export of :mod:`gateway.toml_lines` (moved below the layers so the export policy file,
which sits below the settings, points at lines the same way)."""

from gateway.toml_lines import line_of, split_key

__all__ = ["line_of", "split_key"]
