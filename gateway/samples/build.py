"""Write the project's sample fapiao into this folder: ``python -m gateway.samples.build``.

The samples are data in :mod:`gateway.samples.catalogue`, written in every input format by
:mod:`gateway.samples.writers` (数电票 XML, platform JSON) and :mod:`gateway.samples.build_ofd`
(数电票 OFD).
"""

from __future__ import annotations

from pathlib import Path

from gateway.samples.catalogue import all_samples

SAMPLES_DIR = Path(__file__).resolve().parent


def _write_all(target: Path) -> list[Path]:
    written = []
    for name, data in all_samples().items():
        path = target / name
        path.write_bytes(data)
        written.append(path)
    return written


if __name__ == "__main__":
    for written in _write_all(SAMPLES_DIR):
        print(written.name)
