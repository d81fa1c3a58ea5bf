//! The page's style sheet, script and icon, compiled into the binary.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::Failure;

/// The style sheet (light and dark, laptop and phone widths).
pub const STYLE: &str = include_str!("assets/style.css");
/// Keyboard shortcuts; the pages work without it.
pub const SCRIPT: &str = include_str!("assets/cram.js");
/// The tab icon.
pub const ICON: &str = include_str!("assets/icon.svg");

fn file(body: &'static str, content_type: &'static str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=300"),
    );
    res
}

/// `GET /assets/{name}`.
pub async fn asset(Path(name): Path<String>) -> Response {
    match name.as_str() {
        "style.css" => file(STYLE, "text/css; charset=utf-8"),
        "cram.js" => file(SCRIPT, "text/javascript; charset=utf-8"),
        "icon.svg" => file(ICON, "image/svg+xml"),
        _ => Failure::new(StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

/// `GET /favicon.ico`: the icon (browsers ask for it whatever the page says).
pub async fn favicon() -> Response {
    file(ICON, "image/svg+xml")
}
