//! `GetUserPhoto`: the photo of a user of the caller's tenant, for the contact picker.

use warp::http::Method;
use warp::{Filter, Rejection, Reply};

use super::context::{RequestContext, within_deadline};
use super::filters::protected_with_param;
use super::problems::GRAPH_READ_PROBLEMS;
use super::spec::function_spec;
use super::users::{parse_user, per_user_cache};
use crate::domain::UserRef;
use crate::error::ApiError;
use crate::graph;
use crate::state::AppState;

function_spec! {
    name: "GetUserPhoto",
    route: "users/{id}/photo",
    methods: &[Method::GET],
    allow: "GET",
    problems: GRAPH_READ_PROBLEMS,
}

/// How long a browser may keep a photo (for the same `Authorization` only).
pub(crate) const PHOTO_CACHE_CONTROL: &str = "private, max-age=3600";

/// The raster types a browser shows inertly, the only ones served.
pub(crate) const SERVED_IMAGE_TYPES: [&str; 4] =
    ["image/jpeg", "image/png", "image/gif", "image/webp"];

/// The schema of the photo's bytes.
struct Image;

impl utoipa::PartialSchema for Image {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Binary,
            )))
            .description(Some("The image's bytes."))
            .into()
    }
}

impl utoipa::ToSchema for Image {}

/// GET /api/users/{id}/photo, bearer token → 200 the image bytes with their content type.
#[utoipa::path(
    get,
    path = "/api/users/{id}/photo",
    operation_id = "GetUserPhoto",
    tag = "people",
    summary = "A user's photo",
    description = "The photo's bytes with their own `Content-Type`. Only JPEG, PNG, GIF and WebP \
        are passed on; a photo Graph serves in any other type (SVG can carry script) is answered \
        like a missing one: 404 `not_found`, show initials instead.",
    params(("id" = UserRef, Path, description = "`me`, an object id, or a user principal name.")),
    responses(
        (status = 200, description = "The photo.", content(
            (Image = "image/jpeg"),
            (Image = "image/png"),
            (Image = "image/gif"),
            (Image = "image/webp"),
        ), headers(
            ("Cache-Control" = String, description = "`private, max-age=3600`"),
            ("Vary" = String, description = "`Authorization`"),
        )),
    ),
    security(("entraId" = ["access_as_user"])),
)]
pub fn route(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    protected_with_param(SPEC, &state).then(photo)
}

async fn photo(id: String, context: RequestContext) -> Result<warp::reply::Response, ApiError> {
    let user = parse_user(&id)?;
    within_deadline(context.deadline, graph::SERVICE, async {
        let caller_graph = context.caller_graph().await?;
        let photo = caller_graph.get_photo(&user).await?;
        let Some(content_type) = servable_image_type(&photo.content_type) else {
            tracing::warn!(
                content_type = %photo.content_type.chars().take(64).collect::<String>(),
                "Graph returned a photo in a type that is not served"
            );
            return Err(ApiError::NotFound(
                "The user has no photo in a format this API serves (JPEG, PNG, GIF or WebP)."
                    .to_owned(),
            ));
        };
        let mut response = warp::reply::Response::new(photo.bytes.into());
        response.headers_mut().insert(
            warp::http::header::CONTENT_TYPE,
            warp::http::HeaderValue::from_static(content_type),
        );
        per_user_cache(&mut response, PHOTO_CACHE_CONTROL);
        Ok(response)
    })
    .await
}

/// The raster types a browser shows inertly. Anything else from upstream (SVG can carry script,
/// HTML is not an image) is not passed on under our origin.
fn servable_image_type(content_type: &str) -> Option<&'static str> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    SERVED_IMAGE_TYPES
        .into_iter()
        .find(|allowed| *allowed == essence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_only_raster_image_types() {
        assert_eq!(servable_image_type("image/jpeg"), Some("image/jpeg"));
        assert_eq!(servable_image_type("Image/PNG; q=1"), Some("image/png"));
        for refused in [
            "image/svg+xml",
            "text/html",
            "image/jpeg2",
            "",
            "application/octet-stream",
        ] {
            assert_eq!(servable_image_type(refused), None, "{refused}");
        }
    }
}
