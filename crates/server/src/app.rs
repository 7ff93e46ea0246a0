//! The HTTP application: API, portal, health, metrics, and the layers every
//! request goes through (request id, tracing, metrics, security headers,
//! body limit, panic guard).

use crate::problem::Problem;
use crate::state::AppState;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// The Prometheus recorder, installed once per process.
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Builds the whole application.
pub fn build(state: AppState) -> Router {
    metrics_handle();
    let (api, openapi) = crate::api::router().split_for_parts();
    let openapi_json = std::sync::Arc::new(openapi.to_pretty_json().unwrap_or_default());
    let request_id = HeaderName::from_static("x-request-id");
    let https = state.config().server.is_https();
    let max_body = state.config().server.max_body_bytes;
    let mut security_headers = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                 form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
            ),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .into_inner();
    let hsts = https.then(|| {
        SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        )
    });
    let _ = &mut security_headers;
    let router = Router::new()
        .merge(api)
        .route(
            "/api/openapi.json",
            get(move || {
                let doc = openapi_json.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        doc.as_ref().clone(),
                    )
                }
            }),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(|| async { metrics_handle().render() }))
        .merge(crate::portal::router())
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state);
    router
        // axum's extractors stop at 2 MiB by default, under the limits the
        // `body_limit` layer grants per path (usage readings, episodes, a
        // photo): that layer is the one limit.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(middleware::from_fn(record_metrics))
        .layer(security_headers)
        .layer(tower::util::option_layer(hsts))
        .layer(middleware::from_fn_with_state(max_body, body_limit))
        .layer(CatchPanicLayer::custom(|_| Problem::internal().into_response()))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let rid = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    tracing::info_span!("http", request.id = %rid, method = %req.method(), path = %req.uri().path())
                })
                .on_request(())
                .on_response(|res: &Response, latency: std::time::Duration, _span: &tracing::Span| {
                    tracing::debug!(status = res.status().as_u16(), latency_us = latency.as_micros() as u64, "response");
                }),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.store().ping().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "database not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// Counts requests and their latency per route and status.
async fn record_metrics(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    metrics::counter!("ciel_http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => status).increment(1);
    metrics::histogram!("ciel_http_request_duration_seconds", "route" => route, "method" => method)
        .record(start.elapsed().as_secs_f64());
    res
}

/// Unknown paths: problem+json under `/api`, the portal's page elsewhere.
async fn fallback(req: Request) -> Response {
    if req.uri().path().starts_with("/api/") {
        Problem::not_found()
            .detail("no such endpoint")
            .into_response()
    } else {
        crate::portal::not_found_page(&req).into_response()
    }
}

async fn method_not_allowed() -> Response {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Method not allowed",
    )
    .into_response()
}

/// Limits request bodies to `server.max_body_bytes`, except the bulk episode
/// pushes (cloud and datacenter), whose 10 000 episodes need more
/// ([`crate::episodes::BULK_BODY_BYTES`]), the usage readings
/// ([`crate::usage::BODY_BYTES`]) and a decommissioning's photo proof
/// ([`crate::colo::decommission::MAX_PHOTO_BYTES`]).
async fn body_limit(State(max): State<usize>, req: Request, next: Next) -> Response {
    use tower::ServiceExt;
    let path = req.uri().path();
    let limit = if path == crate::episodes::BULK_PATH || path == crate::datacenters::BULK_PATH {
        max.max(crate::episodes::BULK_BODY_BYTES)
    } else if crate::usage::is_bulk_path(path) {
        max.max(crate::usage::BODY_BYTES)
    } else if crate::colo::decommission::is_photo_path(path) {
        max.max(
            crate::colo::decommission::MAX_PHOTO_BYTES
                + crate::colo::decommission::PHOTO_FORM_OVERHEAD,
        )
    } else {
        max
    };
    let svc = ServiceBuilder::new()
        .layer(RequestBodyLimitLayer::new(limit))
        .map_request(|r: axum::http::Request<_>| r.map(axum::body::Body::new))
        .service(next);
    match svc.oneshot(req).await {
        Ok(r) => r.map(axum::body::Body::new),
        Err(e) => match e {},
    }
}
