//! The maintenance feed (R4.6) as RFC 5545 says it must be written, checked by
//! hand-worked tables, by properties, and by the independent `icalendar` PyPI
//! package through `tests/validate/ical.py`.
//!
//! Without the Python package the validator tests fail and say what to
//! install, unless `CIEL_SKIP_PY_VALIDATORS=1` is set (a machine that cannot
//! install it), exactly like `tests/validators.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;

use ciel_documents::ical::{
    Feed, IcalError, Lang, MAX_LINE_OCTETS, MaintenanceEvent, SlaCounting, calendar_name,
    escape_text, event_description, fold_line, summary, to_ical, uid, unfold,
};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use proptest::prelude::*;

const PIP_LINE: &str = "pip install icalendar==7.3.2";

fn ts(s: &str) -> Timestamp {
    s.parse().expect("an RFC 3339 instant")
}

fn paris() -> TimeZone {
    TimeZone::get("Europe/Paris").expect("the bundled tz database")
}

fn window(id: &str) -> MaintenanceEvent {
    MaintenanceEvent {
        id: id.to_owned(),
        title: "Mise à jour vCenter 8.0 U3".to_owned(),
        // 22:00 → 01:30 Paris (CEST, +02:00) on the night of 14 to 15 May 2026.
        start: ts("2026-05-14T20:00:00Z"),
        end: ts("2026-05-14T23:30:00Z"),
        impact: "Coupure de la console vCenter ; les VM continuent de tourner".to_owned(),
        reason: "Correctif de sécurité VMSA-2026-0007, \"critique\"".to_owned(),
        services: vec!["VM-PAR-0042".to_owned(), "VM-PAR-0043".to_owned()],
        clusters: vec!["MLB-C1".to_owned()],
        contact: "Équipe NOC, noc@ciel.example, +33 1 23 45 67 89".to_owned(),
        location: Some("Montigny-le-Bretonneux (MLB)".to_owned()),
        notified_at: Some(ts("2026-05-04T08:00:00Z")),
        sla: SlaCounting::Excluded,
        sequence: 0,
        cancelled: false,
        last_modified: ts("2026-05-04T07:59:00Z"),
    }
}

fn feed(lang: Lang, events: Vec<MaintenanceEvent>) -> Feed {
    Feed {
        domain: "ciel.example".to_owned(),
        client_name: "Acme, Dupont & Fils; Lyon".to_owned(),
        lang,
        time_zone: paris(),
        notice_days: 7,
        dtstamp: ts("2026-05-10T12:00:00Z"),
        events,
    }
}

/// Every kind of window a client can see: in time, urgent, late, cancelled,
/// never notified, with escaping traps in every text.
fn all_windows() -> Vec<MaintenanceEvent> {
    let mut urgent = window("mw_urgent");
    urgent.sla = SlaCounting::UrgentSecurity {
        reason: "faille OpenSSH exploitée (CVE-2026-1234)".to_owned(),
    };
    urgent.notified_at = Some(ts("2026-05-14T18:00:00Z"));
    urgent.location = None;
    let mut late = window("mw_late");
    late.sla = SlaCounting::NotifiedLate;
    late.notified_at = Some(ts("2026-05-09T08:00:00Z"));
    late.title = "Remplacement d'un switch; cœur de réseau, \\baie 12\\".to_owned();
    late.reason = "Ligne 1\r\nLigne 2\nLigne 3\rFin".to_owned();
    let mut cancelled = window("mw_cancelled");
    cancelled.cancelled = true;
    cancelled.sequence = 3;
    cancelled.last_modified = ts("2026-05-09T10:00:00Z");
    let mut silent = window("mw_silent");
    silent.sla = SlaCounting::NotNotified;
    silent.notified_at = None;
    silent.services.clear();
    silent.clusters = vec!["PA3-C2".to_owned(), "TLS-C1".to_owned()];
    // A long window across the end of DST (25 October 2026, 03:00 → 02:00).
    silent.start = ts("2026-10-24T22:00:00Z");
    silent.end = ts("2026-10-26T05:15:00Z");
    vec![window("mw_0001"), urgent, late, cancelled, silent]
}

// ---- escaping, folding: tables worked by hand --------------------------------

#[test]
fn text_escaping_follows_rfc5545_3_3_11() {
    let cases = [
        ("plain", "plain"),
        (r"a\b", r"a\\b"),
        ("a;b", r"a\;b"),
        ("a,b", r"a\,b"),
        ("a\nb", r"a\nb"),
        ("a\r\nb", r"a\nb"), // one break, not two
        ("a\rb", r"a\nb"),
        ("a\tb", "a\tb"),     // HTAB is allowed in TEXT
        ("a\u{7}b", "a b"),   // BEL is not
        ("a:b\"c", "a:b\"c"), // colon and quote need no escaping in TEXT
        (r"\;,", r"\\\;\,"),  // each escaped on its own
        ("été, hiver", r"été\, hiver"),
    ];
    for (raw, escaped) in cases {
        assert_eq!(escape_text(raw), escaped, "{raw:?}");
    }
}

#[test]
fn folding_cuts_at_75_octets_never_inside_a_character() {
    // (content line, octet lengths of the physical lines, CRLF excluded)
    let prefix = "DESCRIPTION:"; // 12 octets
    let a = |n: usize| "a".repeat(n);
    let cases: Vec<(String, Vec<usize>)> = vec![
        // 75 octets exactly: not folded.
        (format!("{prefix}{}", a(63)), vec![75]),
        // 76 octets: 75, then " " + 1.
        (format!("{prefix}{}", a(64)), vec![75, 2]),
        // 73 ASCII + "é" (2 octets) = 75: fits exactly, not folded.
        (format!("{prefix}{}é", a(61)), vec![75]),
        // 74 ASCII + "é" = 76: "é" would straddle octet 75, so the line is cut
        // before it at 74 octets and "é" opens the next line (" é" = 3).
        (format!("{prefix}{}é", a(62)), vec![74, 3]),
        // 72 ASCII + "🔧" (4 octets) = 76: cut before it at 72; " 🔧" = 5.
        (format!("{prefix}{}🔧", a(60)), vec![72, 5]),
        // Continuation lines hold 74 octets after their space: 75 + 74 + 1.
        (format!("{prefix}{}", a(63 + 74 + 1)), vec![75, 75, 2]),
        // A continuation line with "€" (3 octets) at its end: 75, then
        // " " + 72 "b" = 73, "€" would make 76 → cut; " €" = 4.
        (
            format!("{prefix}{}{}€", a(63), "b".repeat(72)),
            vec![75, 73, 4],
        ),
        // Empty line.
        (String::new(), vec![0]),
    ];
    for (line, lengths) in cases {
        let folded = fold_line(&line);
        assert!(folded.ends_with("\r\n"));
        let physical: Vec<&str> = folded.trim_end_matches("\r\n").split("\r\n").collect();
        let got: Vec<usize> = physical.iter().map(|l| l.len()).collect();
        assert_eq!(got, lengths, "{line:?}");
        for l in &physical[1..] {
            assert!(l.starts_with(' '), "continuation without its space: {l:?}");
        }
        assert_eq!(unfold(&folded), format!("{line}\r\n"));
    }
}

// ---- the feed ---------------------------------------------------------------

#[test]
fn a_feed_has_the_calendar_header_and_one_event_per_window() {
    let f = feed(Lang::Fr, all_windows());
    let ics = to_ical(&f).expect("valid");
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//ciel.example//ciel maintenance feed//FR\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n"));
    assert!(ics.ends_with("END:VEVENT\r\nEND:VCALENDAR\r\n"));
    // No bare LF anywhere: every "\n" is preceded by "\r".
    assert_eq!(ics.matches('\n').count(), ics.matches("\r\n").count());
    for l in ics.split("\r\n") {
        assert!(l.len() <= MAX_LINE_OCTETS, "{l:?}");
    }
    let text = unfold(&ics);
    assert!(text.contains("X-WR-CALNAME:Travaux programmés — Acme\\, Dupont & Fils\\; Lyon\r\n"));
    assert_eq!(text.matches("BEGIN:VEVENT").count(), 5);
    // Stable UID = window id @ domain; DTSTAMP is the instant passed in.
    assert!(text.contains("UID:mw_0001@ciel.example\r\n"));
    assert_eq!(text.matches("DTSTAMP:20260510T120000Z\r\n").count(), 5);
    // UTC date-times, whatever the zone of the description.
    assert!(text.contains("DTSTART:20260514T200000Z\r\nDTEND:20260514T233000Z\r\n"));
    assert!(
        text.contains("SUMMARY;LANGUAGE=fr:Travaux programmés : Mise à jour vCenter 8.0 U3\r\n")
    );
    assert!(text.contains("LOCATION;LANGUAGE=fr:Montigny-le-Bretonneux (MLB)\r\n"));
    assert!(text.contains("SEQUENCE:3\r\nSTATUS:CANCELLED\r\nLAST-MODIFIED:20260509T100000Z\r\n"));
    assert_eq!(text.matches("STATUS:CONFIRMED").count(), 4);
    // The urgent window has no LOCATION: 4 of the 5 events do.
    assert_eq!(text.matches("\r\nLOCATION;").count(), 4);
    // Escaping in the title (semicolon, comma, backslashes) and the reason
    // (three kinds of line break).
    assert!(text.contains("Remplacement d'un switch\\; cœur de réseau\\, \\\\baie 12\\\\"));
    assert!(text.contains("Motif : Ligne 1\\nLigne 2\\nLigne 3\\nFin"));
}

#[test]
fn descriptions_say_the_notice_facts_and_the_sla_status_in_both_languages() {
    let w = all_windows();
    let fr = feed(Lang::Fr, w.clone());
    let en = feed(Lang::En, w.clone());
    // Start 20:00Z = 22:00 CEST; end 23:30Z = 01:30 the next day; 3 h 30 min.
    let d = event_description(&w[0], &fr);
    assert_eq!(
        d,
        "Début : 2026-05-14 22:00 +02:00 ; fin prévue : 2026-05-15 01:30 +02:00 (durée prévue 3 h 30 min)\n\
         Impact : Coupure de la console vCenter ; les VM continuent de tourner\n\
         Motif : Correctif de sécurité VMSA-2026-0007, \"critique\"\n\
         Services concernés : VM-PAR-0042, VM-PAR-0043\n\
         Clusters concernés : MLB-C1\n\
         Contact : Équipe NOC, noc@ciel.example, +33 1 23 45 67 89\n\
         Décompte SLA (CG 14.5) : notifiés le 2026-05-04 10:00 +02:00, au moins 7 jours avant le début : exclus du décompte des interruptions, du rétablissement et de la disponibilité."
    );
    let d = event_description(&w[0], &en);
    assert!(d.starts_with("Start: 2026-05-14 22:00 +02:00; expected end: 2026-05-15 01:30 +02:00 (expected duration 3 h 30 min)\nImpact: "));
    assert!(
        d.contains("\nAffected services: VM-PAR-0042, VM-PAR-0043\nAffected clusters: MLB-C1\n")
    );
    assert!(d.ends_with("SLA counting (CG 14.5): notified on 2026-05-04 10:00 +02:00, at least 7 days before the start: excluded from interruption, restoration and availability counting."));

    assert!(event_description(&w[1], &fr).ends_with(
        "maintenance urgente de sécurité (faille OpenSSH exploitée (CVE-2026-1234)) : exclue du décompte des interruptions, du rétablissement et de la disponibilité."
    ));
    assert!(event_description(&w[2], &fr).ends_with(
        "notifiés tardivement le 2026-05-09 10:00 +02:00, moins de 7 jours avant le début : non exclus, l'indisponibilité éventuelle est comptée."
    ));
    assert!(event_description(&w[2], &en).ends_with(
        "notified late on 2026-05-09 10:00 +02:00, less than 7 days before the start: not excluded, any unavailability counts."
    ));
    assert!(
        event_description(&w[3], &fr).starts_with("ANNULÉE : ces travaux n'auront pas lieu.\n")
    );
    assert_eq!(
        summary(&w[3], Lang::En),
        "CANCELLED — Scheduled maintenance: Mise à jour vCenter 8.0 U3"
    );
    // Across the end of DST: 24 Oct 22:00Z = 25 Oct 00:00 CEST; 26 Oct 05:15Z =
    // 06:15 CET; elapsed 31 h 15 min = 1 d 7 h 15 min (real time, not wall time).
    let silent = event_description(&w[4], &fr);
    assert!(silent.starts_with("Début : 2026-10-25 00:00 +02:00 ; fin prévue : 2026-10-26 06:15 +01:00 (durée prévue 1 j 7 h 15 min)\n"));
    assert!(!silent.contains("Services concernés"));
    assert!(silent.contains("\nClusters concernés : PA3-C2, TLS-C1\n"));
    assert!(
        silent.ends_with("pas encore notifiés : non exclus tant que le préavis n'est pas envoyé.")
    );
    assert_eq!(
        calendar_name(&en),
        "Scheduled maintenance — Acme, Dupont & Fils; Lyon"
    );
    assert_eq!(uid("mw_0001", "ciel.example"), "mw_0001@ciel.example");
}

#[test]
fn the_same_windows_give_the_same_feed() {
    let f = feed(Lang::En, all_windows());
    assert_eq!(to_ical(&f), to_ical(&f.clone()));
    let empty = to_ical(&feed(Lang::En, vec![])).expect("an empty feed is valid");
    assert!(!empty.contains("VEVENT"));
    assert!(
        empty.contains("X-WR-CALNAME:Scheduled maintenance — Acme\\, Dupont & Fils\\; Lyon\r\n")
    );
}

#[test]
fn bad_windows_are_refused_with_the_reason() {
    let ok = window("mw_1");
    type Spoil = Box<dyn Fn(&mut Feed)>;
    let cases: Vec<(Spoil, IcalError)> = vec![
        (
            Box::new(|f| f.domain = "ciel example".into()),
            IcalError::InvalidDomain("ciel example".into()),
        ),
        (
            Box::new(|f| f.domain = String::new()),
            IcalError::InvalidDomain(String::new()),
        ),
        (
            Box::new(|f| f.events[0].id = "a b".into()),
            IcalError::InvalidId("a b".into()),
        ),
        (
            Box::new(|f| f.events[0].id = "a@b".into()),
            IcalError::InvalidId("a@b".into()),
        ),
        (
            Box::new(|f| f.events[0].id = String::new()),
            IcalError::InvalidId(String::new()),
        ),
        (
            Box::new(|f| f.events.push(f.events[0].clone())),
            IcalError::DuplicateId("mw_1".into()),
        ),
        (
            Box::new(|f| f.events[0].title = "  ".into()),
            IcalError::EmptyTitle("mw_1".into()),
        ),
        (
            Box::new(|f| f.events[0].end = f.events[0].start),
            IcalError::EndNotAfterStart("mw_1".into()),
        ),
        // 0.5 s later still writes the same second: refused.
        (
            Box::new(|f| f.events[0].end = ts("2026-05-14T20:00:00.5Z")),
            IcalError::EndNotAfterStart("mw_1".into()),
        ),
        (
            Box::new(|f| f.events[0].sla = SlaCounting::UrgentSecurity { reason: " ".into() }),
            IcalError::UrgentWithoutReason("mw_1".into()),
        ),
        (
            Box::new(|f| f.dtstamp = ts("-000001-01-01T00:00:00Z")),
            IcalError::OutOfRange(ts("-000001-01-01T00:00:00Z")),
        ),
    ];
    for (i, (spoil, err)) in cases.into_iter().enumerate() {
        let mut f = feed(Lang::Fr, vec![ok.clone()]);
        spoil(&mut f);
        assert_eq!(to_ical(&f), Err(err), "case {i}");
    }
    // One second is enough.
    let mut f = feed(Lang::Fr, vec![ok]);
    f.events[0].end = ts("2026-05-14T20:00:01Z");
    assert!(to_ical(&f).is_ok());
}

// ---- properties -------------------------------------------------------------

proptest! {
    /// Folded lines are at most 75 octets, each is valid UTF-8 on its own (the
    /// `&str` split proves it), and unfolding gives the original line back.
    #[test]
    fn folded_lines_fit_and_unfold_to_the_original(line in "[a-zé€🔧 ;,\\\\:]{0,300}") {
        let folded = fold_line(&line);
        prop_assert!(folded.ends_with("\r\n"));
        for (i, l) in folded.trim_end_matches("\r\n").split("\r\n").enumerate() {
            prop_assert!(l.len() <= MAX_LINE_OCTETS, "{} octets", l.len());
            if i > 0 {
                prop_assert!(l.starts_with(' '));
            }
        }
        prop_assert_eq!(unfold(&folded), format!("{line}\r\n"));
    }

    /// Escaped text never holds a line break nor an unescaped separator.
    #[test]
    fn escaped_text_has_no_raw_separator(s in "\\PC{0,80}|[\\r\\n;,\\\\a]{0,40}") {
        let e = escape_text(&s);
        prop_assert!(!e.contains('\n') && !e.contains('\r'));
        let mut chars = e.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                let next = chars.next();
                prop_assert!(matches!(next, Some('\\' | ';' | ',' | 'n')), "{:?}", next);
            } else {
                prop_assert!(c != ';' && c != ',');
            }
        }
    }

    /// Whole feeds with arbitrary texts: every physical line fits, the feed
    /// ends with CRLF and there is exactly one VEVENT per window.
    #[test]
    fn random_feeds_are_well_formed(f in strategies::feed()) {
        let ics = to_ical(&f).expect("valid");
        for l in ics.trim_end_matches("\r\n").split("\r\n") {
            prop_assert!(l.len() <= MAX_LINE_OCTETS);
        }
        prop_assert_eq!(ics.matches("BEGIN:VEVENT\r\n").count(), f.events.len());
    }
}

mod strategies {
    use super::*;

    pub fn text() -> impl Strategy<Value = String> {
        // Letters, accents, emoji, and every character TEXT must escape.
        "[a-zA-Z0-9 éèàçœÉ€🔧\\\\;,:\"'\\n\\r\\t.-]{1,120}"
    }

    pub fn event(i: usize) -> impl Strategy<Value = MaintenanceEvent> {
        (
            text(),
            text(),
            text(),
            prop::collection::vec("[A-Z0-9-]{1,12}", 0..4),
            (1_700_000_000i64..1_900_000_000, 1i64..400_000),
            0u32..20,
            any::<bool>(),
            prop::option::of(text()),
            0u8..4,
        )
            .prop_map(
                move |(
                    title,
                    impact,
                    reason,
                    services,
                    (start, len),
                    sequence,
                    cancelled,
                    location,
                    sla,
                )| {
                    let start = Timestamp::from_second(start).expect("in range");
                    MaintenanceEvent {
                        id: format!("mw_{i:04}"),
                        title: format!("T{title}"),
                        start,
                        end: Timestamp::from_second(start.as_second() + len).expect("in range"),
                        impact,
                        reason: reason.clone(),
                        services: services.clone(),
                        clusters: services,
                        contact: "noc@ciel.example".to_owned(),
                        location,
                        notified_at: Some(
                            Timestamp::from_second(start.as_second() - 700_000).expect("in range"),
                        ),
                        sla: match sla {
                            0 => SlaCounting::Excluded,
                            1 => SlaCounting::UrgentSecurity {
                                reason: format!("R{reason}"),
                            },
                            2 => SlaCounting::NotifiedLate,
                            _ => SlaCounting::NotNotified,
                        },
                        sequence,
                        cancelled,
                        last_modified: start,
                    }
                },
            )
    }

    pub fn feed() -> impl Strategy<Value = Feed> {
        (0usize..5, any::<bool>(), text())
            .prop_flat_map(|(n, en, client)| {
                let events: Vec<_> = (0..n).map(event).collect();
                (events, Just(en), Just(client))
            })
            .prop_map(|(events, en, client)| {
                let mut f = super::feed(if en { Lang::En } else { Lang::Fr }, events);
                f.client_name = client;
                f
            })
    }
}

// ---- the independent parser ---------------------------------------------------

fn skipped() -> bool {
    std::env::var("CIEL_SKIP_PY_VALIDATORS").is_ok_and(|v| v == "1")
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validate/ical.py")
}

/// Runs the script and returns its exit code and report; fails when the
/// package is missing, with the line to install it.
fn run(files: &[PathBuf]) -> (Option<i32>, String) {
    let output = Command::new("python3")
        .arg(script())
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 ({e}); install Python 3 and: {PIP_LINE}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(3) {
        panic!(
            "the independent iCalendar validator is not installed: {PIP_LINE}\n\
             (or set CIEL_SKIP_PY_VALIDATORS=1 to skip it)\n{stderr}"
        );
    }
    (output.status.code(), format!("{stdout}\n{stderr}"))
}

/// Fails with the full report.
fn validate(files: &[PathBuf]) {
    match run(files) {
        (Some(0), report) => println!("{report}"),
        (_, report) => panic!("iCalendar validation failed:\n{report}"),
    }
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// What a parser must decode: the texts before escaping (line breaks
/// normalised to LF, other control characters to spaces, as `escape_text`
/// documents), so a wrong escape or fold shows up as a difference.
fn decoded(s: &str) -> String {
    s.replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// Writes the feed and the values the parser must decode from it.
fn write(dir: &Path, name: &str, f: &Feed) -> PathBuf {
    let ics = to_ical(f).unwrap_or_else(|e| panic!("{name}: {e}"));
    let path = dir.join(format!("{name}.ics"));
    std::fs::write(&path, ics).expect("write the feed");
    let events: Vec<String> = f
        .events
        .iter()
        .map(|e| {
            let location = match e.location.as_deref().filter(|l| !l.trim().is_empty()) {
                Some(l) => json_str(&decoded(l)),
                None => "null".to_owned(),
            };
            format!(
                "{{\"uid\": {}, \"summary\": {}, \"description\": {}, \"location\": {location}, \"status\": {}, \"sequence\": {}, \"dtstart\": {}, \"dtend\": {}}}",
                json_str(&uid(&e.id, &f.domain)),
                json_str(&decoded(&summary(e, f.lang))),
                json_str(&decoded(&event_description(e, f))),
                json_str(if e.cancelled { "CANCELLED" } else { "CONFIRMED" }),
                e.sequence,
                json_str(&e.start.strftime("%Y%m%dT%H%M%SZ").to_string()),
                json_str(&e.end.strftime("%Y%m%dT%H%M%SZ").to_string()),
            )
        })
        .collect();
    let expected = format!(
        "{{\"calname\": {}, \"events\": [{}]}}",
        json_str(&decoded(&calendar_name(f))),
        events.join(", ")
    );
    std::fs::write(dir.join(format!("{name}.expected.json")), expected)
        .expect("write the expectations");
    path
}

#[test]
fn feeds_pass_the_icalendar_parser_and_decode_to_the_texts_given() {
    if skipped() {
        eprintln!("CIEL_SKIP_PY_VALIDATORS=1: iCalendar validation skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let files = vec![
        write(dir.path(), "all-fr", &feed(Lang::Fr, all_windows())),
        write(dir.path(), "all-en", &feed(Lang::En, all_windows())),
        write(dir.path(), "empty", &feed(Lang::Fr, vec![])),
    ];
    validate(&files);
}

/// The validator is live: a feed spoiled by hand (a bare LF, an unfolded
/// 80-octet line, a fold inside "é", an unknown STATUS, DTEND before DTSTART)
/// is refused and each fault is named. Without this, a script that silently
/// checked nothing would pass everything above.
#[test]
fn spoiled_feeds_are_refused_by_the_validator() {
    if skipped() {
        eprintln!("CIEL_SKIP_PY_VALIDATORS=1: validator self-check skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let good = to_ical(&feed(Lang::Fr, vec![window("mw_1")])).expect("valid");
    let long = format!("X-CIEL-NOTE:{}", "a".repeat(68)); // 80 octets, not folded
    let spoiled = good
        .replace("METHOD:PUBLISH\r\n", &format!("METHOD:PUBLISH\n{long}\r\n"))
        .replace("STATUS:CONFIRMED", "STATUS:MAYBE")
        .replace("DTEND:20260514T233000Z", "DTEND:20260514T190000Z");
    assert_ne!(spoiled, good);
    let mut bytes = spoiled.into_bytes();
    // Split "é" (C3 A9) of "Mise à jour"... rather "à" (C3 A0) by a fold.
    let at = bytes
        .windows(2)
        .position(|w| w == [0xC3, 0xA0])
        .expect("an à in the summary");
    bytes.splice(at + 1..at + 1, *b"\r\n ");
    let path = dir.path().join("spoiled.ics");
    std::fs::write(&path, bytes).expect("write");
    let (code, report) = run(&[path]);
    assert_eq!(code, Some(1), "{report}");
    for fault in [
        "bare CR or LF",
        "more than 75",
        "split a character",
        "STATUS 'MAYBE'",
        "DTEND is not after DTSTART",
    ] {
        assert!(report.contains(fault), "{fault} not reported:\n{report}");
    }

    // A wrong escape (a raw comma) decodes differently from what was given.
    let f = feed(Lang::Fr, vec![window("mw_2")]);
    let path = write(dir.path(), "wrong-escape", &f);
    let ics = std::fs::read_to_string(&path).expect("read");
    std::fs::write(
        &path,
        unfold(&ics).replace("VM-PAR-0042\\, ", "VM-PAR-0042; "),
    )
    .expect("write");
    let (code, report) = run(&[path]);
    assert_eq!(code, Some(1), "{report}");
    assert!(report.contains("description decodes to"), "{report}");
}

/// A fixed-seed sample of the random feeds of the properties goes through the
/// parser too, with the texts it must decode.
#[test]
fn random_feeds_pass_the_icalendar_parser() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    if skipped() {
        eprintln!("CIEL_SKIP_PY_VALIDATORS=1: random-feed validation skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[11; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let files: Vec<PathBuf> = (0..24)
        .map(|i| {
            let f = strategies::feed()
                .new_tree(&mut runner)
                .expect("a sample")
                .current();
            write(dir.path(), &format!("random-{i}"), &f)
        })
        .collect();
    validate(&files);
}
