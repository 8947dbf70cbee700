//! The OpenAPI document, generated from the handlers' annotations.

use crate::routes::{admin, auth, citizens, orders};
use crate::AppState;
use axum::routing::get;
use axum::Router;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Rexian API", description = "Work orders, organisation, citizens and administration of a government service hotline. Errors are `{code, message}` with stable codes."),
    paths(
        auth::login, auth::logout, auth::me, auth::create_token,
        orders::create, orders::list, orders::get_one, orders::by_case, orders::history, orders::act,
        orders::upload, orders::download, orders::suggest, orders::stats,
        admin::departments, admin::create_department, admin::update_department,
        admin::users, admin::create_user, admin::update_user,
        admin::categories, admin::create_category, admin::update_category,
        admin::routing_rules, admin::create_routing_rule, admin::delete_routing_rule,
        admin::deadline_rules, admin::put_deadline_rules,
        admin::calendar, admin::put_calendar_year, admin::put_hours, admin::deadline_calc, admin::audit,
        citizens::search, citizens::one, citizens::put, citizens::timeline, citizens::add_tag,
        citizens::remove_tag, citizens::list_tag, citizens::export, citizens::import,
    ),
    components(schemas(crate::error::ErrorBody, orders::ActionRequest, orders::NewOrderBody, crate::present::OrderView, crate::present::OrderPage)),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [])),
    tags(
        (name = "orders", description = "工单: registration, lifecycle, history"),
        (name = "auth", description = "Sessions and tokens"),
        (name = "admin", description = "Organisation, rules, calendar"),
        (name = "citizens", description = "CRM"),
    )
)]
pub struct ApiDoc;

/// Bearer tokens for API clients; the session cookie (plus `X-CSRF-Token`
/// on writes) for browsers.
struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let c = doc.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("rexian_session"))),
        );
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/openapi.json",
        get(|| async { axum::Json(ApiDoc::openapi()) }),
    )
}
