// The only module that touches TeamsJS (@microsoft/teams-js, loaded from vendor/ as the global
// `microsoftTeams` before the modules run).

const sdk = globalThis.microsoftTeams;

/** TeamsJS never answers outside a Teams host; give up after this long. */
const INITIALIZE_TIMEOUT_MS = 8000;

export class NotInTeamsError extends Error {
  constructor() {
    super('This page must be opened inside Microsoft Teams (or the sandbox\'s emulated Teams host).');
    this.name = 'NotInTeamsError';
  }
}

/** initialize() then getContext(): the handful of facts the tab uses. */
export async function start(validMessageOrigins = []) {
  if (!sdk) {
    throw new NotInTeamsError();
  }
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new NotInTeamsError()), INITIALIZE_TIMEOUT_MS);
  });
  try {
    await Promise.race([sdk.app.initialize([...validMessageOrigins]), timeout]);
  } finally {
    clearTimeout(timer);
  }
  const context = await sdk.app.getContext();
  return {
    frameContext: context.page?.frameContext ?? 'content',
    tenantId: context.user?.tenant?.id ?? null,
    userObjectId: context.user?.id ?? null,
    loginHint: context.user?.loginHint ?? context.user?.userPrincipalName ?? null,
    meetingId: context.meeting?.id ?? null,
    /** In a meeting: the meeting's chat, where the tab's notifications go. */
    chatId: context.chat?.id ?? null,
    theme: context.app?.theme ?? 'default',
  };
}

/** In a meeting, how long to wait for its details before doing without them. */
const MEETING_DETAILS_TIMEOUT_MS = 5000;

/**
 * In a meeting: `{ title, organizer: { id, tenantId } | null }` from meeting.getMeetingDetails,
 * or null when Teams does not answer it (the app lacks the meeting's resource-specific consent,
 * or an older client): the tab then does without.
 */
export function meetingDetails() {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), MEETING_DETAILS_TIMEOUT_MS);
    const done = (value) => {
      clearTimeout(timer);
      resolve(value);
    };
    try {
      sdk.meeting.getMeetingDetails((error, answer) => {
        if (error || !answer) {
          done(null);
          return;
        }
        const organizer = answer.organizer?.id ? { id: answer.organizer.id, tenantId: answer.organizer.tenantId ?? null } : null;
        done({ title: answer.details?.title ?? null, organizer });
      });
    } catch {
      done(null);
    }
  });
}

/**
 * A fresh SSO token for this app's API, asked for on every call and never kept: Teams caches
 * and renews it. `claims` answers a Conditional Access challenge (interaction_required).
 */
export function ssoToken({ claims = null } = {}) {
  return sdk.authentication.getAuthToken(claims ? { claims: [claims] } : undefined);
}

/** Opens `url` (an https page of this tab) in the host's sign-in window. */
export function openAuthWindow(url) {
  return sdk.authentication.authenticate({ url, width: 600, height: 535 });
}

/** In the sign-in window: report back to the tab, which closes the window. */
export function notifySuccess(result) {
  sdk.authentication.notifySuccess(result);
}

export function notifyFailure(reason) {
  sdk.authentication.notifyFailure(reason);
}

/** On the configuration page: Save adds the tab at `contentUrl`. */
export function offerTabConfiguration({ contentUrl, suggestedDisplayName }) {
  sdk.pages.config.registerOnSaveHandler((saveEvent) => {
    sdk.pages.config
      .setConfig({ entityId: 'remote-expert', contentUrl, websiteUrl: contentUrl, suggestedDisplayName })
      .then(() => saveEvent.notifySuccess(), (error) => saveEvent.notifyFailure(String(error?.message ?? error)));
  });
  sdk.pages.config.setValidityState(true);
}
