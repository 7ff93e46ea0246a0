//! Delivery: SMTP (production and tests, through a real server) or `.eml`
//! files in a folder (development).

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain SMTP (a local relay or a test sink on loopback).
    None,
    /// STARTTLS, required.
    #[default]
    Starttls,
    /// Implicit TLS (SMTPS, usually port 465).
    Tls,
}

/// SMTP server settings.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    pub timeout: Duration,
}

/// Which transport to use.
#[derive(Debug, Clone)]
pub enum TransportSettings {
    Smtp(SmtpSettings),
    /// Writes each message as an `.eml` file in this folder.
    File(PathBuf),
}

enum Inner {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
}

/// Sends rendered messages.
pub struct Mailer {
    inner: Inner,
    from: Mailbox,
}

/// A failed delivery. Permanent failures (a refused address, a malformed
/// message) are not retried; the others are, with backoff.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    pub permanent: bool,
    pub message: String,
}

impl SendError {
    fn permanent(message: impl ToString) -> Self {
        SendError {
            permanent: true,
            message: message.to_string(),
        }
    }
}

/// One message to send.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    /// Stable Message-ID (`<id@domain>`), fixed when the message was stored.
    pub message_id: &'a str,
    /// The `Date` header: the injected clock's now, not the system's.
    pub date: jiff::Timestamp,
}

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

impl Mailer {
    /// Builds a mailer; fails on an invalid sender address or SMTP host.
    pub fn new(settings: &TransportSettings, from: &str) -> Result<Mailer, String> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| format!("mail.from {from:?} is not a valid address: {e}"))?;
        let inner = match settings {
            TransportSettings::File(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("mail.file_dir {}: {e}", dir.display()))?;
                Inner::File(AsyncFileTransport::new(dir))
            }
            TransportSettings::Smtp(s) => {
                let builder = match s.tls {
                    TlsMode::None => {
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host)
                    }
                    TlsMode::Starttls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host)
                            .map_err(|e| format!("mail.smtp.host {}: {e}", s.host))?
                    }
                    TlsMode::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host)
                        .map_err(|e| format!("mail.smtp.host {}: {e}", s.host))?,
                };
                let mut builder = builder.port(s.port).timeout(Some(s.timeout));
                if let (Some(u), Some(p)) = (&s.username, &s.password) {
                    builder = builder
                        .credentials(Credentials::new(u.clone(), p.expose_secret().to_owned()));
                }
                Inner::Smtp(builder.build())
            }
        };
        Ok(Mailer { inner, from })
    }

    /// Sends one message.
    pub async fn send(&self, out: Outgoing<'_>) -> Result<(), SendError> {
        self.send_with(out, &[]).await
    }

    /// Sends one message with attached files (multipart/mixed when any).
    pub async fn send_with(
        &self,
        out: Outgoing<'_>,
        files: &[Attachment],
    ) -> Result<(), SendError> {
        let to: Mailbox = out.to.parse().map_err(SendError::permanent)?;
        // Quoted-printable: readable, 7-bit safe for any relay, and links
        // stay intact for the reader.
        let body = Body::new_with_encoding(
            out.text.to_owned(),
            ContentTransferEncoding::QuotedPrintable,
        )
        .map_err(|_| SendError::permanent("body cannot be encoded"))?;
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(out.subject)
            .message_id(Some(out.message_id.to_owned()))
            .date(std::time::SystemTime::from(out.date));
        let message = if files.is_empty() {
            builder
                .header(ContentType::TEXT_PLAIN)
                .body(body)
                .map_err(SendError::permanent)?
        } else {
            let text = lettre::message::SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(body);
            let mut parts = lettre::message::MultiPart::mixed().singlepart(text);
            for f in files {
                let ct = ContentType::parse(&f.content_type).map_err(SendError::permanent)?;
                parts = parts.singlepart(
                    lettre::message::Attachment::new(f.filename.clone()).body(f.data.clone(), ct),
                );
            }
            builder.multipart(parts).map_err(SendError::permanent)?
        };
        match &self.inner {
            Inner::Smtp(t) => t.send(message).await.map(|_| ()).map_err(|e| SendError {
                permanent: e.is_permanent(),
                message: e.to_string(),
            }),
            Inner::File(t) => t.send(message).await.map(|_| ()).map_err(|e| SendError {
                permanent: false,
                message: e.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn file_transport_writes_an_eml() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = Mailer::new(
            &TransportSettings::File(dir.path().to_owned()),
            "ciel <noreply@ciel.example>",
        )
        .unwrap();
        mailer
            .send(Outgoing {
                to: "jeanne@acme.fr",
                subject: "Test é",
                text: "Bonjour\n",
                message_id: "<msg_1@ciel.example>",
                date: "2026-03-29T01:30:00Z".parse().unwrap(),
            })
            .await
            .unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(files.len(), 1);
        let eml = std::fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
        assert!(eml.contains("Message-ID: <msg_1@ciel.example>"), "{eml}");
        assert!(eml.contains("To: jeanne@acme.fr"), "{eml}");
        assert!(
            eml.contains("Date: Sun, 29 Mar 2026 01:30:00 +0000"),
            "{eml}"
        );
    }

    #[tokio::test]
    async fn invalid_recipient_is_a_permanent_error() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = Mailer::new(
            &TransportSettings::File(dir.path().to_owned()),
            "noreply@ciel.example",
        )
        .unwrap();
        let err = mailer
            .send(Outgoing {
                to: "not an address",
                subject: "s",
                text: "t",
                message_id: "<a@b>",
                date: jiff::Timestamp::UNIX_EPOCH,
            })
            .await
            .unwrap_err();
        assert!(err.permanent);
    }

    #[test]
    fn bad_sender_is_refused_with_the_key() {
        let err = Mailer::new(&TransportSettings::File("/tmp".into()), "nope")
            .err()
            .unwrap();
        assert!(err.contains("mail.from"));
    }
}
