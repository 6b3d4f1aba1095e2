//! The invitation path of `CreateMeeting`: a calendar event that is an online meeting, so
//! Exchange mails the invitations, then its meeting's lobby and presenters once Graph shows it.

use std::time::Duration;

use tokio::time::Instant;

use super::answer::{MeetingWarning, Outcome};
use super::body::ValidMeeting;
use crate::domain::{Guid, UserPrincipalName};
use crate::error::ApiError;
use crate::graph;
use crate::graph::meetings::{Event, MeetingSettings, OnlineMeeting};
use crate::routes::caller_graph::CallerGraph;
use crate::routes::context::within_deadline;

/// First wait before looking for an event's online meeting again; doubled each time, capped.
const MEETING_POLL_FIRST_WAIT: Duration = Duration::from_millis(100);
const MEETING_POLL_MAX_WAIT: Duration = Duration::from_secs(2);
/// What the invitation path keeps back for its own answer: polling stops this long before the
/// request deadline, so the 201 is sent in time.
const ANSWER_RESERVE: Duration = Duration::from_secs(2);

/// The participants' addresses, the event (which sends the invitations), then its online
/// meeting's lobby and presenters. Only what happens before the event exists can fail the
/// request.
pub(super) async fn create_with_invitations(
    caller_graph: &CallerGraph<'_>,
    meeting: &ValidMeeting,
    own_tenant: Guid,
    deadline: Instant,
) -> Result<Outcome, ApiError> {
    let (addresses, incomplete) = within_deadline(
        deadline,
        graph::SERVICE,
        invitation_addresses(caller_graph, meeting, own_tenant),
    )
    .await?;
    let event = within_deadline(
        deadline,
        graph::SERVICE,
        caller_graph.create_event(&meeting.event(&addresses)),
    )
    .await?;
    let incomplete = incomplete.then_some(MeetingWarning::InvitationsIncomplete);
    // From here on the invitations are out.
    let poll_until = deadline
        .checked_sub(ANSWER_RESERVE)
        .unwrap_or(deadline)
        .max(Instant::now());
    let settings = meeting.online_meeting().settings();
    let applied = tokio::time::timeout_at(
        poll_until,
        apply_settings(caller_graph, &settings, &event, poll_until),
    )
    .await;
    let fallback = |join_web_url: Option<String>| Outcome {
        id: event.id.clone(),
        join_web_url,
        chat_thread_id: None,
        subject: None,
        start_date_time: None,
        end_date_time: None,
        warnings: [Some(MeetingWarning::LobbyNotApplied), incomplete]
            .into_iter()
            .flatten()
            .collect(),
    };
    match applied {
        Ok(Ok(online)) => {
            let mut outcome: Outcome = online.into();
            outcome.warnings.extend(incomplete);
            Ok(outcome)
        }
        Ok(Err(Unapplied { join_url, reason })) => {
            tracing::warn!(reason = %reason, "invitations sent, lobby setting not applied");
            Ok(fallback(join_url))
        }
        Err(_) => {
            tracing::warn!("invitations sent, online meeting not found before the deadline");
            Ok(fallback(event.join_url().map(str::to_owned)))
        }
    }
}

/// The mail address of each participant who can be invited, and whether anyone was left out.
/// People of the caller's directory are looked up (their `mail`; a user principal name is no
/// mail address, and a guest's `…#EXT#@…` never is). Someone of another organization cannot be
/// looked up there, so their `upn` is used when it can be a mail address.
async fn invitation_addresses(
    caller_graph: &CallerGraph<'_>,
    meeting: &ValidMeeting,
    own_tenant: Guid,
) -> Result<(Vec<String>, bool), ApiError> {
    let lookups = meeting.attendees.iter().map(|attendee| async move {
        let federated = attendee.tenant_id.is_some_and(|t| t != own_tenant);
        if federated {
            return Ok(attendee
                .upn
                .as_ref()
                .map(UserPrincipalName::as_str)
                .filter(|upn| !crate::domain::is_guest_user_principal_name(upn))
                .map(str::to_owned));
        }
        caller_graph.mail_of(attendee.user_id).await
    });
    let found = futures_util::future::try_join_all(lookups).await?;
    let incomplete = found.iter().any(Option::is_none);
    let mut addresses: Vec<String> = Vec::with_capacity(found.len());
    for address in found.into_iter().flatten() {
        if !addresses.iter().any(|a| a.eq_ignore_ascii_case(&address)) {
            addresses.push(address);
        }
    }
    Ok((addresses, incomplete))
}

/// Why the lobby setting was not applied, with the join URL if it was learned.
struct Unapplied {
    join_url: Option<String>,
    reason: String,
}

/// Finds the event's join URL and online meeting, polling both until `until`, then patches the
/// lobby bypass and presenters. Graph errors other than "not there yet" end the attempt.
async fn apply_settings(
    caller_graph: &CallerGraph<'_>,
    settings: &MeetingSettings<'_>,
    event: &Event,
    until: Instant,
) -> Result<OnlineMeeting, Unapplied> {
    let mut wait = MEETING_POLL_FIRST_WAIT;
    let mut join_url = event.join_url().map(str::to_owned);
    let online = loop {
        if join_url.is_none() {
            join_url = caller_graph
                .event_join_url(&event.id)
                .await
                .map_err(|error| Unapplied {
                    join_url: None,
                    reason: format!("reading the event: {error}"),
                })?;
        }
        if let Some(url) = &join_url {
            match caller_graph.find_online_meeting(url).await {
                Ok(Some(online)) => break online,
                Ok(None) => {}
                Err(error) => {
                    return Err(Unapplied {
                        join_url,
                        reason: format!("finding the online meeting: {error}"),
                    });
                }
            }
        }
        if Instant::now() + wait >= until {
            return Err(Unapplied {
                join_url,
                reason: "the online meeting did not appear in time".to_owned(),
            });
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(MEETING_POLL_MAX_WAIT);
    };
    match caller_graph.update_settings(&online.id, settings).await {
        Ok(()) => Ok(online),
        Err(error) => Err(Unapplied {
            join_url: Some(online.join_web_url),
            reason: format!("updating the lobby: {error}"),
        }),
    }
}
