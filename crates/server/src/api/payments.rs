//! Payments in the API (issue 6 items 5-7, tag `payments`): payments and
//! their import, rejections, balances, refunds (R7.5), SEPA direct-debit
//! batches (R2.7), the dunning queue and its sanctions (R2.6, R3.3, R3.4)
//! and invoice disputes (R2.7). The workflows live in `server::payments`,
//! `server::sepa_batches`, `server::dunning` and `server::disputes`.

use super::ApiJson;
use super::episodes::{idem_key, to_json};
use crate::auth::Principal;
use crate::payments::{self as pay, PaymentInput, RefundInput, RejectionInput};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use crate::{disputes, dunning, sepa_batches};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A JSON answer; its fields are described on each route.
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = Object)]
pub struct Doc(serde_json::Value);

fn doc<T: Serialize>(v: &T) -> ApiResult<Json<Doc>> {
    Ok(Json(Doc(to_json(v)?)))
}

fn items<T: Serialize>(v: &[T]) -> ApiResult<Json<Doc>> {
    Ok(Json(Doc(serde_json::json!({ "items": to_json(&v)? }))))
}

/// A payment received (staff).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    /// Euros, at most 2 decimals, positive.
    pub amount: String,
    /// `YYYY-MM-DD` (Europe/Paris), not in the future; default today.
    pub received_on: Option<String>,
    /// `sepa_direct_debit`, `transfer` or `other`.
    pub method: String,
    /// The bank's reference (end-to-end id of a direct debit, transfer
    /// reference): a rejection names the payment by it.
    pub reference: String,
    /// Required when the payment exceeds what is due: `keep_as_credit` or
    /// `refund`. Without it such a payment is refused (field `excess`).
    pub excess: Option<String>,
    /// Invoices to settle, in order; default: oldest due first.
    #[serde(default)]
    pub invoices: Vec<String>,
}

/// A bank file of payments and rejections.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    pub file_name: String,
    /// CSV text; first line `type,org_id,amount,date,method,reference,excess,reason_code`;
    /// `payment` lines need org_id, amount, method, reference (date default
    /// today); `rejection` lines need reference (of the payment), reason_code.
    pub content: String,
}

/// The bank's rejection of a payment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectionRequest {
    /// ISO 20022 reason code (AM04, MS02...).
    pub reason_code: String,
    /// `YYYY-MM-DD`; default today.
    pub rejected_on: Option<String>,
}

/// A credit refunded (R7.5).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    pub amount: String,
    /// `YYYY-MM-DD`; default today.
    pub refunded_on: Option<String>,
    /// The transfer's reference.
    pub reference: String,
}

/// A SEPA batch to build.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// `YYYY-MM-DD`: the due day of the invoices, the requested collection date.
    pub collection_date: String,
}

/// The sanction chosen after a formal notice left without effect (R2.6).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SanctionRequest {
    /// `accelerate`, `suspend`, `guarantee` or `terminate`.
    pub sanction: String,
    /// Required for `guarantee`: the guarantee asked for.
    pub note: Option<String>,
}

/// A contest of an invoice (R2.7).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisputeRequest {
    pub reason: String,
}

/// The provider's answer to a dispute.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    /// `accepted` (a credit note will be issued) or `rejected`.
    pub decision: String,
    pub answer: String,
}

/// The payments of an organisation, newest first, each with its rejection.
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}/payments", tag = "payments",
    params(("org_id" = String, Path)),
    responses((status = 200, body = Doc), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_payments(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
) -> ApiResult<Json<Doc>> {
    items(&pay::list(&s, &p, &org_id).await?)
}

/// Staff record a payment: allocated to the invoices named, else oldest due
/// first; an invoice covered is paid, and if late its interest and the 40
/// EUR indemnity go to the next invoice (R2.6). A payment beyond what is due
/// needs `excess`. An `Idempotency-Key` makes a retry answer the first answer.
#[utoipa::path(post, path = "/api/v1/organizations/{org_id}/payments", tag = "payments",
    params(("org_id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "A replay answers the first answer; another body with the same key is refused (409)")),
    request_body = PaymentRequest,
    responses((status = 201, body = Doc), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn record_payment(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
    headers: HeaderMap,
    ApiJson(r): ApiJson<PaymentRequest>,
) -> ApiResult<Response> {
    let key = idem_key(&headers);
    let input = PaymentInput {
        amount: r.amount,
        received_on: r.received_on,
        method: r.method,
        reference: r.reference,
        excess: r.excess,
        invoices: r.invoices,
    };
    let (status, body) = pay::record(
        &s,
        &p,
        &org_id,
        input,
        (!key.is_empty()).then_some(key.as_str()),
    )
    .await?;
    Ok((status, Json(body)).into_response())
}

/// Staff import a bank file of payments and rejections; a bad line refuses
/// the whole file (field `content`, its line number and reason), nothing
/// written.
#[utoipa::path(post, path = "/api/v1/payments/import", tag = "payments",
    request_body = ImportRequest,
    responses((status = 201, body = Doc), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn import_payments(
    State(s): State<AppState>,
    p: Principal,
    ApiJson(r): ApiJson<ImportRequest>,
) -> ApiResult<(StatusCode, Json<Doc>)> {
    let out = pay::import(&s, &p, &r.file_name, &r.content).await?;
    Ok((StatusCode::CREATED, doc(&out)?))
}

/// Staff record the bank's rejection of a payment: its allocations are
/// removed, its invoices unpaid again, and the client is emailed the 8 days
/// it has to regularise (R3.3).
#[utoipa::path(post, path = "/api/v1/payments/{payment_id}/rejection", tag = "payments",
    params(("payment_id" = String, Path)), request_body = RejectionRequest,
    responses((status = 200, body = Doc), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn reject_payment(
    State(s): State<AppState>,
    p: Principal,
    Path(payment_id): Path<String>,
    ApiJson(r): ApiJson<RejectionRequest>,
) -> ApiResult<Json<Doc>> {
    let (payment, removed) = pay::reject(
        &s,
        &p,
        &payment_id,
        RejectionInput {
            reason_code: r.reason_code,
            rejected_on: r.rejected_on,
        },
    )
    .await?;
    doc(&serde_json::json!({"payment": payment, "allocations_removed": removed}))
}

/// A client's balance: invoices − credit notes − payments + refunds, with
/// its explanation, the unpaid invoices and what may be refunded (R7.5).
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}/balance", tag = "payments",
    params(("org_id" = String, Path)),
    responses((status = 200, body = Doc), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_balance(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
) -> ApiResult<Json<Doc>> {
    doc(&pay::balance(&s, &p, &org_id).await?)
}

/// The refunds of an organisation.
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}/refunds", tag = "payments",
    params(("org_id" = String, Path)),
    responses((status = 200, body = Doc), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_refunds(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
) -> ApiResult<Json<Doc>> {
    items(&pay::refunds(&s, &p, &org_id).await?)
}

/// Staff state a credit refunded: only within the credit in the client's
/// favour and once all its services have ended (R7.5).
#[utoipa::path(post, path = "/api/v1/organizations/{org_id}/refunds", tag = "payments",
    params(("org_id" = String, Path)), request_body = RefundRequest,
    responses((status = 201, body = Doc), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn refund_credit(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
    ApiJson(r): ApiJson<RefundRequest>,
) -> ApiResult<(StatusCode, Json<Doc>)> {
    let refund = pay::refund_credit(
        &s,
        &p,
        &org_id,
        RefundInput {
            amount: r.amount,
            refunded_on: r.refunded_on,
            reference: r.reference,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, doc(&refund)?))
}

/// The SEPA direct-debit batches (staff), newest first.
#[utoipa::path(get, path = "/api/v1/sepa-batches", tag = "payments",
    responses((status = 200, body = Doc), (status = 403, body = Problem)))]
pub async fn list_batches(State(s): State<AppState>, p: Principal) -> ApiResult<Json<Doc>> {
    items(&sepa_batches::list(&s, &p).await?)
}

/// Staff build the pain.008.001.08 batch of the unpaid invoices due on a
/// day whose client has a mandate (FRST for a mandate's first collection,
/// RCUR after). A mandate without signature date refuses it (field
/// `mandate_signed_on`, naming the client).
#[utoipa::path(post, path = "/api/v1/sepa-batches", tag = "payments",
    request_body = BatchRequest,
    responses((status = 201, body = Doc), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn create_batch(
    State(s): State<AppState>,
    p: Principal,
    ApiJson(r): ApiJson<BatchRequest>,
) -> ApiResult<(StatusCode, Json<Doc>)> {
    let (batch, items) = sepa_batches::create(&s, &p, &r.collection_date).await?;
    Ok((
        StatusCode::CREATED,
        doc(&serde_json::json!({"batch": batch, "items": items}))?,
    ))
}

/// A batch with the invoices it collects (staff).
#[utoipa::path(get, path = "/api/v1/sepa-batches/{batch_id}", tag = "payments",
    params(("batch_id" = String, Path)),
    responses((status = 200, body = Doc), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_batch(
    State(s): State<AppState>,
    p: Principal,
    Path(batch_id): Path<String>,
) -> ApiResult<Json<Doc>> {
    let (batch, _, items) = sepa_batches::get(&s, &p, &batch_id).await?;
    doc(&serde_json::json!({"batch": batch, "items": items}))
}

/// The batch's pain.008.001.08 file, for the bank (staff).
#[utoipa::path(get, path = "/api/v1/sepa-batches/{batch_id}/xml", tag = "payments",
    params(("batch_id" = String, Path)),
    responses((status = 200, content_type = "application/xml", body = String),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn batch_xml(
    State(s): State<AppState>,
    p: Principal,
    Path(batch_id): Path<String>,
) -> ApiResult<Response> {
    let (batch, xml, _) = sepa_batches::get(&s, &p, &batch_id).await?;
    Ok(xml_download(&batch.message_id, xml))
}

/// An XML file as a download named after its message id.
pub(crate) fn xml_download(message_id: &str, xml: String) -> Response {
    let mut r = xml.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{message_id}.xml\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// Every invoice followed up after its formal notice (staff).
#[utoipa::path(get, path = "/api/v1/dunning", tag = "payments",
    responses((status = 200, body = Doc), (status = 403, body = Problem)))]
pub async fn list_dunning(State(s): State<AppState>, p: Principal) -> ApiResult<Json<Doc>> {
    items(&dunning::list(&s, &p, false).await?)
}

/// The sanction queue: unpaid invoices whose formal notice was left without
/// effect for 15 days, undecided (R2.6).
#[utoipa::path(get, path = "/api/v1/dunning/queue", tag = "payments",
    responses((status = 200, body = Doc), (status = 403, body = Problem)))]
pub async fn dunning_queue(State(s): State<AppState>, p: Principal) -> ApiResult<Json<Doc>> {
    items(&dunning::list(&s, &p, true).await?)
}

/// Staff run the dunning pass now (the midnight job's work): formal
/// notices of the invoices whose due day has passed.
#[utoipa::path(post, path = "/api/v1/dunning/run", tag = "payments",
    responses((status = 200, body = Doc), (status = 403, body = Problem)))]
pub async fn run_dunning(State(s): State<AppState>, p: Principal) -> ApiResult<Json<Doc>> {
    doc(&dunning::run_now(&s, &p).await?)
}

/// Staff choose the sanction of an invoice in the queue; it is carried out
/// (accelerate, suspend through the services' workflow, guarantee,
/// terminate for non-payment).
#[utoipa::path(post, path = "/api/v1/invoices/{invoice_id}/sanction", tag = "payments",
    params(("invoice_id" = String, Path)), request_body = SanctionRequest,
    responses((status = 200, body = Doc), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn choose_sanction(
    State(s): State<AppState>,
    p: Principal,
    Path(invoice_id): Path<String>,
    ApiJson(r): ApiJson<SanctionRequest>,
) -> ApiResult<Json<Doc>> {
    doc(&dunning::sanction(&s, &p, &invoice_id, &r.sanction, r.note).await?)
}

/// A client user who sees invoices contests one within 30 days of its
/// date (R2.7); later is refused (422 citing R2.7). The invoice stays due.
#[utoipa::path(post, path = "/api/v1/invoices/{invoice_id}/disputes", tag = "payments",
    params(("invoice_id" = String, Path)), request_body = DisputeRequest,
    responses((status = 201, body = Doc), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn open_dispute(
    State(s): State<AppState>,
    p: Principal,
    Path(invoice_id): Path<String>,
    ApiJson(r): ApiJson<DisputeRequest>,
) -> ApiResult<(StatusCode, Json<Doc>)> {
    let d = disputes::open(&s, &p, &invoice_id, &r.reason).await?;
    Ok((StatusCode::CREATED, doc(&d)?))
}

/// The disputes of an organisation, newest first.
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}/disputes", tag = "payments",
    params(("org_id" = String, Path)),
    responses((status = 200, body = Doc), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_disputes(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
) -> ApiResult<Json<Doc>> {
    items(&disputes::list_of_org(&s, &p, &org_id).await?)
}

/// The disputes waiting for an answer (staff).
#[utoipa::path(get, path = "/api/v1/disputes", tag = "payments",
    responses((status = 200, body = Doc), (status = 403, body = Problem)))]
pub async fn disputes_queue(State(s): State<AppState>, p: Principal) -> ApiResult<Json<Doc>> {
    items(&disputes::open_queue(&s, &p).await?)
}

/// Staff answer a dispute; the client is emailed the answer.
#[utoipa::path(post, path = "/api/v1/disputes/{dispute_id}/answer", tag = "payments",
    params(("dispute_id" = String, Path)), request_body = AnswerRequest,
    responses((status = 200, body = Doc), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn answer_dispute(
    State(s): State<AppState>,
    p: Principal,
    Path(dispute_id): Path<String>,
    ApiJson(r): ApiJson<AnswerRequest>,
) -> ApiResult<Json<Doc>> {
    let accepted = match r.decision.as_str() {
        "accepted" => true,
        "rejected" => false,
        _ => return Err(Problem::invalid("decision", "accepted or rejected")),
    };
    doc(&disputes::answer(&s, &p, &dispute_id, accepted, &r.answer).await?)
}
