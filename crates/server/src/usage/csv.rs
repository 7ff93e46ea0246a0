//! CSV files of readings: a header line naming the columns of the kind, then
//! one reading a line, comma-separated, no quoting (identifiers, port names,
//! RFC 3339 instants and numbers never need it). The first bad line refuses
//! the whole file: its 1-based line number is in the problem's `field`
//! (`lines[7].in_bps`) and `detail`.
//!
//! | kind | columns |
//! |---|---|
//! | bandwidth | `service_id,port,at,in_bps,out_bps` |
//! | power | `service_id,at,amps,kva` (either may be empty) |
//! | storage | `service_id,at,gb` |
//! | traffic | `service_id,at,bytes` |

use super::{Kind, Reading};
use crate::problem::{ApiResult, Problem};
use jiff::Timestamp;
use rust_decimal::Decimal;

/// The columns of a kind, in order.
pub fn columns(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Bandwidth => &["service_id", "port", "at", "in_bps", "out_bps"],
        Kind::Power => &["service_id", "at", "amps", "kva"],
        Kind::Storage => &["service_id", "at", "gb"],
        Kind::Traffic => &["service_id", "at", "bytes"],
    }
}

/// The problem field naming column `column` of line `line`.
pub fn field(line: usize, column: &str) -> String {
    format!("lines[{line}].{column}")
}

/// A value problem of a line (negative, future, unknown service) named
/// with its line as the syntax problems are: "line 7: in_bps: ...".
pub fn with_line(mut p: Problem) -> Problem {
    let Some((line, column)) = p
        .field
        .as_deref()
        .and_then(|f| f.strip_prefix("lines["))
        .and_then(|f| f.split_once("]."))
        .map(|(l, c)| (l.to_owned(), c.to_owned()))
    else {
        return p;
    };
    if let Some(d) = &p.detail
        && !d.starts_with("line ")
    {
        p.detail = Some(format!("line {line}: {column}: {d}"));
    }
    p
}

fn bad(line: usize, column: &str, why: impl std::fmt::Display) -> Problem {
    Problem::invalid(
        &field(line, column),
        format!("line {line}: {column}: {why}"),
    )
}

/// Parses a file: the readings and, for each, its line number.
pub fn parse(kind: Kind, text: &str) -> ApiResult<(Vec<Reading>, Vec<usize>)> {
    let cols = columns(kind);
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')));
    let header = lines
        .by_ref()
        .find(|(_, l)| !l.trim().is_empty())
        .ok_or_else(|| Problem::invalid("lines", "an empty file: a header line, then readings"))?;
    let names: Vec<&str> = header.1.split(',').map(str::trim).collect();
    if names != cols {
        return Err(Problem::invalid(
            &field(header.0, "header"),
            format!(
                "line {}: the header of a {} file is {}",
                header.0,
                kind.code(),
                cols.join(",")
            ),
        ));
    }
    let mut out = Vec::new();
    let mut numbers = Vec::new();
    for (n, l) in lines {
        if l.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = l.split(',').map(str::trim).collect();
        if cells.len() != cols.len() {
            return Err(bad(
                n,
                cols.get(cells.len().min(cols.len() - 1))
                    .copied()
                    .unwrap_or("line"),
                format!("{} values where the header has {}", cells.len(), cols.len()),
            ));
        }
        let get = |i: usize| cells.get(i).copied().unwrap_or_default();
        let text_of = |i: usize| -> ApiResult<String> {
            let v = get(i);
            if v.is_empty() {
                return Err(bad(n, cols[i], "missing"));
            }
            Ok(v.to_owned())
        };
        let at = |i: usize| -> ApiResult<Timestamp> {
            get(i).parse().map_err(|_| {
                bad(
                    n,
                    cols[i],
                    format!("{:?} is not an RFC 3339 instant", get(i)),
                )
            })
        };
        let int = |i: usize| -> ApiResult<i64> {
            get(i)
                .parse()
                .map_err(|_| bad(n, cols[i], format!("{:?} is not a whole number", get(i))))
        };
        let dec = |i: usize| -> ApiResult<Option<Decimal>> {
            match get(i) {
                "" => Ok(None),
                v => Decimal::from_str_exact(v)
                    .map(Some)
                    .map_err(|_| bad(n, cols[i], format!("{v:?} is not a decimal number"))),
            }
        };
        let r = match kind {
            Kind::Bandwidth => Reading::Bandwidth {
                service_id: text_of(0)?,
                port: text_of(1)?,
                at: at(2)?,
                in_bps: int(3)?,
                out_bps: int(4)?,
            },
            Kind::Power => Reading::Power {
                service_id: text_of(0)?,
                at: at(1)?,
                amps: dec(2)?,
                kva: dec(3)?,
            },
            Kind::Storage => Reading::Storage {
                service_id: text_of(0)?,
                at: at(1)?,
                gb: dec(2)?.ok_or_else(|| bad(n, "gb", "missing"))?,
            },
            Kind::Traffic => Reading::Traffic {
                service_id: text_of(0)?,
                at: at(1)?,
                bytes: int(2)?,
            },
        };
        // The value checks (negative, future...) run on the batch with the
        // same line numbers; here only the syntax.
        out.push(r);
        numbers.push(n);
    }
    Ok((out, numbers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_line_is_named_by_its_number() {
        let text = "service_id,port,at,in_bps,out_bps\n\
                    svc_a,eth0,2026-06-01T00:00:00Z,10,20\n\
                    \n\
                    svc_a,eth0,2026-06-01T00:05:00Z,ten,20\n";
        let e = parse(Kind::Bandwidth, text).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("lines[4].in_bps"));
        assert!(e.detail.unwrap().starts_with("line 4: in_bps:"));
        let (ok, lines) = parse(Kind::Bandwidth, &text.replace("ten", "10")).unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(lines, vec![2, 4]);
    }

    #[test]
    fn the_header_must_match_the_kind() {
        let e = parse(Kind::Power, "service_id,at,gb\n").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("lines[1].header"));
        let e = parse(Kind::Storage, "").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("lines"));
        let e = parse(
            Kind::Traffic,
            "service_id,at,bytes\nsvc,2026-06-01T00:00:00Z\n",
        )
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("lines[2].bytes"));
    }

    #[test]
    fn power_takes_either_measure() {
        let (r, _) = parse(
            Kind::Power,
            "service_id,at,amps,kva\nsvc,2026-06-01T00:00:00Z,,4.5\n",
        )
        .unwrap();
        assert_eq!(
            r[0],
            Reading::Power {
                service_id: "svc".into(),
                at: "2026-06-01T00:00:00Z".parse().unwrap(),
                amps: None,
                kva: Some(Decimal::new(45, 1)),
            }
        );
    }
}
