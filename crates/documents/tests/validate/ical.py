#!/usr/bin/env python3
"""Validate ciel's iCalendar maintenance feeds with an independent parser.

Why a separate script: the Rust generator (crates/documents/src/ical.rs) must be
checked by a tool that does not share its author's reading of RFC 5545. This
uses the `icalendar` PyPI package (pinned: icalendar==7.3.2) to parse each feed
and adds the byte-level checks a lenient parser would let pass:

* every line ends with CRLF, no bare CR or LF;
* every physical line is at most 75 octets and is valid UTF-8 on its own (a
  fold never splits a multi-byte character);
* the parser reports no property error on any component;
* VCALENDAR: VERSION 2.0, PRODID, CALSCALE GREGORIAN, METHOD PUBLISH,
  X-WR-CALNAME; each VEVENT: UID, DTSTAMP, DTSTART < DTEND (UTC date-times),
  SUMMARY, DESCRIPTION, SEQUENCE, STATUS CONFIRMED or CANCELLED, LAST-MODIFIED.

With FILE.expected.json next to FILE.ics (written by the Rust test), the
decoded values must equal the expected ones exactly: that checks escaping and
folding end to end.

Usage:
    ical.py FILE.ics [FILE.ics ...]

Exit status: 0 when every file is valid, 1 when something failed, 3 when the
package is missing (the message says what to install).
"""

import datetime
import json
import os
import sys

PIP_LINE = "pip install icalendar==7.3.2"


def missing(exc):
    print(f"missing Python package ({exc}); install with: {PIP_LINE}", file=sys.stderr)
    sys.exit(3)


try:
    import icalendar
except ImportError as exc:  # pragma: no cover - depends on the environment
    missing(exc)


def byte_errors(raw):
    errors = []
    if not raw.endswith(b"\r\n"):
        errors.append("the file does not end with CRLF")
    lines = raw.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines = lines[:-1]
    for i, line in enumerate(lines, 1):
        if b"\r" in line or b"\n" in line:
            errors.append(f"line {i}: bare CR or LF")
        if len(line) > 75:
            errors.append(f"line {i}: {len(line)} octets (more than 75)")
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            errors.append(f"line {i}: not UTF-8 on its own (a fold split a character): {exc}")
    return errors


def utc_datetime(comp, name, errors, where):
    prop = comp.get(name)
    if prop is None:
        errors.append(f"{where}: {name} missing")
        return None
    value = prop.dt
    if not isinstance(value, datetime.datetime):
        errors.append(f"{where}: {name} is not a date-time")
        return None
    if value.utcoffset() != datetime.timedelta(0):
        errors.append(f"{where}: {name} is not in UTC")
    return value


def text_value(prop):
    """Decode an X- property as TEXT, its default value type (RFC 5545
    3.8.8.2): icalendar keeps unknown properties raw, so the value is decoded
    by the parser's own TEXT rules, as the SUMMARY of a throw-away event."""
    if prop is None:
        return None
    raw = prop.to_ical().decode("utf-8")
    event = icalendar.Event.from_ical(f"BEGIN:VEVENT\r\nSUMMARY:{raw}\r\nEND:VEVENT\r\n")
    return str(event["SUMMARY"])


def check(path):
    errors = []
    with open(path, "rb") as f:
        raw = f.read()
    errors.extend(byte_errors(raw))
    # The parser unfolds by itself; when a fold split a character the file
    # is not UTF-8 as a whole, so unfold the octets first (RFC 5545 3.1 says
    # unfolding comes before decoding) to go on checking the rest.
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        unfolded = raw.replace(b"\r\n ", b"").replace(b"\r\n\t", b"")
        try:
            text = unfolded.decode("utf-8")
        except UnicodeDecodeError as exc:
            return errors + [f"not UTF-8 once unfolded: {exc}"]
    try:
        cal = icalendar.Calendar.from_ical(text)
    except Exception as exc:  # the parser's own refusal
        return errors + [f"parse error: {exc}"]
    for comp in cal.walk():
        for err in getattr(comp, "errors", []):
            errors.append(f"{comp.name}: parser error {err}")
    if cal.name != "VCALENDAR":
        errors.append(f"top component is {cal.name}")
    if str(cal.get("VERSION")) != "2.0":
        errors.append("VERSION is not 2.0")
    for name in ("PRODID", "X-WR-CALNAME"):
        if not str(cal.get(name, "")).strip():
            errors.append(f"VCALENDAR: {name} missing")
    if str(cal.get("CALSCALE")) != "GREGORIAN":
        errors.append("CALSCALE is not GREGORIAN")
    if str(cal.get("METHOD")) != "PUBLISH":
        errors.append("METHOD is not PUBLISH")

    events = {}
    for ev in cal.walk("VEVENT"):
        uid = str(ev.get("UID", ""))
        where = f"VEVENT {uid or '?'}"
        if not uid:
            errors.append(f"{where}: UID missing")
        if uid in events:
            errors.append(f"{where}: UID appears twice")
        utc_datetime(ev, "DTSTAMP", errors, where)
        utc_datetime(ev, "LAST-MODIFIED", errors, where)
        start = utc_datetime(ev, "DTSTART", errors, where)
        end = utc_datetime(ev, "DTEND", errors, where)
        if start and end and not start < end:
            errors.append(f"{where}: DTEND is not after DTSTART")
        for name in ("SUMMARY", "DESCRIPTION"):
            if not str(ev.get(name, "")).strip():
                errors.append(f"{where}: {name} missing")
        try:
            sequence = int(ev.get("SEQUENCE"))
        except (TypeError, ValueError):
            errors.append(f"{where}: SEQUENCE missing or not an integer")
            sequence = None
        status = str(ev.get("STATUS", ""))
        if status not in ("CONFIRMED", "CANCELLED"):
            errors.append(f"{where}: STATUS {status!r}")
        events[uid] = {
            "summary": str(ev.get("SUMMARY", "")),
            "description": str(ev.get("DESCRIPTION", "")),
            "location": str(ev["LOCATION"]) if "LOCATION" in ev else None,
            "status": status,
            "sequence": sequence,
            "dtstart": start.strftime("%Y%m%dT%H%M%SZ") if start else None,
            "dtend": end.strftime("%Y%m%dT%H%M%SZ") if end else None,
        }

    expected_path = os.path.splitext(path)[0] + ".expected.json"
    if os.path.exists(expected_path):
        with open(expected_path, encoding="utf-8") as f:
            expected = json.load(f)
        calname = text_value(cal.get("X-WR-CALNAME"))
        if calname != expected["calname"]:
            errors.append(f"X-WR-CALNAME decodes to {calname!r}, expected {expected['calname']!r}")
        if sorted(events) != sorted(e["uid"] for e in expected["events"]):
            errors.append(f"UIDs {sorted(events)} differ from the expected ones")
        for exp in expected["events"]:
            got = events.get(exp["uid"])
            if got is None:
                continue
            for key, value in exp.items():
                if key != "uid" and got.get(key) != value:
                    errors.append(
                        f"VEVENT {exp['uid']}: {key} decodes to {got.get(key)!r}, expected {value!r}"
                    )
    return errors


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    failed = False
    for path in argv[1:]:
        errors = check(path)
        name = os.path.basename(path)
        if errors:
            failed = True
            for err in errors:
                print(f"{name}: {err}")
        else:
            print(f"{name}: valid")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
