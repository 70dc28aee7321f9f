"""Worker-process functions for the validation benchmark (importable, for ``spawn`` pools).

Each pool is initialised with one ``kind``:

* ``ours``    — the gateway's validator (compiled once per process)
* ``convert`` — fapiao → UBL with ``gateway.convert`` and then the gateway's validator
* ``naive``   — the same official XSD and XSLTs, compiled again for every document
* ``mock``    — the ``mock-einvoice`` package's pure-Python validator
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.validation import EngineOptions

_state: dict[str, Any] = {}


def init(kind: str, home: str, profile: str, options: EngineOptions | None = None) -> None:
    """Pool initializer: prepare what ``kind`` needs once per process.

    ``options``: the engine and compiled form the gateway's validator runs, as the parent
    read them from the settings (``LINGANG_SCHEMATRON_ENGINE`` and the rest); a worker never
    reads the settings itself, so without them it would take the defaults (``auto``: the JVM
    wherever Java is installed, whatever engine the run was asked to measure)."""
    _state.update(kind=kind, home=Path(home), profile=profile)
    if kind in ("ours", "convert"):
        from gateway.validation import EngineOptions, Validator

        _state["validator"] = Validator.default(Path(home), options or EngineOptions())
        _state["validator"].warm([profile], ["Invoice", "CreditNote"], exercise=True)
    if kind == "convert":
        from bench.fapiao_gen import directory_data
        from gateway.partners import PartnerDirectory

        _state["directory"] = PartnerDirectory.from_dict(directory_data())


def run(doc: bytes) -> bool:
    """Process one document the pool's way; returns whether it has a fatal finding."""
    kind = _state["kind"]
    if kind == "ours":
        return bool(_state["validator"].validate(doc, _state["profile"]).fatal)
    if kind == "convert":
        from gateway.convert import convert

        result = convert(doc, _state["profile"], _state["directory"])
        report = _state["validator"].validate(result.xml, _state["profile"], tree=result.tree)
        return bool(report.fatal)
    if kind == "naive":
        return naive_validate(doc, _state["profile"], _state["home"])
    if kind == "mock":
        return mock_validate(doc)
    raise ValueError(kind)


def naive_validate(doc: bytes, profile: str, home: Path) -> bool:
    """Validate with the same official artefacts, compiling the XSD and every XSLT anew."""
    from lxml import etree
    from saxonche import PySaxonProcessor

    from gateway.validation import Validator
    from gateway.validation.svrl import parse_svrl

    paths = Validator.default(home).artefact_paths(profile, "Invoice")
    schema = etree.XMLSchema(etree.parse(str(paths[0])))
    fatal = not schema.validate(etree.fromstring(doc))
    processor = _state.get("saxon")
    if processor is None:
        processor = _state["saxon"] = PySaxonProcessor(license=False)
    node = processor.parse_xml(xml_text=doc.decode("utf-8"))
    for path in paths[1:]:
        executable = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(path))
        svrl = executable.transform_to_string(xdm_node=node)
        fatal |= any(f.flag == "fatal" for f in parse_svrl(svrl, "naive"))
    return fatal


def mock_validate(doc: bytes) -> bool:
    """mock-einvoice's verdict: anything but ``valid`` counts as fatal."""
    import mockeinvoice

    _, report = mockeinvoice.validate(doc)
    return str(report.verdict) != "valid"
