//! What every browser request passes through before a page or server function sees it: the
//! Origin check that refuses cross-site writes, the session behind the cookie, the sign-in
//! gate for pages, and the security headers (a Content-Security-Policy with a fresh nonce for
//! the hydration script) on the way out. The API and OTLP routes authenticate with bearer keys,
//! never cookies, so they skip the session and the Origin check.

use crate::AppState;
use app::db::now_ms;
use app::service::accounts::{ClientAddress, SessionSettings, SignedIn, viewer_for_session};
use app::service::auth::hash_session_id;
use app::views::access::Viewer;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::net::SocketAddr;

/// How the web application is reached, for cookies, the Origin check and client addresses.
#[derive(Clone, Debug, Default)]
pub struct WebSettings {
    pub sessions: SessionSettings,
    /// The address people use, e.g. `https://finishline.example.com`, when a proxy in front
    /// changes the `Host` header. Without it the Origin must match the request's `Host`.
    pub public_origin: Option<String>,
    /// Take the client address from the last `X-Forwarded-For` entry (set only behind a proxy
    /// that appends it), for sign-in throttling.
    pub trust_proxy: bool,
    /// Where alert webhooks may go.
    pub webhooks: app::service::alerts::WebhookPolicy,
}

/// The nonce this response's inline scripts carry, also named in its CSP header.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

/// Which kind of route a path is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    /// Bearer-key APIs: no cookies, no sessions.
    Machine,
    /// Files and the health check: public, no session needed.
    Asset,
    /// The sign-in page: public.
    SignIn,
    /// Server functions: each checks the viewer itself and answers 401/403.
    ServerFn,
    /// Every other page: only for signed-in people.
    Page,
}

fn route_of(path: &str) -> Route {
    if path.starts_with("/api/") || path.starts_with("/v1/") {
        Route::Machine
    } else if path.starts_with("/pkg/")
        || path.starts_with("/vendor/")
        || path == "/favicon.svg"
        || path == "/healthz"
    {
        Route::Asset
    } else if path == "/sign-in" {
        Route::SignIn
    } else if path.starts_with("/rpc/") {
        Route::ServerFn
    } else {
        Route::Page
    }
}

pub async fn guard(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let settings = &state.web;
    let route = route_of(request.uri().path());
    if route == Route::Machine {
        let authenticated = request.headers().contains_key(header::AUTHORIZATION);
        return with_api_headers(next.run(request).await, settings, authenticated);
    }
    let unsafe_method = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if unsafe_method && !same_origin(request.headers(), settings) {
        return (
            StatusCode::FORBIDDEN,
            "Cross-site request refused: this form or call did not come from a Finishline page.",
        )
            .into_response();
    }
    let signed_in = if route == Route::Asset {
        None
    } else {
        match signed_in(&state, request.headers()).await {
            Ok(signed_in) => signed_in,
            Err(err) => {
                tracing::warn!(error = ?err, "sessions could not be read");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::RETRY_AFTER, "5")],
                    "The database is unavailable right now. Try again shortly.",
                )
                    .into_response();
            }
        }
    };
    let viewer = signed_in.as_ref().map(|s| s.viewer.clone());
    if request.method() == Method::GET
        && let Some(to) = gate(route, viewer.as_ref(), request.uri())
    {
        return with_headers(Redirect::to(&to).into_response(), settings, None);
    }
    let address = client_address(&request, settings.trust_proxy);
    request.extensions_mut().insert(ClientAddress(address));
    let nonce = (route != Route::Asset).then(new_nonce);
    if let Some(nonce) = &nonce {
        request.extensions_mut().insert(CspNonce(nonce.clone()));
    }
    let private = signed_in.is_some();
    if let Some(signed_in) = signed_in {
        request.extensions_mut().insert(signed_in);
    }
    // A server function's failure carries its own status (see `app::error::AppError::status`),
    // including a 400 for arguments it could not read.
    let response = next.run(request).await;
    let mut response = with_headers(response, settings, nonce.as_deref());
    if private && !response.headers().contains_key(header::CACHE_CONTROL) {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Where a GET must go instead, if anywhere: signed-out people to the sign-in page (and back
/// afterwards), people with a generated password to their account page, signed-in people away
/// from the sign-in page.
fn gate(route: Route, viewer: Option<&Viewer>, uri: &axum::http::Uri) -> Option<String> {
    match (route, viewer) {
        (Route::Page, None) => {
            let asked = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            Some(if asked == "/" {
                "/sign-in".to_owned()
            } else {
                format!(
                    "/sign-in?next={}",
                    app::views::format::encode_query_value(asked)
                )
            })
        }
        (Route::Page, Some(viewer)) if viewer.must_change_password && uri.path() != "/account" => {
            Some("/account".to_owned())
        }
        (Route::SignIn, Some(viewer)) => Some(viewer.landing().to_owned()),
        _ => None,
    }
}

async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<SignedIn>, app::db::DbError> {
    let Some(secret) = cookie(headers, state.web.sessions.cookie_name()) else {
        return Ok(None);
    };
    let session_hash = hash_session_id(secret);
    Ok(viewer_for_session(&state.db, &session_hash, now_ms())
        .await?
        .map(|viewer| SignedIn {
            viewer,
            session_hash,
        }))
}

/// The value of cookie `name`, if the request carries it.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// Whether a state-changing request comes from this site: its `Origin` (or, when a browser
/// sends none, its `Referer`) must name the same scheme, host and port as the site, which is
/// the configured public origin, or else the request's `Host` over HTTPS when cookies are
/// marked secure and HTTP when not. Requests with neither header are refused.
fn same_origin(headers: &HeaderMap, settings: &WebSettings) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let sender = match (text(header::ORIGIN), text(header::REFERER)) {
        (Some(origin), _) if origin != "null" => origin,
        (_, Some(referer)) => referer,
        _ => return false,
    };
    let Ok(sender) = url::Url::parse(sender) else {
        return false;
    };
    let site = match &settings.public_origin {
        Some(public) => url::Url::parse(public),
        None => {
            let Some(host) = text(header::HOST) else {
                return false;
            };
            let scheme = if settings.sessions.secure_cookies {
                "https"
            } else {
                "http"
            };
            url::Url::parse(&format!("{scheme}://{host}/"))
        }
    };
    let site = match site {
        Ok(site) if site.has_host() => site,
        _ => return false,
    };
    sender.origin().is_tuple() && sender.origin() == site.origin()
}

/// The client's address: the connection's, or behind a trusted proxy the last forwarded one.
pub(crate) fn client_address(request: &Request, trust_proxy: bool) -> String {
    let forwarded = trust_proxy
        .then(|| {
            request
                .headers()
                .get("x-forwarded-for")?
                .to_str()
                .ok()?
                .rsplit(',')
                .next()
                .map(|address| address.trim().to_owned())
        })
        .flatten()
        .filter(|address| !address.is_empty());
    forwarded
        .or_else(|| {
            request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0.ip().to_string())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// 128 random bits, fresh for every response.
fn new_nonce() -> String {
    app::service::auth::random_token(16)
}

/// The policy: scripts only from this site or inline with this response's nonce, WebAssembly
/// allowed to compile, styles and images from this site, no framing, forms only to this site.
fn content_security_policy(nonce: Option<&str>) -> String {
    let scripts = match nonce {
        Some(nonce) => format!("'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"),
        None => "'self' 'wasm-unsafe-eval'".to_owned(),
    };
    format!(
        "default-src 'self'; script-src {scripts}; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

fn with_headers(response: Response, settings: &WebSettings, nonce: Option<&str>) -> Response {
    let policy = HeaderValue::from_str(&content_security_policy(nonce)).ok();
    with_security_headers(response, settings, policy, "same-origin")
}

/// The API's and OTLP receiver's answers: never sniffed, framed, cached when they answer a
/// key, or sent on as a referrer; a policy that lets nothing in them run or load.
fn with_api_headers(response: Response, settings: &WebSettings, authenticated: bool) -> Response {
    let policy = HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'; sandbox");
    let mut response = with_security_headers(response, settings, Some(policy), "no-referrer");
    let headers = response.headers_mut();
    if authenticated && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The headers pages and API answers share: their content security policy and referrer
/// policy, never sniffed or framed, and HSTS when the site is served over HTTPS.
fn with_security_headers(
    mut response: Response,
    settings: &WebSettings,
    policy: Option<HeaderValue>,
    referrer: &'static str,
) -> Response {
    let headers = response.headers_mut();
    if let Some(policy) = policy {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static(referrer));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if settings.sessions.secure_cookies {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn site(public_origin: Option<&str>, secure_cookies: bool) -> WebSettings {
        WebSettings {
            sessions: SessionSettings {
                secure_cookies,
                ..SessionSettings::default()
            },
            public_origin: public_origin.map(str::to_owned),
            trust_proxy: false,
            webhooks: Default::default(),
        }
    }

    #[test]
    fn writes_must_come_from_this_site() {
        let plain = site(None, false);
        let host = (header::HOST, "localhost:3000");
        let own = headers(&[host.clone(), (header::ORIGIN, "http://localhost:3000")]);
        assert!(same_origin(&own, &plain));
        let foreign = headers(&[host.clone(), (header::ORIGIN, "https://evil.example")]);
        assert!(!same_origin(&foreign, &plain));
        let referer = headers(&[
            host.clone(),
            (header::REFERER, "http://localhost:3000/keys?x=1"),
        ]);
        assert!(same_origin(&referer, &plain));
        assert!(
            !same_origin(&headers(std::slice::from_ref(&host)), &plain),
            "neither header"
        );
        let null = headers(&[host.clone(), (header::ORIGIN, "null")]);
        assert!(!same_origin(&null, &plain));
        let proxied = headers(&[
            (header::HOST, "10.0.0.5:3000"),
            (header::ORIGIN, "https://finishline.example.com"),
        ]);
        let public = site(Some("https://finishline.example.com/"), true);
        assert!(same_origin(&proxied, &public));
        assert!(!same_origin(
            &proxied,
            &site(Some("https://other.example.com"), true)
        ));
        let default_port = headers(&[(header::ORIGIN, "https://finishline.example.com:443")]);
        assert!(same_origin(&default_port, &public));
    }

    #[test]
    fn another_scheme_or_port_on_the_same_host_is_another_site() {
        let host = (header::HOST, "localhost:3000");
        let plain = site(None, false);
        let secure = site(None, true);
        for (origin, over_http, over_https) in [
            ("http://localhost:3000", true, false),
            ("https://localhost:3000", false, true),
            ("ws://localhost:3000", false, false),
            ("http://localhost:3001", false, false),
            ("http://localhost", false, false),
            ("http://LOCALHOST:3000", true, false),
            ("http://localhost:3000.evil.example", false, false),
            ("http://localhost:3000@evil.example", false, false),
            ("file:///etc/passwd", false, false),
            ("not a url", false, false),
        ] {
            let request = headers(&[host.clone(), (header::ORIGIN, origin)]);
            assert_eq!(
                same_origin(&request, &plain),
                over_http,
                "{origin} over HTTP"
            );
            assert_eq!(
                same_origin(&request, &secure),
                over_https,
                "{origin} over HTTPS"
            );
        }
        let public = site(Some("https://finishline.example.com"), true);
        for origin in [
            "http://finishline.example.com",
            "https://finishline.example.com:8443",
        ] {
            let request = headers(&[(header::ORIGIN, origin)]);
            assert!(!same_origin(&request, &public), "{origin}");
        }
        let referer = headers(&[host, (header::REFERER, "https://localhost:3000/keys")]);
        assert!(!same_origin(&referer, &plain));
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let map = headers(&[(header::COOKIE, "a=1; finishline_session=abc; b=2")]);
        assert_eq!(cookie(&map, "finishline_session"), Some("abc"));
        assert_eq!(cookie(&map, "finishline"), None);
        let empty = headers(&[(header::COOKIE, "finishline_session=")]);
        assert_eq!(cookie(&empty, "finishline_session"), None);
    }

    #[test]
    fn routes_are_told_apart_by_path() {
        assert_eq!(route_of("/api/v1/ingest"), Route::Machine);
        assert_eq!(route_of("/v1/traces"), Route::Machine);
        assert_eq!(route_of("/pkg/finishline.wasm"), Route::Asset);
        assert_eq!(route_of("/sign-in"), Route::SignIn);
        assert_eq!(route_of("/rpc/sign_in"), Route::ServerFn);
        assert_eq!(route_of("/keys"), Route::Page);
    }

    #[test]
    fn the_policy_names_the_nonce_and_forbids_framing() {
        let policy = content_security_policy(Some("n0nce"));
        assert!(policy.contains("script-src 'self' 'nonce-n0nce' 'wasm-unsafe-eval'"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(!policy.contains("unsafe-inline"));
    }
}
