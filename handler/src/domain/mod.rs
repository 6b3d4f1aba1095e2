//! What a caller sends, parsed once into types that can only hold valid values (zero2prod's
//! `SubscriberEmail::parse`): handlers and the Graph client receive these, never raw text.

mod ids;
mod meeting;
mod message;
mod user;

pub use ids::parse_guid;
pub use meeting::{LobbyBypass, MeetingRole, MeetingWindow, utc};
pub use message::MessageText;
pub use user::{UserPrincipalName, UserRef};
