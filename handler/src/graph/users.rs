//! Users of the caller's directory: a profile (user-get.md, `$select`) and a photo
//! (profilephoto-get.md, `/photo/$value`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Error, GraphCall, GraphClient, encode_segment};
use crate::domain::{Guid, UserRef};

const PROFILE_FIELDS: &str =
    "id,displayName,mail,userPrincipalName,jobTitle,department,officeLocation";

/// Graph stores profile photos of at most 4 MB (profilephoto-update.md).
const MAX_PHOTO_BYTES: usize = 4 * 1024 * 1024;

/// A profile as Graph returns it, which is also what the route answers. `jobTitle`,
/// `department` and `officeLocation` of other users are `null` unless the app has
/// `User.Read.All`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// The user's object id in the caller's directory.
    #[schema(example = "0b1d0000-0000-4000-8000-000000000001")]
    id: String,
    display_name: Option<String>,
    mail: Option<String>,
    user_principal_name: Option<String>,
    job_title: Option<String>,
    department: Option<String>,
    office_location: Option<String>,
}

/// A photo as Graph returned it.
#[derive(Debug)]
pub struct Photo {
    pub content_type: String,
    pub bytes: bytes::Bytes,
}

/// The Graph path of a user: `/me`, or `/users/{id}` with the id percent-encoded.
pub fn user_path(user: &UserRef) -> String {
    match user {
        UserRef::Me => "/me".to_owned(),
        UserRef::Id(id) => format!("/users/{}", encode_segment(id)),
        UserRef::Upn(upn) => format!("/users/{}", encode_segment(upn.as_str())),
    }
}

impl GraphClient {
    /// The user's profile: User.Read for `me` (job title, department and office are not in
    /// the basic profile), User.ReadBasic.All for others.
    pub async fn get_user(&self, call: &GraphCall<'_>, user: &UserRef) -> Result<Profile, Error> {
        self.get_json(call, &user_path(user), &[("$select", PROFILE_FIELDS)], &[])
            .await
    }

    /// The user's mail address, `None` when they have none (basic profile: User.ReadBasic.All).
    /// A user principal name is no mail address (a guest's `…#EXT#@…` never is), so invitations
    /// go only where this says.
    pub async fn mail_of(
        &self,
        call: &GraphCall<'_>,
        user_id: Guid,
    ) -> Result<Option<String>, Error> {
        #[derive(Deserialize)]
        struct Mail {
            mail: Option<String>,
        }
        let path = format!("/users/{user_id}");
        let found: Mail = self
            .get_json(call, &path, &[("$select", "id,mail")], &[])
            .await?;
        Ok(found.mail.filter(|mail| !mail.trim().is_empty()))
    }

    /// The user's photo bytes and their declared content type.
    pub async fn get_photo(&self, call: &GraphCall<'_>, user: &UserRef) -> Result<Photo, Error> {
        let path = format!("{}/photo/$value", user_path(user));
        let response = self.send(call, || self.http.get(self.url(&path))).await?;
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let bytes = crate::upstream::read_capped(response, MAX_PHOTO_BYTES).await?;
        Ok(Photo {
            content_type,
            bytes,
        })
    }
}
