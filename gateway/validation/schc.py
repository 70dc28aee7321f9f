"""Compile ISO Schematron (query binding ``xslt2``) to an XSLT 3.0 stylesheet writing SVRL.

Used for official rule sets published only as ``.sch`` (the Peppol CII rules of BIS Billing
3). It follows the ISO skeleton's semantics: each pattern is one mode walking the whole
document (elements and attributes); within a pattern the first rule whose context matches a
node fires for it (earlier rules get higher priority); schema-level and pattern-level ``let``
become global variables, rule-level ``let`` local ones; ``xsl:function`` elements are copied.
Abstract rules or patterns and ``include`` are not supported (a :class:`SchematronError`).
"""

from __future__ import annotations

from lxml import etree

from gateway.errors import ArtefactError

SCH = "http://purl.oclc.org/dsdl/schematron"
XSL = "http://www.w3.org/1999/XSL/Transform"
SVRL = "http://purl.oclc.org/dsdl/svrl"
_S = f"{{{SCH}}}"
_X = f"{{{XSL}}}"


class SchematronError(ArtefactError):
    """A Schematron file uses a feature this compiler does not support, or is malformed."""

    code = "schematron"


def compile_schematron(sch: bytes, *, what: str = "schematron") -> bytes:
    """The XSLT 3.0 text equivalent to the Schematron document ``sch``."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        schema = etree.fromstring(sch, parser)
    except etree.XMLSyntaxError as exc:
        raise SchematronError(f"{what} is not well-formed: {exc}") from exc
    if schema.tag != f"{_S}schema":
        raise SchematronError(f"{what} is not an ISO Schematron schema")
    binding = schema.get("queryBinding", "xslt2").lower()
    if binding not in ("xslt2", "xslt3"):
        raise SchematronError(f"{what}: query binding {binding!r} is not supported")
    for unsupported in ("include", "extends"):
        if schema.find(f".//{_S}{unsupported}") is not None:
            raise SchematronError(f"{what}: <{unsupported}> is not supported")
    if schema.find(f".//{_S}*[@abstract='true']") is not None:
        raise SchematronError(f"{what}: abstract rules or patterns are not supported")
    return etree.tostring(_Stylesheet(schema).build(), xml_declaration=True, encoding="UTF-8")


class _Stylesheet:
    def __init__(self, schema: etree._Element) -> None:
        self.schema = schema
        nsmap: dict[str, str] = {"xsl": XSL, "svrl": SVRL}
        for ns in schema.iterfind(f"{_S}ns"):
            nsmap[ns.get("prefix", "")] = ns.get("uri", "")
        self.root = etree.Element(f"{_X}stylesheet", nsmap=nsmap, version="3.0")
        prefixes = " ".join(p for p in nsmap if p and p != "svrl")
        self.root.set("exclude-result-prefixes", prefixes)

    def build(self) -> etree._Element:
        etree.SubElement(self.root, f"{_X}output", method="xml", indent="no")
        for let in self.schema.iterfind(f"{_S}let"):
            self._variable(self.root, let)
        for function in self.schema.iterfind(f"{_X}function"):
            self.root.append(_copy(function))
        patterns = list(self.schema.iterfind(f"{_S}pattern"))
        main = etree.SubElement(self.root, f"{_X}template", match="/")
        output = etree.SubElement(main, f"{{{SVRL}}}schematron-output")
        title = self.schema.findtext(f"{_S}title")
        if title:
            output.set("title", " ".join(title.split()))
        for index, pattern in enumerate(patterns, start=1):
            for let in pattern.iterfind(f"{_S}let"):
                self._variable(self.root, let)
            etree.SubElement(output, f"{_X}apply-templates", select="/", mode=f"M{index}")
            self._pattern(pattern, f"M{index}")
        return self.root

    @staticmethod
    def _variable(parent: etree._Element, let: etree._Element) -> None:
        variable = etree.SubElement(parent, f"{_X}variable", name=let.get("name", ""))
        if let.get("value") is not None:
            variable.set("select", let.get("value", ""))
        else:
            for child in let:
                variable.append(_copy(child))

    def _pattern(self, pattern: etree._Element, mode: str) -> None:
        rules = list(pattern.iterfind(f"{_S}rule"))
        for position, rule in enumerate(rules):
            template = etree.SubElement(
                self.root,
                f"{_X}template",
                match=rule.get("context", ""),
                mode=mode,
                priority=str(1000 - position),
            )
            for let in rule.iterfind(f"{_S}let"):
                self._variable(template, let)
            for check in rule:
                if check.tag == f"{_S}assert":
                    self._assert(template, check)
                elif check.tag == f"{_S}report":
                    self._report(template, check)
            etree.SubElement(template, f"{_X}apply-templates", select="@*|*", mode=mode)
        etree.SubElement(self.root, f"{_X}template", match="text()", mode=mode, priority="-1")
        walk = etree.SubElement(
            self.root, f"{_X}template", match="@*|node()", mode=mode, priority="-2"
        )
        etree.SubElement(walk, f"{_X}apply-templates", select="@*|*", mode=mode)

    def _assert(self, template: etree._Element, check: etree._Element) -> None:
        choose = etree.SubElement(template, f"{_X}choose")
        etree.SubElement(choose, f"{_X}when", test=check.get("test", "false()"))
        otherwise = etree.SubElement(choose, f"{_X}otherwise")
        self._svrl(otherwise, "failed-assert", check)

    def _report(self, template: etree._Element, check: etree._Element) -> None:
        condition = etree.SubElement(template, f"{_X}if", test=check.get("test", "false()"))
        self._svrl(condition, "successful-report", check)

    @staticmethod
    def _svrl(parent: etree._Element, kind: str, check: etree._Element) -> None:
        result = etree.SubElement(parent, f"{{{SVRL}}}{kind}", test=check.get("test", ""))
        for name in ("id", "flag", "role"):
            if check.get(name) is not None:
                result.set(name, check.get(name, ""))
        location = etree.SubElement(result, f"{_X}attribute", name="location")
        location.set("select", "path()")
        text = etree.SubElement(result, f"{{{SVRL}}}text")
        text.text = check.text
        for child in check:
            if not isinstance(child.tag, str):
                _append_text(text, child.tail)
                continue
            if child.tag == f"{_S}value-of":
                part = etree.SubElement(text, f"{_X}value-of", select=child.get("select", "."))
            elif child.tag == f"{_S}name":
                path = child.get("path", ".")
                part = etree.SubElement(text, f"{_X}value-of", select=f"name({path})")
            else:
                part = etree.SubElement(text, f"{_X}text")
                part.text = "".join(str(t) for t in child.itertext())
            part.tail = child.tail


def _append_text(parent: etree._Element, extra: str | None) -> None:
    if not extra:
        return
    if len(parent):
        parent[-1].tail = (parent[-1].tail or "") + extra
    else:
        parent.text = (parent.text or "") + extra


def _copy(element: etree._Element) -> etree._Element:
    """A deep copy of an element (keeps its in-scope namespaces)."""
    return etree.fromstring(etree.tostring(element))
