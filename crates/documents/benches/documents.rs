//! Cost of one monthly invoice's documents, the unit of the billing run's
//! target (issue 6: 10 000 clients with their Factur-X PDFs in < 60 s on 2
//! cores, so at most ~12 ms of CPU per invoice for everything): the CII XML,
//! the PDF/A-3b with the XML embedded and the Factur-X XMP, and the FEC
//! lines of the same invoice. Figures in BENCHMARKS.md.

use std::hint::black_box;

use ciel_documents::journal::{self, Accounts, Customer, SaleDocument, SaleLine};
use ciel_documents::pdf::{Lang, invoice_pdf};
use ciel_documents::{fec, to_cii_xml};
use criterion::{Criterion, criterion_group, criterion_main};

#[path = "../tests/common/mod.rs"]
mod common;

fn documents(c: &mut Criterion) {
    let invoice = common::standard_invoice();
    c.bench_function("cii_xml", |b| {
        b.iter(|| to_cii_xml(black_box(&invoice)).unwrap())
    });
    c.bench_function("invoice_pdf_fr", |b| {
        b.iter(|| invoice_pdf(black_box(&invoice), Lang::Fr).unwrap())
    });
    let sales: Vec<SaleDocument> = (0..1000)
        .map(|i| SaleDocument {
            number: format!("F2026-{i:06}"),
            date: jiff::civil::date(2026, 6, 1),
            credit_note: false,
            customer: Customer {
                code: format!("{i:05}"),
                name: format!("Client {i}"),
            },
            lines: vec![
                SaleLine {
                    offer: Some("cloud_vm".into()),
                    amount: "1000.00".parse().unwrap(),
                };
                5
            ],
            vat: vec![("20".parse().unwrap(), "1000.00".parse().unwrap())],
            total_incl_vat: "6000.00".parse().unwrap(),
        })
        .collect();
    let accounts = Accounts::default();
    c.bench_function("fec_1000_invoices", |b| {
        b.iter(|| fec::write(&journal::entries(&accounts, black_box(&sales), &[])).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = documents
}
criterion_main!(benches);
