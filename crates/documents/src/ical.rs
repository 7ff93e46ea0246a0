//! The iCalendar (RFC 5545) feed of one client's maintenance windows (R4.6).
//!
//! A client subscribes to a private URL from its calendar application; the
//! application polls it and shows every scheduled window with what CG 14.5
//! says a notice holds (start, expected duration, impact, reason, contact) and
//! whether the window is excluded from SLA counting. The feed is rebuilt from
//! the stored windows on each request, so it must be a pure function of them:
//! [`to_ical`] takes the generation instant (`DTSTAMP`) as an argument and
//! never reads the clock.
//!
//! Why the details matter to calendar applications:
//! * the `UID` (`<window id>@<domain>`) is stable, and `SEQUENCE` grows with
//!   each change, so a moved window updates the event instead of adding one;
//! * a cancelled window stays in the feed with `STATUS:CANCELLED` (same UID,
//!   higher sequence): clients that already imported it remove it, which a
//!   silently vanished event would not make them do;
//! * instants are written in UTC (`…Z`), so no `VTIMEZONE` is needed and no
//!   application can misread a daylight-saving change;
//! * `TEXT` values are escaped (backslash, semicolon, comma, newline), lines end
//!   with CRLF and are folded at 75 octets without ever splitting a UTF-8
//!   character (RFC 5545 3.1 and 3.3.11), the three things hand-written feeds
//!   usually get wrong and strict parsers refuse;
//! * events are `TRANSP:TRANSPARENT`: a maintenance window does not make the
//!   client's people busy.
//!
//! French is the reference language of the contract; English is offered for
//! the client's users who chose it. The test suite checks generated feeds with
//! the independent `icalendar` PyPI package.

use std::collections::BTreeSet;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// Maximum length of a content line in octets, CRLF excluded (RFC 5545 3.1).
pub const MAX_LINE_OCTETS: usize = 75;

/// Language of the feed's texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Fr,
    En,
}

impl Lang {
    /// The RFC 5646 tag written in `LANGUAGE` parameters.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }
}

/// How a window counts for the SLA (R4.6, R5.3): what the engine decided
/// (`ciel_engine::desk` computes it from the notice's send time), shown to
/// the client so that it knows whether the window can cost it availability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlaCounting {
    /// Notified in time: excluded from interruption, restoration and
    /// availability counting.
    Excluded,
    /// Urgent security maintenance: excluded whatever the notice, for the
    /// reason given.
    UrgentSecurity { reason: String },
    /// Notified less than the contractual notice before its start: counted
    /// like any interruption.
    NotifiedLate,
    /// Not notified (yet): counted like any interruption.
    NotNotified,
}

/// One maintenance window as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceEvent {
    /// Stable identifier of the window (the left part of the UID).
    pub id: String,
    /// Short title, e.g. "Mise à jour vCenter 8.0 U3".
    pub title: String,
    pub start: Timestamp,
    /// Expected end (start + expected duration).
    pub end: Timestamp,
    pub impact: String,
    pub reason: String,
    /// Services of this client affected (names or references).
    pub services: Vec<String>,
    /// Clusters affected.
    pub clusters: Vec<String>,
    /// Who to contact about the works (name, e-mail or phone).
    pub contact: String,
    /// Site of the works, when one is meaningful (e.g. a datacenter).
    pub location: Option<String>,
    /// Send time of the notice to this client.
    pub notified_at: Option<Timestamp>,
    pub sla: SlaCounting,
    /// Revision of the window, incremented at each change (RFC 5545 3.8.7.4).
    pub sequence: u32,
    pub cancelled: bool,
    /// Last change of the window.
    pub last_modified: Timestamp,
}

/// The feed of one client.
#[derive(Debug, Clone, PartialEq)]
pub struct Feed {
    /// The provider's domain: the right part of every UID, and the PRODID.
    pub domain: String,
    /// The client's name, shown in the calendar's name.
    pub client_name: String,
    pub lang: Lang,
    /// Zone in which the description shows instants (Europe/Paris).
    pub time_zone: TimeZone,
    /// Contractual notice in days (`maintenance.notice_days` of the terms),
    /// quoted in the SLA line of each description.
    pub notice_days: u32,
    /// Generation instant of the feed, written as every event's DTSTAMP.
    pub dtstamp: Timestamp,
    pub events: Vec<MaintenanceEvent>,
}

/// Why a feed cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IcalError {
    #[error("domain {0:?} is not a host name (letters, digits, '-' and '.')")]
    InvalidDomain(String),
    #[error(
        "window id {0:?} must be 1 to 200 characters, without spaces, '@' or control characters"
    )]
    InvalidId(String),
    #[error("window {0}: appears twice in the feed")]
    DuplicateId(String),
    #[error("window {0}: the title is empty")]
    EmptyTitle(String),
    #[error("window {0}: it must end at least one second after it starts")]
    EndNotAfterStart(String),
    #[error("window {0}: an urgent security maintenance needs its reason")]
    UrgentWithoutReason(String),
    #[error("{0} is outside the years 0001-9999 that iCalendar can write")]
    OutOfRange(Timestamp),
}

/// Escape a `TEXT` value (RFC 5545 3.3.11): backslash, semicolon and comma are
/// preceded by a backslash, every line break (CRLF, LF or CR) becomes `\n`.
/// Other control characters, which `TEXT` forbids, become spaces (a tab is
/// allowed and kept).
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Fold one content line (without its CRLF) at [`MAX_LINE_OCTETS`] octets and
/// end it with CRLF. Continuation lines start with one space, which counts in
/// their 75 octets. A cut is always made on a character boundary, so a
/// multi-byte character is never split across lines (RFC 5545 3.1: "care must
/// be taken").
pub fn fold_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3 + 2);
    let mut used = 0usize;
    let mut limit = MAX_LINE_OCTETS;
    for c in line.chars() {
        let n = c.len_utf8();
        if used + n > limit {
            out.push_str("\r\n ");
            used = 1;
            limit = MAX_LINE_OCTETS;
        }
        out.push(c);
        used += n;
    }
    out.push_str("\r\n");
    out
}

/// Undo [`fold_line`] on a whole feed: remove every CRLF followed by a space
/// or a tab (RFC 5545 3.1 "unfolding").
pub fn unfold(s: &str) -> String {
    s.replace("\r\n ", "").replace("\r\n\t", "")
}

fn utc(t: Timestamp) -> Result<String, IcalError> {
    let year = t.to_zoned(TimeZone::UTC).year();
    if !(1..=9999).contains(&year) {
        return Err(IcalError::OutOfRange(t));
    }
    Ok(t.strftime("%Y%m%dT%H%M%SZ").to_string())
}

fn valid_domain(d: &str) -> bool {
    !d.is_empty()
        && d.len() <= 253
        && !d.starts_with('.')
        && !d.ends_with('.')
        && d.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.chars().count() <= 200
        && id
            .chars()
            .all(|c| !c.is_control() && !c.is_whitespace() && c != '@')
}

/// "2 h 30 min" / "45 min" / "3 j 4 h" from a whole number of seconds.
fn duration_text(d: SignedDuration, lang: Lang) -> String {
    let secs = d.as_secs().max(0);
    let (days, h, m) = (secs / 86_400, (secs / 3600) % 24, (secs / 60) % 60);
    let day = match lang {
        Lang::Fr => "j",
        Lang::En => "d",
    };
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days} {day}"));
    }
    if h > 0 {
        parts.push(format!("{h} h"));
    }
    if m > 0 || parts.is_empty() {
        parts.push(format!("{m} min"));
    }
    parts.join(" ")
}

fn local(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M %:z")
        .to_string()
}

/// The description of one window: one fact per line, the SLA status last.
fn description(e: &MaintenanceEvent, feed: &Feed) -> String {
    let fr = feed.lang == Lang::Fr;
    let tz = &feed.time_zone;
    let mut lines: Vec<String> = Vec::new();
    if e.cancelled {
        lines.push(if fr {
            "ANNULÉE : ces travaux n'auront pas lieu.".to_owned()
        } else {
            "CANCELLED: these works will not take place.".to_owned()
        });
    }
    let (start, end) = (local(e.start, tz), local(e.end, tz));
    let dur = duration_text(e.end.duration_since(e.start), feed.lang);
    lines.push(if fr {
        format!("Début : {start} ; fin prévue : {end} (durée prévue {dur})")
    } else {
        format!("Start: {start}; expected end: {end} (expected duration {dur})")
    });
    lines.push(if fr {
        format!("Impact : {}", e.impact)
    } else {
        format!("Impact: {}", e.impact)
    });
    lines.push(if fr {
        format!("Motif : {}", e.reason)
    } else {
        format!("Reason: {}", e.reason)
    });
    if !e.services.is_empty() {
        let list = e.services.join(", ");
        lines.push(if fr {
            format!("Services concernés : {list}")
        } else {
            format!("Affected services: {list}")
        });
    }
    if !e.clusters.is_empty() {
        let list = e.clusters.join(", ");
        lines.push(if fr {
            format!("Clusters concernés : {list}")
        } else {
            format!("Affected clusters: {list}")
        });
    }
    lines.push(if fr {
        format!("Contact : {}", e.contact)
    } else {
        format!("Contact: {}", e.contact)
    });
    let n = feed.notice_days;
    let sent = e.notified_at.map(|t| local(t, tz));
    lines.push(match (&e.sla, fr, sent) {
        (SlaCounting::Excluded, true, Some(s)) => format!(
            "Décompte SLA (CG 14.5) : notifiés le {s}, au moins {n} jours avant le début : exclus du décompte des interruptions, du rétablissement et de la disponibilité."
        ),
        (SlaCounting::Excluded, true, None) => format!(
            "Décompte SLA (CG 14.5) : notifiés au moins {n} jours avant le début : exclus du décompte des interruptions, du rétablissement et de la disponibilité."
        ),
        (SlaCounting::Excluded, false, Some(s)) => format!(
            "SLA counting (CG 14.5): notified on {s}, at least {n} days before the start: excluded from interruption, restoration and availability counting."
        ),
        (SlaCounting::Excluded, false, None) => format!(
            "SLA counting (CG 14.5): notified at least {n} days before the start: excluded from interruption, restoration and availability counting."
        ),
        (SlaCounting::UrgentSecurity { reason }, true, _) => format!(
            "Décompte SLA (CG 14.5) : maintenance urgente de sécurité ({reason}) : exclue du décompte des interruptions, du rétablissement et de la disponibilité."
        ),
        (SlaCounting::UrgentSecurity { reason }, false, _) => format!(
            "SLA counting (CG 14.5): urgent security maintenance ({reason}): excluded from interruption, restoration and availability counting."
        ),
        (SlaCounting::NotifiedLate, true, Some(s)) => format!(
            "Décompte SLA (CG 14.5) : notifiés tardivement le {s}, moins de {n} jours avant le début : non exclus, l'indisponibilité éventuelle est comptée."
        ),
        (SlaCounting::NotifiedLate, true, None) => format!(
            "Décompte SLA (CG 14.5) : notifiés moins de {n} jours avant le début : non exclus, l'indisponibilité éventuelle est comptée."
        ),
        (SlaCounting::NotifiedLate, false, Some(s)) => format!(
            "SLA counting (CG 14.5): notified late on {s}, less than {n} days before the start: not excluded, any unavailability counts."
        ),
        (SlaCounting::NotifiedLate, false, None) => format!(
            "SLA counting (CG 14.5): notified less than {n} days before the start: not excluded, any unavailability counts."
        ),
        (SlaCounting::NotNotified, true, _) => {
            "Décompte SLA (CG 14.5) : pas encore notifiés : non exclus tant que le préavis n'est pas envoyé.".to_owned()
        }
        (SlaCounting::NotNotified, false, _) => {
            "SLA counting (CG 14.5): not notified yet: not excluded until the notice is sent.".to_owned()
        }
    });
    lines.join("\n")
}

fn check(feed: &Feed) -> Result<(), IcalError> {
    if !valid_domain(&feed.domain) {
        return Err(IcalError::InvalidDomain(feed.domain.clone()));
    }
    utc(feed.dtstamp)?;
    let mut seen = BTreeSet::new();
    for e in &feed.events {
        if !valid_id(&e.id) {
            return Err(IcalError::InvalidId(e.id.clone()));
        }
        if !seen.insert(e.id.as_str()) {
            return Err(IcalError::DuplicateId(e.id.clone()));
        }
        if e.title.trim().is_empty() {
            return Err(IcalError::EmptyTitle(e.id.clone()));
        }
        utc(e.start)?;
        utc(e.end)?;
        utc(e.last_modified)?;
        // Compared at the second, as written: DTEND must be after DTSTART.
        if e.end.as_second() <= e.start.as_second() {
            return Err(IcalError::EndNotAfterStart(e.id.clone()));
        }
        if let SlaCounting::UrgentSecurity { reason } = &e.sla
            && reason.trim().is_empty()
        {
            return Err(IcalError::UrgentWithoutReason(e.id.clone()));
        }
    }
    Ok(())
}

/// The `SUMMARY` of a window: what a calendar shows in its grid.
pub fn summary(e: &MaintenanceEvent, lang: Lang) -> String {
    match (lang, e.cancelled) {
        (Lang::Fr, false) => format!("Travaux programmés : {}", e.title),
        (Lang::Fr, true) => format!("ANNULÉ — Travaux programmés : {}", e.title),
        (Lang::En, false) => format!("Scheduled maintenance: {}", e.title),
        (Lang::En, true) => format!("CANCELLED — Scheduled maintenance: {}", e.title),
    }
}

/// The `X-WR-CALNAME` of a client's feed.
pub fn calendar_name(feed: &Feed) -> String {
    match feed.lang {
        Lang::Fr => format!("Travaux programmés — {}", feed.client_name),
        Lang::En => format!("Scheduled maintenance — {}", feed.client_name),
    }
}

/// The `UID` of a window: stable across revisions of the window.
pub fn uid(window_id: &str, domain: &str) -> String {
    format!("{window_id}@{domain}")
}

/// The decoded description of a window, as a parser gives it back (the test
/// suite compares it with what the independent parser reads).
pub fn event_description(e: &MaintenanceEvent, feed: &Feed) -> String {
    description(e, feed)
}

/// Write the feed: events in the order given (callers sort them by start).
pub fn to_ical(feed: &Feed) -> Result<String, IcalError> {
    check(feed)?;
    let lang = feed.lang;
    let tag = lang.tag();
    let mut out = String::with_capacity(512 + feed.events.len() * 1024);
    let mut line = |s: &str| out.push_str(&fold_line(s));
    line("BEGIN:VCALENDAR");
    line("VERSION:2.0");
    line(&format!(
        "PRODID:-//{}//ciel maintenance feed//{}",
        feed.domain,
        tag.to_uppercase()
    ));
    line("CALSCALE:GREGORIAN");
    line("METHOD:PUBLISH");
    line(&format!(
        "X-WR-CALNAME:{}",
        escape_text(&calendar_name(feed))
    ));
    // Hints for subscribing applications: poll hourly.
    line("REFRESH-INTERVAL;VALUE=DURATION:PT1H");
    line("X-PUBLISHED-TTL:PT1H");
    let dtstamp = utc(feed.dtstamp)?;
    for e in &feed.events {
        line("BEGIN:VEVENT");
        line(&format!("UID:{}", escape_text(&uid(&e.id, &feed.domain))));
        line(&format!("DTSTAMP:{dtstamp}"));
        line(&format!("DTSTART:{}", utc(e.start)?));
        line(&format!("DTEND:{}", utc(e.end)?));
        line(&format!(
            "SUMMARY;LANGUAGE={tag}:{}",
            escape_text(&summary(e, lang))
        ));
        line(&format!(
            "DESCRIPTION;LANGUAGE={tag}:{}",
            escape_text(&description(e, feed))
        ));
        if let Some(loc) = e.location.as_deref().filter(|l| !l.trim().is_empty()) {
            line(&format!("LOCATION;LANGUAGE={tag}:{}", escape_text(loc)));
        }
        line(&format!("SEQUENCE:{}", e.sequence));
        line(if e.cancelled {
            "STATUS:CANCELLED"
        } else {
            "STATUS:CONFIRMED"
        });
        line(&format!("LAST-MODIFIED:{}", utc(e.last_modified)?));
        line("TRANSP:TRANSPARENT");
        line("END:VEVENT");
    }
    line("END:VCALENDAR");
    Ok(out)
}
