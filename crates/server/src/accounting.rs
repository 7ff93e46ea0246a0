//! The accounting export (issue 6, item 8): the sales journal of a period
//! (invoices and credit notes) and the bank journal (payments, rejected
//! direct debits, refunds) as a FEC file, booked into the accounts of
//! `[accounting]`. Reads the store, maps rows onto `documents::journal`, and
//! lets `documents::fec` check and write the file.

use std::str::FromStr;

use axum::http::StatusCode;
use ciel_documents::{fec, journal};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rust_decimal::Decimal;

use crate::auth::{Principal, require_staff};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

/// A FEC file and the name A47 A-1 gives it.
pub struct FecFile {
    pub file_name: String,
    pub text: String,
    /// Lines written (the header excluded).
    pub lines: usize,
}

/// The FEC of the days `from..=to` (Europe/Paris), for billing staff.
pub async fn fec(state: &AppState, p: &Principal, from: Date, to: Date) -> ApiResult<FecFile> {
    require_staff(p, crate::billing::billing_staff)?;
    books(state, from, to).await
}

/// The FEC of a period, for the command line (which runs as the operator).
pub async fn books(state: &AppState, from: Date, to: Date) -> ApiResult<FecFile> {
    if to < from {
        return Err(Problem::invalid("to", "the period ends before it starts"));
    }
    let paris = TimeZone::get("Europe/Paris").unwrap_or(TimeZone::UTC);
    let start = paris
        .to_timestamp(from.to_datetime(jiff::civil::Time::midnight()))
        .map_err(|_| Problem::invalid("from", "not a day in Europe/Paris"))?;
    let day_after = to
        .tomorrow()
        .map_err(|_| Problem::invalid("to", "out of range"))?;
    let end = paris
        .to_timestamp(day_after.to_datetime(jiff::civil::Time::midnight()))
        .map_err(|_| Problem::invalid("to", "not a day in Europe/Paris"))?;
    let accounts = state
        .config()
        .accounting
        .accounts()
        .map_err(|e| Problem::internal().detail(e))?;

    let db = state.store().db();
    let sales = ciel_store::accounting::sales(db, start, end).await?;
    let movements =
        ciel_store::accounting::movements(db, &from.to_string(), &to.to_string()).await?;

    let mut documents = Vec::with_capacity(sales.len());
    for s in sales {
        let engine = crate::maintenance::engine(state, s.issued_at)?;
        let lines = s
            .lines
            .iter()
            .map(|l| Ok((dec(&l.vat_percent)?, dec(&l.amount)?, l.offer.clone())))
            .collect::<ApiResult<Vec<_>>>()?;
        let vat = engine
            .vat_per_rate(lines.iter().map(|(rate, amount, _)| (*rate, *amount)))
            .into_iter()
            .map(|v| (v.vat_percent, v.vat))
            .collect();
        documents.push(journal::SaleDocument {
            number: s.number,
            date: s.issued_at.to_zoned(paris.clone()).date(),
            credit_note: s.kind == "credit_note",
            customer: journal::Customer {
                code: s.org_id,
                name: s.org_name,
            },
            lines: lines
                .into_iter()
                .map(|(_, amount, offer)| journal::SaleLine { offer, amount })
                .collect(),
            vat,
            total_incl_vat: dec(&s.total)?,
        });
    }
    let movements = movements
        .into_iter()
        .map(|m| {
            Ok(journal::Movement {
                kind: match m.kind {
                    "payment" => journal::MovementKind::Payment,
                    "rejection" => journal::MovementKind::Rejection,
                    _ => journal::MovementKind::Refund,
                },
                reference: m.reference,
                date: m.day.parse().map_err(|_| Problem::internal())?,
                customer: journal::Customer {
                    code: m.org_id,
                    name: m.org_name,
                },
                amount: dec(&m.amount)?,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;

    let entries = journal::entries(&accounts, &documents, &movements);
    let text = fec::write(&entries).map_err(|e| {
        Problem::new(
            StatusCode::CONFLICT,
            "books_inconsistent",
            "The books of this period do not balance",
        )
        .detail(e.to_string())
    })?;
    Ok(FecFile {
        file_name: fec::file_name(&state.config().seller.siren, to),
        text,
        lines: entries.len(),
    })
}

fn dec(s: &str) -> ApiResult<Decimal> {
    Decimal::from_str(s).map_err(|_| Problem::internal())
}

/// The file as an HTTP download (tab-separated text, UTF-8).
pub fn download(file: FecFile) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", file.file_name),
            ),
        ],
        file.text,
    )
        .into_response()
}
