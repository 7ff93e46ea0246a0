//! Story tests: each story drives a real ciel server through HTTP, as a
//! browser or an API client would, and runs on both backends. PostgreSQL
//! stories run when `CIEL_TEST_DATABASE_URL` is set and are reported as
//! ignored otherwise.

mod accounts;
mod availability_pages;
mod back_office_forms;
mod backup_ops;
mod billing;
mod clients;
mod colocation_ops;
mod contract;
mod desk;
mod hour_books;
mod isolation;
mod maintenance;
mod orders;
mod payments;
mod platform;
mod pra;
mod services;
mod smtp;
mod statements;
mod support;
mod terms_versions;
mod tickets;
mod usage;

use libtest_mimic::{Arguments, Trial};
use std::future::Future;
use std::pin::Pin;
use support::Backend;

type Story = fn(Backend) -> Pin<Box<dyn Future<Output = ()> + Send>>;

macro_rules! stories {
    ($($module:ident :: $name:ident),* $(,)?) => {
        vec![$((concat!(stringify!($module), "::", stringify!($name)), (|b| Box::pin($module::$name(b))) as Story)),*]
    };
}

fn main() {
    let args = Arguments::from_args();
    let all: Vec<(&str, Story)> = stories![
        accounts::onboarding_invitation_and_first_login,
        accounts::password_reset_rotates_sessions_and_links_expire,
        accounts::login_is_throttled_then_recovers,
        accounts::generic_accounts_are_warned,
        accounts::profiles_and_the_last_administrator,
        accounts::api_tokens_are_scoped_shown_once_and_revocable,
        accounts::staff_can_back_date_and_the_audit_keeps_both_times,
        availability_pages::colocation_episodes_merge_into_the_yearly_figure,
        availability_pages::the_sla_page_draws_the_month_and_the_year,
        backup_ops::backups_are_planned_followed_restored_and_ended,
        backup_ops::plan_form_and_regularisation_reminders,
        billing::a_month_is_billed_once_with_its_pdf,
        billing::invoice_numbers_have_no_gap_under_concurrent_issuers,
        back_office_forms::staff_publish_a_tariff_and_draft_an_order_from_the_back_office,
        clients::billing_profiles_are_validated_and_scoped,
        colocation_ops::access_requests_badges_plans_and_the_desk_check,
        colocation_ops::remote_hands_deadlines_and_power_alerts,
        colocation_ops::decommissioning_goes_from_notice_to_resumed_billing,
        colocation_ops::companions_at_badge_sites_and_the_photo_form,
        contract::ticket_deadline_calculator_cites_its_rules,
        isolation::no_api_route_leaks_another_organisation,
        hour_books::hour_books_are_charged_per_r8_and_overruns_need_authorisation,
        hour_books::unused_hours_lapse_at_month_end_without_managed_services,
        maintenance::maintenance_notices_feeds_and_episodes,
        desk::maintenance_windows_move_ticket_clocks_and_changes_are_notified,
        desk::the_queue_puts_the_nearest_deadline_first_one_page_at_a_time,
        desk::episode_forms_and_bad_input_write_nothing,
        orders::an_order_goes_from_draft_to_validation,
        orders::an_unaccepted_order_lapses_and_both_sides_are_told,
        orders::staff_back_date_a_paper_signature_received_before_the_deadline,
        orders::price_changes_are_notified_and_options_take_the_request_day_tariff,
        orders::orders_of_another_organisation_are_not_found,
        orders::the_portal_shows_orders_and_runs_their_steps,
        payments::late_invoices_are_followed_up,
        pra::a_failover_is_restored_and_judged_per_criticality,
        pra::designated_users_tests_and_refused_criticality,
        pra::the_back_office_follows_a_failover_and_clients_use_forms,
        services::a_service_is_provisioned_contested_and_accepted_by_the_clock,
        services::terminations_hand_their_fees_to_billing_once,
        statements::monthly_statements_are_reviewed_and_credited_once,
        terms_versions::a_new_version_applies_after_30_days_unless_objected,
        tickets::tickets_follow_the_matrix_the_calendar_and_r4,
        tickets::the_portal_shows_tickets_and_runs_their_steps,
        usage::readings_become_charges_once,
        isolation::no_page_leaks_another_organisation,
        platform::bad_input_gets_problem_json_and_writes_nothing,
        platform::health_metrics_openapi_and_request_ids,
        platform::mail_is_delivered_once_and_kept_as_evidence,
        platform::concurrent_workers_claim_each_job_once,
        platform::two_servers_send_each_notice_once,
        platform::migrations_are_forward_only_and_idempotent,
    ];
    let pg = support::pg_admin_url().is_some();
    let mut trials = Vec::new();
    for (name, story) in all {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let label = match backend {
                Backend::Sqlite => "sqlite",
                Backend::Postgres => "postgres",
            };
            let trial = Trial::test(format!("{label}::{name}"), move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(story(backend));
                Ok(())
            });
            trials.push(trial.with_ignored_flag(backend == Backend::Postgres && !pg));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
