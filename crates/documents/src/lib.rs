//! Pure generators of ciel's legal documents.
//!
//! The billing run (issue 6) decides *what* is invoiced and collected; this crate
//! only turns those decisions into the exact documents that third parties
//! accept: the CII XML of a Factur-X invoice in profile EN 16931 with the French
//! rules (BR-FR), and the SEPA direct-debit initiation file pain.008.001.08.
//!
//! Everything here is a pure function of its input: no I/O, no clock (dates and
//! instants are passed in), money as [`rust_decimal::Decimal`] rounded half away
//! from zero (R2.12), never floats. Inputs are checked before anything is
//! written, so a document that comes out is one the validators accept; the test
//! suite runs the independent validators of the `factur-x` and `sepaxml` PyPI
//! packages on generated documents to keep that promise honest.

pub mod chart;
pub mod facturx;
pub mod fec;
pub mod ical;
pub mod journal;
pub mod money;
pub mod order_pdf;
pub mod pdf;
pub mod sepa;
mod xml;

pub use facturx::{
    ElectronicAddress, Invoice, InvoiceError, InvoiceLine, InvoiceNumber, InvoiceType, Party,
    PaymentMeans, PostalAddress, Totals, VatBreakdown, VatCategory, VatExemption, to_cii_xml,
    vat_breakdown,
};
pub use sepa::{
    DirectDebitBatch, PaymentGroup, Scheme, SepaError, SepaTransaction, SequenceType, sepa_text,
    to_pain008_xml,
};
