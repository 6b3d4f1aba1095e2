//! What a caller sends, parsed once into types that can only hold valid values (zero2prod's
//! `SubscriberEmail::parse`): handlers and the Graph client receive these, never raw text.

mod chat;
mod ids;
mod line;
mod meeting;
mod message;
mod search;
mod user;

pub use chat::{ChatId, MAX_CHAT_ID_LEN};
pub use ids::{GUID_PATTERN, Guid};
pub use meeting::{
    LobbyBypass, MAX_SUBJECT_CHARS, MeetingRole, MeetingSubject, MeetingWindow, utc,
};
pub use message::{MAX_MESSAGE_CHARS, MessageText};
pub use search::{MAX_SEARCH_CHARS, SearchText};
pub use user::{
    USER_PRINCIPAL_NAME_PATTERN, UserPrincipalName, UserRef, is_guest_user_principal_name,
};
