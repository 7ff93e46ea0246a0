//! Templates of the notices ciel sends, one per kind and language.

use askama::Template;
use ciel_domain::Lang;
use jiff::Timestamp;
use jiff::tz::TimeZone;

/// A notice to render.
#[derive(Debug, Clone)]
pub enum Mail {
    /// R1.8: a new user (Administrator or user) is invited to set a password.
    Invitation {
        name: String,
        org_name: String,
        invited_by: String,
        is_admin: bool,
        link: String,
        expires_at: Timestamp,
    },
    /// A password reset was requested for this address.
    PasswordReset {
        name: String,
        link: String,
        expires_at: Timestamp,
    },
    /// The password was changed (so an unexpected change is noticed).
    PasswordChanged { name: String, at: Timestamp },
    /// R1.3 (CG 2.1): an order was sent to the client's Administrator, to
    /// accept before its deadline.
    OrderSent {
        name: String,
        org_name: String,
        provider: String,
        reference: String,
        /// One line per order line, already formatted.
        summary: String,
        terms_version: String,
        deadline: Timestamp,
        link: String,
    },
    /// R1.3 (CG 2.1): an order lapsed; `staff` tells the provider's side.
    OrderLapsed {
        name: String,
        org_name: String,
        reference: String,
        deadline: Timestamp,
        staff: bool,
    },
    /// R1.3-R1.4: the client answered an order (accepted or declined); the
    /// staff member who sent it is told.
    OrderAnswered {
        name: String,
        org_name: String,
        reference: String,
        /// Who answered (the client Administrator's name).
        by: String,
        accepted: bool,
        reason: String,
        at: Timestamp,
        link: String,
    },
    /// R2.2 (CG 3.1): a price change, notified before it applies.
    PriceChange {
        name: String,
        list_name: String,
        /// `YYYY-MM-DD`.
        effective_from: String,
        /// The SKUs whose price changes.
        changes: String,
        days: u32,
    },
    /// R1.2 (CG 2.4): a new terms version, notified to the clients with
    /// running orders before it applies to them.
    TermsVersion {
        name: String,
        version: String,
        title: String,
        /// `YYYY-MM-DD`: orders dated from it are pinned to it.
        effective_date: String,
        /// When it applies to running orders without objection.
        applies_at: Timestamp,
        /// The end (exclusive) of the objection delay.
        objection_deadline: Timestamp,
        days: u32,
        /// One line per changed parameter.
        changes: String,
        /// The client's orders page.
        link: String,
    },
    /// R13: a step in the life of a service the client must hear of
    /// (provisioning with its contest window R1.7, suspension and reopening
    /// R3.4, termination with its last day and fee R3.1-R3.2), or, with
    /// `staff`, a client's contest routed to the provider (R1.7).
    Service {
        name: String,
        org_name: String,
        service: String,
        reference: String,
        event: ServiceMail,
        /// The day it concerns (`YYYY-MM-DD`): start or last day of service.
        day: String,
        /// The last day (`YYYY-MM-DD`, inclusive) of the delay it opens: the
        /// contest window, the securing delay; empty when none.
        until: String,
        /// The reason or the client's text.
        text: String,
        /// A fee (exact EUR excluding VAT), empty when none.
        fee: String,
        link: String,
    },
    /// R4.6 (CG 14.5): a planned maintenance window notified to an affected
    /// client's Administrator, with start, expected end, impact, reason,
    /// contact and whether it is excluded from availability counting.
    Maintenance {
        name: String,
        org_name: String,
        title: String,
        start: Timestamp,
        end: Timestamp,
        impact: String,
        reason: String,
        contact: String,
        /// The client's affected services, one per line.
        services: String,
        /// Excluded from interruption, restoration and availability counting.
        excluded: bool,
        /// Set for urgent security maintenance: why.
        urgent_reason: String,
        notice_days: u32,
        link: String,
        /// First notice, a change, or the cancellation (with its reason).
        change: MaintenanceChange,
    },
    /// R7.5 (A2 II.C): a credit approved after review of a monthly SLA
    /// statement, deducted from the next invoice.
    SlaCredit {
        name: String,
        org_name: String,
        service: String,
        /// "YYYY-MM".
        month: String,
        /// Availability rate shown with 4 decimals.
        rate: String,
        /// Credit, exact EUR excluding VAT.
        credit: String,
        link: String,
    },
    /// R2.4, R2.7, R2.11: an invoice or a credit note, its Factur-X PDF
    /// attached, sent to the client's billing address.
    Invoice {
        org_name: String,
        number: String,
        credit_note: bool,
        /// `YYYY-MM-DD`.
        issue_date: String,
        /// Exact EUR including VAT.
        total: String,
        /// The SEPA pre-notification (R2.7), empty for a credit note.
        prenotification: String,
        /// What a credit note corrects (number and reason), empty otherwise.
        corrects: String,
        link: String,
    },
    /// R2.9 (CS 3.11, 4.9): backup or PRA usage above the subscription on
    /// more than 5 days of the month; sent at month end with the adjusted
    /// level and fee applying from the next month.
    UsageOverage {
        name: String,
        org_name: String,
        service: String,
        /// "YYYY-MM", the month measured.
        month: String,
        subscribed: String,
        peak: String,
        days_over: String,
        /// The new level (GB), empty when no tier covers the peak.
        new_level: String,
        /// The new monthly fee, exact EUR excluding VAT (empty: a new order).
        new_fee: String,
        /// `YYYY-MM-DD`, the 1st of the next month.
        effective_from: String,
        link: String,
    },
    /// R3.5 (CG 9.2), to staff: a service exchanged more than the fair-use
    /// volume in a calendar month; its bandwidth may be limited.
    FairUse {
        name: String,
        org_name: String,
        service: String,
        month: String,
        /// Bytes exchanged, as a decimal number of TB (10^12 bytes).
        terabytes: String,
        limit_mbit_per_s: String,
        link: String,
    },
    /// R4.4-R4.5 and the desk's alerts: a ticket step the client (closure
    /// with the interruption's duration, billable ticket with its fee) or
    /// the support staff (a deadline about to be missed) must hear of.
    Ticket {
        name: String,
        org_name: String,
        reference: String,
        event: TicketMail,
        /// Closed: the interruption's duration; billable: the cause; alert:
        /// the clock, its share elapsed and its deadline.
        text: String,
        /// A fee (exact EUR excluding VAT), empty when none.
        fee: String,
        link: String,
    },
    /// R2.6, R2.7, R3.3: a notice about an invoice (formal notice, rejected
    /// direct debit, sanction, answer to a contest). `days` is the delay the
    /// notice gives (15 after a formal notice, 8 to regularise a rejection).
    Billing {
        kind: BillingMail,
        name: String,
        org_name: String,
        invoice: String,
        /// EUR including VAT, already formatted.
        amount: String,
        /// `YYYY-MM-DD`: the due date (or the rejection's date).
        day: String,
        days: u32,
        /// Free text: the guarantee asked for, the answer to a contest.
        text: String,
        link: String,
    },
    /// R10.2-R10.4: a client's designated user triggered a PRA failover;
    /// the provider's support staff must start it (RTO runs from now).
    PraRequested {
        name: String,
        org_name: String,
        reference: String,
        requester: String,
        requested_at: Timestamp,
        /// The machines with their criticality, one per line.
        machines: String,
        link: String,
    },
    /// A colocation notice (R11.1-R11.6): `subject` names what it is about
    /// (a site, a service, a request), `day` the instant that matters (the
    /// deadline, the expiry, the crossing), `text` the rules' reasons in
    /// the recipient's language.
    Colocation {
        kind: ColocationMail,
        name: String,
        org_name: String,
        reference: String,
        subject: String,
        day: Timestamp,
        text: String,
        link: String,
    },
    /// R9.5: a backup job failed; one notice per failed job.
    BackupFailed {
        name: String,
        service: String,
        job_id: String,
        started_at: Timestamp,
        ended_at: Timestamp,
        message: String,
        link: String,
    },
    /// R9.6: a regularisation order still unsigned, reminded before its
    /// 30-day delay ends (`overdue` false) or past it (`overdue` true).
    BackupRegularisation {
        name: String,
        org_name: String,
        service: String,
        reference: String,
        reason: String,
        sent_at: Timestamp,
        ends_at: Timestamp,
        overdue: bool,
        link: String,
    },
}

/// Which ticket notice (see [`Mail::Ticket`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketMail {
    Closed,
    Billable,
    Alert,
}

impl TicketMail {
    fn code(self) -> &'static str {
        match self {
            TicketMail::Closed => "closed",
            TicketMail::Billable => "billable",
            TicketMail::Alert => "alert",
        }
    }
}

/// Which billing notice (see [`Mail::Billing`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillingMail {
    /// R2.6: mise en demeure after the due date.
    FormalNotice,
    /// R3.3: a direct debit was rejected; days to regularise.
    DebitRejected,
    /// R2.6: every unpaid invoice is made due at once.
    Accelerated,
    /// R2.6: a guarantee is required.
    GuaranteeRequired,
    /// R2.7: a contest was accepted (a credit note follows) or rejected.
    DisputeAccepted,
    DisputeRejected,
}

impl BillingMail {
    fn code(self) -> &'static str {
        match self {
            BillingMail::FormalNotice => "formal_notice",
            BillingMail::DebitRejected => "debit_rejected",
            BillingMail::Accelerated => "accelerated",
            BillingMail::GuaranteeRequired => "guarantee_required",
            BillingMail::DisputeAccepted => "dispute_accepted",
            BillingMail::DisputeRejected => "dispute_rejected",
        }
    }
}

/// Which colocation notice (see [`Mail::Colocation`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColocationMail {
    /// R11.1: a temporary access request approved or refused.
    AccessApproved,
    AccessRefused,
    /// R11.2: a prevention plan expires soon.
    PlanExpiring,
    /// R11.4: a 7-day deadline ends soon, or has passed.
    DeadlineNear,
    DeadlineBreached,
    /// R11.4: the provider's written answer to a change request.
    ChangeAnswered,
    /// R11.4: an inventory request or a damage notice to the client.
    ClientActionRequested,
    /// R11.5: a power reading crossed the near or subscribed level.
    PowerAlert,
    /// R11.6: no proof of removal; billing resumed; destruction allowed.
    NonCompliance,
    BillingResumed,
    DestructionAllowed,
}

impl ColocationMail {
    fn code(self) -> &'static str {
        match self {
            ColocationMail::AccessApproved => "access_approved",
            ColocationMail::AccessRefused => "access_refused",
            ColocationMail::PlanExpiring => "plan_expiring",
            ColocationMail::DeadlineNear => "deadline_near",
            ColocationMail::DeadlineBreached => "deadline_breached",
            ColocationMail::ChangeAnswered => "change_answered",
            ColocationMail::ClientActionRequested => "client_action",
            ColocationMail::PowerAlert => "power_alert",
            ColocationMail::NonCompliance => "non_compliance",
            ColocationMail::BillingResumed => "billing_resumed",
            ColocationMail::DestructionAllowed => "destruction_allowed",
        }
    }
}

/// Which service notice (see [`Mail::Service`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceMail {
    Provisioned,
    Contested,
    Suspended,
    Reopened,
    Terminated,
}

impl ServiceMail {
    fn code(self) -> &'static str {
        match self {
            ServiceMail::Provisioned => "provisioned",
            ServiceMail::Contested => "contested",
            ServiceMail::Suspended => "suspended",
            ServiceMail::Reopened => "reopened",
            ServiceMail::Terminated => "terminated",
        }
    }
}

impl Mail {
    /// Stable template name, stored with the message.
    pub fn template(&self) -> &'static str {
        match self {
            Mail::Invitation { .. } => "invitation",
            Mail::PasswordReset { .. } => "password_reset",
            Mail::PasswordChanged { .. } => "password_changed",
            Mail::OrderSent { .. } => "order_sent",
            Mail::OrderLapsed { .. } => "order_lapsed",
            Mail::PriceChange { .. } => "price_change",
            Mail::OrderAnswered { .. } => "order_answered",
            Mail::Service { .. } => "service",
            Mail::TermsVersion { .. } => "terms_version",
            Mail::Ticket { .. } => "ticket",
            Mail::Maintenance { .. } => "maintenance",
            Mail::SlaCredit { .. } => "sla_credit",
            Mail::Invoice { .. } => "invoice",
            Mail::UsageOverage { .. } => "usage_overage",
            Mail::FairUse { .. } => "fair_use",
            Mail::PraRequested { .. } => "pra_requested",
            Mail::Colocation { .. } => "colocation",
            Mail::BackupFailed { .. } => "backup_failed",
            Mail::BackupRegularisation { .. } => "backup_regularisation",
            Mail::Billing { .. } => "billing",
        }
    }
}

/// What a maintenance notice tells (R4.6): the window, a change of it
/// (its 7 days then count as `maintenance.changed_window_notice` says), or
/// its cancellation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MaintenanceChange {
    Planned,
    Changed,
    Cancelled { reason: String },
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
}

/// Instants are shown in Europe/Paris, the contract's time zone.
fn paris(t: Timestamp, lang: Lang) -> String {
    let z = t.to_zoned(TimeZone::get("Europe/Paris").unwrap_or(TimeZone::UTC));
    match lang {
        Lang::Fr => format!("{} (heure de Paris)", z.strftime("%d/%m/%Y à %H:%M")),
        Lang::En => format!("{} (Paris time)", z.strftime("%Y-%m-%d %H:%M")),
    }
}

/// One template per notice: it includes the French or English text
/// (`templates/{fr,en}/<name>.txt`), so both languages share one set of fields.
macro_rules! template {
    ($name:ident, $path:literal, { $($field:ident : $ty:ty),* }) => {
        #[derive(Template)]
        #[template(path = $path, escape = "none")]
        struct $name<'a> { fr: bool, $($field: $ty,)* _p: std::marker::PhantomData<&'a ()> }
    };
}

template!(InvitationT, "invitation.txt", { name: &'a str, org_name: &'a str, invited_by: &'a str, is_admin: bool, link: &'a str, expires: String });
template!(ResetT, "password_reset.txt", { name: &'a str, link: &'a str, expires: String });
template!(ChangedT, "password_changed.txt", { name: &'a str, at: String });
template!(OrderSentT, "order_sent.txt", { name: &'a str, org_name: &'a str, provider: &'a str, reference: &'a str, summary: &'a str, terms_version: &'a str, deadline: String, link: &'a str });
template!(OrderLapsedT, "order_lapsed.txt", { name: &'a str, org_name: &'a str, reference: &'a str, deadline: String, staff: bool });
template!(OrderAnsweredT, "order_answered.txt", { name: &'a str, org_name: &'a str, reference: &'a str, by: &'a str, accepted: bool, reason: &'a str, at: String, link: &'a str });
template!(ServiceT, "service.txt", { name: &'a str, org_name: &'a str, service: &'a str, reference: &'a str, event: &'a str, day: String, until: String, text: &'a str, fee: &'a str, link: &'a str });
template!(TermsVersionT, "terms_version.txt", { name: &'a str, version: &'a str, title: &'a str, effective_date: &'a str, applies_at: String, objection_deadline: String, days: u32, changes: &'a str, link: &'a str });
template!(TicketT, "ticket.txt", { name: &'a str, org_name: &'a str, reference: &'a str, event: &'a str, text: &'a str, fee: &'a str, link: &'a str });
template!(MaintenanceT, "maintenance.txt", { name: &'a str, org_name: &'a str, title: &'a str, start: String, end: String, impact: &'a str, reason: &'a str, contact: &'a str, services: &'a str, excluded: bool, urgent_reason: &'a str, notice_days: u32, link: &'a str, changed: bool, cancelled: bool, cancel_reason: &'a str });
template!(SlaCreditT, "sla_credit.txt", { name: &'a str, org_name: &'a str, service: &'a str, month: &'a str, rate: &'a str, credit: &'a str, link: &'a str });
template!(InvoiceT, "invoice.txt", { org_name: &'a str, number: &'a str, credit_note: bool, issue_date: String, total: &'a str, prenotification: &'a str, corrects: &'a str, link: &'a str });
template!(UsageOverageT, "usage_overage.txt", { name: &'a str, org_name: &'a str, service: &'a str, month: &'a str, subscribed: &'a str, peak: &'a str, days_over: &'a str, new_level: &'a str, new_fee: &'a str, effective_from: String, link: &'a str });
template!(FairUseT, "fair_use.txt", { name: &'a str, org_name: &'a str, service: &'a str, month: &'a str, terabytes: &'a str, limit_mbit_per_s: &'a str, link: &'a str });
template!(BackupFailedT, "backup_failed.txt", { name: &'a str, service: &'a str, job_id: &'a str, started_at: String, ended_at: String, message: &'a str, link: &'a str });
template!(BackupRegularisationT, "backup_regularisation.txt", { name: &'a str, org_name: &'a str, service: &'a str, reference: &'a str, reason: &'a str, sent_at: String, ends_at: String, overdue: bool, link: &'a str });
template!(PraRequestedT, "pra_requested.txt", { name: &'a str, org_name: &'a str, reference: &'a str, requester: &'a str, requested_at: String, machines: &'a str, link: &'a str });
template!(ColocationT, "colocation.txt", { event: &'a str, name: &'a str, org_name: &'a str, reference: &'a str, subject: &'a str, day: String, text: &'a str, link: &'a str });
template!(BillingT, "billing.txt", { event: &'a str, name: &'a str, org_name: &'a str, invoice: &'a str, amount: &'a str, day: String, days: u32, text: &'a str, link: &'a str });
template!(PriceChangeT, "price_change.txt", { name: &'a str, list_name: &'a str, effective_from: &'a str, changes: &'a str, days: u32 });

/// The date of a civil `YYYY-MM-DD` text, as each language writes it.
fn civil(date: &str, lang: Lang) -> String {
    match (lang, date.parse::<jiff::civil::Date>()) {
        (Lang::Fr, Ok(d)) => d.strftime("%d/%m/%Y").to_string(),
        _ => date.to_owned(),
    }
}

/// Renders a notice in a language. The first line of each template is the
/// subject; the rest, after a blank line, is the body.
pub fn render(mail: &Mail, lang: Lang) -> Rendered {
    let p = std::marker::PhantomData;
    let fr = lang == Lang::Fr;
    let out = match mail {
        Mail::Invitation {
            name,
            org_name,
            invited_by,
            is_admin,
            link,
            expires_at,
        } => InvitationT {
            fr,
            name,
            org_name,
            invited_by,
            is_admin: *is_admin,
            link,
            expires: paris(*expires_at, lang),
            _p: p,
        }
        .render(),
        Mail::PasswordReset {
            name,
            link,
            expires_at,
        } => ResetT {
            fr,
            name,
            link,
            expires: paris(*expires_at, lang),
            _p: p,
        }
        .render(),
        Mail::PasswordChanged { name, at } => ChangedT {
            fr,
            name,
            at: paris(*at, lang),
            _p: p,
        }
        .render(),
        Mail::OrderSent {
            name,
            org_name,
            provider,
            reference,
            summary,
            terms_version,
            deadline,
            link,
        } => OrderSentT {
            fr,
            name,
            org_name,
            provider,
            reference,
            summary,
            terms_version,
            deadline: paris(*deadline, lang),
            link,
            _p: p,
        }
        .render(),
        Mail::OrderLapsed {
            name,
            org_name,
            reference,
            deadline,
            staff,
        } => OrderLapsedT {
            fr,
            name,
            org_name,
            reference,
            deadline: paris(*deadline, lang),
            staff: *staff,
            _p: p,
        }
        .render(),
        Mail::OrderAnswered {
            name,
            org_name,
            reference,
            by,
            accepted,
            reason,
            at,
            link,
        } => OrderAnsweredT {
            fr,
            name,
            org_name,
            reference,
            by,
            accepted: *accepted,
            reason,
            at: paris(*at, lang),
            link,
            _p: p,
        }
        .render(),
        Mail::PriceChange {
            name,
            list_name,
            effective_from,
            changes,
            days,
        } => PriceChangeT {
            fr,
            name,
            list_name,
            effective_from: &civil(effective_from, lang),
            changes,
            days: *days,
            _p: p,
        }
        .render(),
        Mail::Ticket {
            name,
            org_name,
            reference,
            event,
            text,
            fee,
            link,
        } => TicketT {
            fr,
            name,
            org_name,
            reference,
            event: event.code(),
            text,
            fee,
            link,
            _p: p,
        }
        .render(),
        Mail::Service {
            name,
            org_name,
            service,
            reference,
            event,
            day,
            until,
            text,
            fee,
            link,
        } => ServiceT {
            fr,
            name,
            org_name,
            service,
            reference,
            event: event.code(),
            day: civil(day, lang),
            until: civil(until, lang),
            text,
            fee,
            link,
            _p: p,
        }
        .render(),
        Mail::TermsVersion {
            name,
            version,
            title,
            effective_date,
            applies_at,
            objection_deadline,
            days,
            changes,
            link,
        } => TermsVersionT {
            fr,
            name,
            version,
            title,
            effective_date: &civil(effective_date, lang),
            applies_at: paris(*applies_at, lang),
            objection_deadline: paris(*objection_deadline, lang),
            days: *days,
            changes,
            link,
            _p: p,
        }
        .render(),
        Mail::Maintenance {
            name,
            org_name,
            title,
            start,
            end,
            impact,
            reason,
            contact,
            services,
            excluded,
            urgent_reason,
            notice_days,
            link,
            change,
        } => MaintenanceT {
            fr,
            name,
            org_name,
            title,
            start: paris(*start, lang),
            end: paris(*end, lang),
            impact,
            reason,
            contact,
            services,
            excluded: *excluded,
            urgent_reason,
            notice_days: *notice_days,
            link,
            changed: matches!(change, MaintenanceChange::Changed),
            cancelled: matches!(change, MaintenanceChange::Cancelled { .. }),
            cancel_reason: match change {
                MaintenanceChange::Cancelled { reason } => reason,
                _ => "",
            },
            _p: p,
        }
        .render(),
        Mail::SlaCredit {
            name,
            org_name,
            service,
            month,
            rate,
            credit,
            link,
        } => SlaCreditT {
            fr,
            name,
            org_name,
            service,
            month,
            rate,
            credit,
            link,
            _p: p,
        }
        .render(),
        Mail::Invoice {
            org_name,
            number,
            credit_note,
            issue_date,
            total,
            prenotification,
            corrects,
            link,
        } => InvoiceT {
            fr,
            org_name,
            number,
            credit_note: *credit_note,
            issue_date: civil(issue_date, lang),
            total,
            prenotification,
            corrects,
            link,
            _p: p,
        }
        .render(),
        Mail::UsageOverage {
            name,
            org_name,
            service,
            month,
            subscribed,
            peak,
            days_over,
            new_level,
            new_fee,
            effective_from,
            link,
        } => UsageOverageT {
            fr,
            name,
            org_name,
            service,
            month,
            subscribed,
            peak,
            days_over,
            new_level,
            new_fee,
            effective_from: civil(effective_from, lang),
            link,
            _p: p,
        }
        .render(),
        Mail::FairUse {
            name,
            org_name,
            service,
            month,
            terabytes,
            limit_mbit_per_s,
            link,
        } => FairUseT {
            fr,
            name,
            org_name,
            service,
            month,
            terabytes,
            limit_mbit_per_s,
            link,
            _p: p,
        }
        .render(),
        Mail::PraRequested {
            name,
            org_name,
            reference,
            requester,
            requested_at,
            machines,
            link,
        } => PraRequestedT {
            fr,
            name,
            org_name,
            reference,
            requester,
            requested_at: paris(*requested_at, lang),
            machines,
            link,
            _p: p,
        }
        .render(),
        Mail::Colocation {
            kind,
            name,
            org_name,
            reference,
            subject,
            day,
            text,
            link,
        } => ColocationT {
            fr,
            event: kind.code(),
            name,
            org_name,
            reference,
            subject,
            day: paris(*day, lang),
            text,
            link,
            _p: p,
        }
        .render(),
        Mail::BackupFailed {
            name,
            service,
            job_id,
            started_at,
            ended_at,
            message,
            link,
        } => BackupFailedT {
            fr,
            name,
            service,
            job_id,
            started_at: paris(*started_at, lang),
            ended_at: paris(*ended_at, lang),
            message,
            link,
            _p: p,
        }
        .render(),
        Mail::BackupRegularisation {
            name,
            org_name,
            service,
            reference,
            reason,
            sent_at,
            ends_at,
            overdue,
            link,
        } => BackupRegularisationT {
            fr,
            name,
            org_name,
            service,
            reference,
            reason,
            sent_at: paris(*sent_at, lang),
            ends_at: paris(*ends_at, lang),
            overdue: *overdue,
            link,
            _p: p,
        }
        .render(),
        Mail::Billing {
            kind,
            name,
            org_name,
            invoice,
            amount,
            day,
            days,
            text,
            link,
        } => BillingT {
            fr,
            event: kind.code(),
            name,
            org_name,
            invoice,
            amount,
            day: civil(day, lang),
            days: *days,
            text,
            link,
            _p: p,
        }
        .render(),
    };
    // Templates are compiled and their inputs are plain strings: rendering
    // cannot fail short of a bug, which a test would catch.
    let out = out.unwrap_or_else(|e| format!("ciel\n\n{e}"));
    let (subject, text) = out.split_once("\n\n").unwrap_or((out.as_str(), ""));
    Rendered {
        subject: subject.trim().to_owned(),
        text: format!("{}\n", text.trim_end()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invitation() -> Mail {
        Mail::Invitation {
            name: "Jeanne Martin".into(),
            org_name: "Acme Industrie".into(),
            invited_by: "Support ciel".into(),
            is_admin: true,
            link: "https://ciel.example/invitation/abc".into(),
            // 2026-03-29T01:30Z is 03:30 in Paris: the first minutes of summer time.
            expires_at: "2026-03-29T01:30:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn invitation_in_french_names_the_link_expiry_in_paris_time() {
        let r = render(&invitation(), Lang::Fr);
        assert_eq!(r.subject, "Invitation à l'Espace Client de Acme Industrie");
        assert!(r.text.contains("https://ciel.example/invitation/abc"));
        assert!(
            r.text.contains("29/03/2026 à 03:30 (heure de Paris)"),
            "{}",
            r.text
        );
        assert!(r.text.contains("Administrateur"));
    }

    #[test]
    fn invitation_in_english() {
        let r = render(&invitation(), Lang::En);
        assert_eq!(r.subject, "Invitation to the Acme Industrie client space");
        assert!(
            r.text.contains("2026-03-29 03:30 (Paris time)"),
            "{}",
            r.text
        );
    }

    /// Every billing notice names its invoice, amount and delay in both
    /// languages (R2.6, R2.7, R3.3).
    #[test]
    fn billing_notices_in_both_languages() {
        let kinds = [
            (
                BillingMail::FormalNotice,
                "Mise en demeure",
                "Formal notice",
                "15 jours",
                "15 days",
            ),
            (
                BillingMail::DebitRejected,
                "Prélèvement rejeté",
                "Direct debit rejected",
                "8 jours",
                "8 days",
            ),
            (
                BillingMail::Accelerated,
                "Exigibilité",
                "now due",
                "1 200,00",
                "1 200,00",
            ),
            (
                BillingMail::GuaranteeRequired,
                "Garantie",
                "Guarantee",
                "caution",
                "caution",
            ),
            (
                BillingMail::DisputeAccepted,
                "contestation",
                "contest",
                "avoir",
                "credit note",
            ),
            (
                BillingMail::DisputeRejected,
                "contestation",
                "contest",
                "reste due",
                "remains due",
            ),
        ];
        for (kind, fr_subject, en_subject, fr_text, en_text) in kinds {
            let m = Mail::Billing {
                kind,
                name: "J".into(),
                org_name: "Acme".into(),
                invoice: "F2026-000001".into(),
                amount: "1 200,00".into(),
                day: "2026-06-30".into(),
                days: if kind == BillingMail::DebitRejected {
                    8
                } else {
                    15
                },
                text: "caution bancaire".into(),
                link: "https://x/f".into(),
            };
            let fr = render(&m, Lang::Fr);
            let en = render(&m, Lang::En);
            assert!(fr.subject.contains(fr_subject), "{kind:?} {}", fr.subject);
            assert!(en.subject.contains(en_subject), "{kind:?} {}", en.subject);
            assert!(fr.text.contains(fr_text), "{kind:?} {}", fr.text);
            assert!(en.text.contains(en_text), "{kind:?} {}", en.text);
            assert!(fr.subject.contains("F2026-000001") || kind == BillingMail::Accelerated);
            if kind == BillingMail::FormalNotice {
                assert!(
                    fr.text.contains("30/06/2026") && fr.text.contains("40 EUR"),
                    "{}",
                    fr.text
                );
            }
        }
    }

    /// Every colocation notice names its subject and its rule in both
    /// languages, with the instant in Paris time (R11.1-R11.6).
    #[test]
    fn colocation_notices_in_both_languages() {
        use ColocationMail::*;
        let kinds = [
            (AccessApproved, "R11.1"),
            (AccessRefused, "R11.1"),
            (PlanExpiring, "R11.2"),
            (DeadlineNear, "R11.4"),
            (DeadlineBreached, "R11.4"),
            (ChangeAnswered, "R11.4"),
            (ClientActionRequested, "R11.4"),
            (PowerAlert, "R11.5"),
            (NonCompliance, "R11.6"),
            (BillingResumed, "R11.6"),
            (DestructionAllowed, "R11.6"),
        ];
        // 2026-06-14T22:00Z is midnight of 15 June in Paris (summer time).
        let day: Timestamp = "2026-06-14T22:00:00Z".parse().unwrap();
        for (kind, rule) in kinds {
            let m = Mail::Colocation {
                kind,
                name: "J".into(),
                org_name: "Acme".into(),
                reference: "cdl_1".into(),
                subject: "PA3 baie 14".into(),
                day,
                text: "motif".into(),
                link: "https://x/c".into(),
            };
            let fr = render(&m, Lang::Fr);
            let en = render(&m, Lang::En);
            for r in [&fr, &en] {
                assert!(r.subject.contains("PA3 baie 14"), "{kind:?} {}", r.subject);
                assert!(r.text.contains(rule), "{kind:?} {}", r.text);
                assert!(r.text.contains("motif") && r.text.contains("https://x/c"));
            }
            assert_ne!(fr.subject, en.subject, "{kind:?}");
            if matches!(kind, PlanExpiring | NonCompliance | DeadlineNear) {
                assert!(fr.text.contains("15/06/2026 à 00:00"), "{}", fr.text);
                assert!(en.text.contains("2026-06-15 00:00"), "{}", en.text);
            }
        }
    }

    #[test]
    fn every_template_renders_in_every_language() {
        let t: Timestamp = "2026-10-25T00:30:00Z".parse().unwrap();
        let mails = [
            Mail::Invoice {
                org_name: "Acme".into(),
                number: "F2026-000001".into(),
                credit_note: false,
                issue_date: "2026-06-01".into(),
                total: "120.00".into(),
                prenotification: "Prélèvement SEPA".into(),
                corrects: String::new(),
                link: "https://x/i".into(),
            },
            invitation(),
            Mail::PasswordReset {
                name: "J".into(),
                link: "https://x/reset/t".into(),
                expires_at: t,
            },
            Mail::PasswordChanged {
                name: "J".into(),
                at: t,
            },
            Mail::OrderSent {
                name: "J".into(),
                org_name: "Acme".into(),
                provider: "P".into(),
                reference: "ord_1".into(),
                summary: "1 x backup".into(),
                terms_version: "v1".into(),
                deadline: t,
                link: "https://x/o".into(),
            },
            Mail::OrderLapsed {
                name: "J".into(),
                org_name: "Acme".into(),
                reference: "ord_1".into(),
                deadline: t,
                staff: true,
            },
            Mail::OrderAnswered {
                name: "J".into(),
                org_name: "Acme".into(),
                reference: "ord_1".into(),
                by: "K".into(),
                accepted: false,
                reason: "budget".into(),
                at: t,
                link: "https://x/o".into(),
            },
            Mail::PriceChange {
                name: "J".into(),
                list_name: "Tarif".into(),
                effective_from: "2026-12-01".into(),
                changes: "backup.storage_gb".into(),
                days: 30,
            },
            Mail::TermsVersion {
                name: "J".into(),
                version: "v2".into(),
                title: "CGV v2".into(),
                effective_date: "2026-12-01".into(),
                applies_at: t,
                objection_deadline: t,
                days: 30,
                changes: "- contract.order_acceptance_days: 30 -> 20".into(),
                link: "https://x/o".into(),
            },
            Mail::SlaCredit {
                name: "J".into(),
                org_name: "Acme".into(),
                service: "Cloud VM (svc_1)".into(),
                month: "2026-06".into(),
                rate: "99.8611".into(),
                credit: "50.00".into(),
                link: "https://x/s".into(),
            },
            Mail::UsageOverage {
                name: "J".into(),
                org_name: "Acme".into(),
                service: "Sauvegarde (svc_1)".into(),
                month: "2026-06".into(),
                subscribed: "500".into(),
                peak: "742.5".into(),
                days_over: "6".into(),
                new_level: "750".into(),
                new_fee: "75.00".into(),
                effective_from: "2026-07-01".into(),
                link: "https://x/u".into(),
            },
            Mail::FairUse {
                name: "S".into(),
                org_name: "Acme".into(),
                service: "Colocation (svc_1)".into(),
                month: "2026-06".into(),
                terabytes: "5.2".into(),
                limit_mbit_per_s: "10".into(),
                link: "https://x/u".into(),
            },
        ];
        let pra = Mail::PraRequested {
            name: "H".into(),
            org_name: "Acme".into(),
            reference: "pra_1".into(),
            requester: "j@acme.example".into(),
            requested_at: t,
            machines: "- db1 (C1)".into(),
            link: "https://x/p".into(),
        };
        let maintenance = |excluded: bool, urgent: &str| Mail::Maintenance {
            name: "J".into(),
            org_name: "Acme".into(),
            title: "vSphere".into(),
            start: t,
            end: t,
            impact: "coupure".into(),
            reason: "mise à jour".into(),
            contact: "noc".into(),
            services: "- Cloud VM (svc_1)".into(),
            excluded,
            urgent_reason: urgent.into(),
            notice_days: 7,
            link: "https://x/m".into(),
            change: MaintenanceChange::Planned,
        };
        let mails = mails.into_iter().chain([
            maintenance(true, ""),
            maintenance(false, ""),
            maintenance(true, "CVE-1"),
            pra,
            Mail::BackupFailed {
                name: "J".into(),
                service: "Sauvegarde (svc_1)".into(),
                job_id: "job-1".into(),
                started_at: t,
                ended_at: t,
                message: "disk full".into(),
                link: "https://x/b".into(),
            },
        ]);
        let regularisation = |overdue| Mail::BackupRegularisation {
            name: "J".into(),
            org_name: "Acme".into(),
            service: "Sauvegarde (svc_1)".into(),
            reference: "reg_1".into(),
            reason: "500 GB".into(),
            sent_at: t,
            ends_at: t,
            overdue,
            link: "https://x/b".into(),
        };
        let mails = mails.chain([regularisation(false), regularisation(true)]);
        let service = |event| Mail::Service {
            name: "J".into(),
            org_name: "Acme".into(),
            service: "Cloud VM".into(),
            reference: "svc_1".into(),
            event,
            day: "2026-11-02".into(),
            until: "2026-11-07".into(),
            text: "motif".into(),
            fee: "1200.00".into(),
            link: "https://x/s".into(),
        };
        let mails: Vec<Mail> = mails
            .into_iter()
            .chain(
                [
                    ServiceMail::Provisioned,
                    ServiceMail::Contested,
                    ServiceMail::Suspended,
                    ServiceMail::Reopened,
                    ServiceMail::Terminated,
                ]
                .map(service),
            )
            .chain(
                [TicketMail::Closed, TicketMail::Billable, TicketMail::Alert].map(|event| {
                    Mail::Ticket {
                        name: "J".into(),
                        org_name: "Acme".into(),
                        reference: "T-2026-000001".into(),
                        event,
                        text: "2 h".into(),
                        fee: "150.00".into(),
                        link: "https://x/t".into(),
                    }
                }),
            )
            .collect();
        for m in &mails {
            assert_ne!(
                render(m, Lang::Fr),
                render(m, Lang::En),
                "{m:?}: one text per language"
            );
            for lang in Lang::ALL {
                let r = render(m, lang);
                assert!(
                    !r.subject.is_empty() && !r.subject.contains('\n'),
                    "{m:?} {lang:?}"
                );
                assert!(r.text.len() > 40, "{m:?} {lang:?}");
                assert!(!r.text.contains("{{"), "unrendered template {m:?} {lang:?}");
                assert!(
                    !r.subject.starts_with("ciel"),
                    "render error {m:?} {lang:?}: {}",
                    r.text
                );
            }
        }
    }
}

#[cfg(test)]
mod maintenance_tests {
    use super::*;

    #[test]
    fn a_late_notice_says_it_is_not_excluded_and_urgent_gives_its_reason() {
        let t: Timestamp = "2026-05-10T20:00:00Z".parse().unwrap();
        let m = |excluded: bool, urgent: &str| Mail::Maintenance {
            name: "J".into(),
            org_name: "Acme".into(),
            title: "vSphere".into(),
            start: t,
            end: t,
            impact: "coupure".into(),
            reason: "mise à jour".into(),
            contact: "noc".into(),
            services: "- Cloud VM (svc_1)".into(),
            excluded,
            urgent_reason: urgent.into(),
            notice_days: 7,
            link: "https://x/m".into(),
            change: MaintenanceChange::Planned,
        };
        let late = render(&m(false, ""), Lang::Fr).text;
        assert!(late.contains("moins de 7 jours") && late.contains("ne sont pas exclus"));
        assert!(late.contains("10/05/2026 à 22:00"), "{late}");
        let urgent = render(&m(true, "CVE-1"), Lang::En).text;
        assert!(
            urgent.contains("urgent security maintenance (CVE-1)"),
            "{urgent}"
        );
        let in_time = render(&m(true, ""), Lang::En).text;
        assert!(in_time.contains("at least 7 days ahead"), "{in_time}");
    }

    #[test]
    fn a_change_and_a_cancellation_say_so_in_both_languages() {
        let t: Timestamp = "2026-05-13T18:00:00Z".parse().unwrap();
        let m = |change: MaintenanceChange| Mail::Maintenance {
            name: "J".into(),
            org_name: "Acme".into(),
            title: "Stockage".into(),
            start: t,
            end: t,
            impact: "coupure".into(),
            reason: "baies".into(),
            contact: "noc".into(),
            services: "- svc_1".into(),
            excluded: false,
            urgent_reason: String::new(),
            notice_days: 7,
            link: "https://x/m".into(),
            change,
        };
        let fr = render(&m(MaintenanceChange::Changed), Lang::Fr);
        assert_eq!(fr.subject, "Travaux programmés modifiés : Stockage (Acme)");
        assert!(fr.text.contains("13/05/2026 à 20:00") && fr.text.contains("ne sont pas exclus"));
        let en = render(
            &m(MaintenanceChange::Cancelled {
                reason: "parts late".into(),
            }),
            Lang::En,
        );
        assert_eq!(
            en.subject,
            "Scheduled maintenance cancelled: Stockage (Acme)"
        );
        assert!(en.text.contains("is cancelled (parts late)"), "{}", en.text);
        assert!(
            !en.text.contains("excluded from"),
            "no SLA line once cancelled: {}",
            en.text
        );
    }
}
