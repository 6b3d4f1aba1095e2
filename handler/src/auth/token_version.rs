//! Entra's two access-token formats, which differ in issuer, claims and published keys.

/// The token's `ver`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub enum TokenVersion {
    #[serde(rename = "1.0")]
    V1,
    #[serde(rename = "2.0")]
    V2,
}

impl TokenVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenVersion::V1 => "1.0",
            TokenVersion::V2 => "2.0",
        }
    }
}
