#!/usr/bin/env python3
"""Check ciel's Factur-X PDFs with the PyPI `factur-x` package (7.8).

Why a separate script: the Rust tests read the PDF with lopdf, the same
library that wrote its metadata. This script reads it the way a receiver's
software does, with factur-x (which uses pypdf):

* `facturx.get_xml_from_pdf` must find the attachment `factur-x.xml`, detect
  the factur-x flavor and the EN 16931 level, and accept the XML against the
  Factur-X 1.09 EN 16931 XSD (check_xsd=True);
* the XML found must be byte-identical to the XML file given next to the PDF;
* the XMP packet must carry pdfaid part 3 / conformance B and the fx: values
  (DocumentType INVOICE, DocumentFileName factur-x.xml, Version 1.0,
  ConformanceLevel EN 16931), parsed as XML, not searched as text;
* the text of the pages (pypdf's extraction, through the fonts' ToUnicode
  maps) must contain every `--expect` string, so the mandatory mentions are
  really readable, not just drawn as glyphs.

No PDF/A validator (veraPDF) is installable here: PDF/A conformance beyond
these identifications is not checked.

Usage:
    facturx_pdf.py FILE.pdf FILE.xml [--expect TEXT ...]

Exit status: 0 when everything holds, 1 with one line per problem, 3 when a
package is missing.
"""

import sys

PIP_LINE = "pip install factur-x==7.8"

try:
    import facturx
    from lxml import etree
    from pypdf import PdfReader
except ImportError as exc:  # pragma: no cover - depends on the environment
    print(f"missing Python package ({exc}); install with: {PIP_LINE}", file=sys.stderr)
    sys.exit(3)

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "fx": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
    "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
}
EXPECTED_XMP = {
    "pdfaid:part": "3",
    "pdfaid:conformance": "B",
    "fx:DocumentType": "INVOICE",
    "fx:DocumentFileName": "factur-x.xml",
    "fx:Version": "1.0",
    "fx:ConformanceLevel": "EN 16931",
}


def xmp_value(root, name):
    """A property written as an element or as an attribute of rdf:Description."""
    prefix, local = name.split(":")
    for node in root.iter(f"{{{NS[prefix]}}}{local}"):
        return (node.text or "").strip()
    for desc in root.iter(f"{{{NS['rdf']}}}Description"):
        value = desc.get(f"{{{NS[prefix]}}}{local}")
        if value is not None:
            return value.strip()
    return None


def normalise(text):
    # pypdf may return no-break spaces and line breaks where the page wraps.
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def check(pdf_path, xml_path, expects):
    problems = []
    with open(pdf_path, "rb") as f:
        pdf = f.read()
    with open(xml_path, "rb") as f:
        xml = f.read()

    name, found = facturx.get_xml_from_pdf(pdf, check_xsd=True)
    if name != "factur-x.xml" or not found:
        problems.append(f"factur-x found no valid factur-x.xml (got {name!r})")
    else:
        if found != xml:
            problems.append("the embedded XML differs from the generated XML")
        root = etree.fromstring(found)
        flavor = facturx.get_flavor(root)
        level = facturx.get_level(root)
        if flavor != "factur-x":
            problems.append(f"flavor {flavor!r}, expected 'factur-x'")
        if level != "en16931":
            problems.append(f"level {level!r}, expected 'en16931'")
        print(f"{pdf_path}: {name} flavor={flavor} level={level} XSD ok")

    reader = PdfReader(pdf_path)
    meta = reader.trailer["/Root"].get_object().get("/Metadata")
    if meta is None:
        problems.append("no /Metadata stream in the catalog")
    else:
        xmp = etree.fromstring(meta.get_object().get_data())
        for key, want in EXPECTED_XMP.items():
            got = xmp_value(xmp, key)
            if got != want:
                problems.append(f"XMP {key} = {got!r}, expected {want!r}")
        prefixes = [n.text for n in xmp.iter(f"{{{NS['pdfaSchema']}}}prefix")]
        if "fx" not in prefixes:
            problems.append("the fx: schema has no PDF/A extension-schema description")

    text = normalise(" ".join(page.extract_text() or "" for page in reader.pages))
    for expect in expects:
        if normalise(expect) not in text:
            problems.append(f"page text lacks {expect!r}")
    print(f"{pdf_path}: {len(reader.pages)} page(s)")
    return problems


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    pdf_path, xml_path = argv[1], argv[2]
    expects = []
    rest = argv[3:]
    while rest:
        if rest[0] == "--expect" and len(rest) >= 2:
            expects.append(rest[1])
            rest = rest[2:]
        else:
            print(f"unexpected argument {rest[0]!r}", file=sys.stderr)
            return 2
    problems = check(pdf_path, xml_path, expects)
    for problem in problems:
        print(f"{pdf_path}: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
