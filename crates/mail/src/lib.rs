//! E-mails: what ciel says (templates, in French by default and in English)
//! and how it is delivered (SMTP, or `.eml` files for development).
//!
//! Rendering is pure: the outbox stores the rendered text, so what was sent is
//! kept exactly as evidence (R13), whatever the templates become later.

mod render;
mod transport;

pub use render::{
    BillingMail, ColocationMail, Mail, MaintenanceChange, Rendered, ServiceMail, TicketMail, render,
};
pub use transport::{
    Attachment, Mailer, Outgoing, SendError, SmtpSettings, TlsMode, TransportSettings,
};
