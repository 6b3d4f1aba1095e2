// Every problem code, in words and an action for a person: the one place that does this.
// Pure (no DOM), so tests can check every code; screens/problem-panel.js shows the result.

/** When the API's Retry-After cannot be read (a cross-origin answer exposes it only if the
 * platform's CORS lists it), wait this long before offering to try again. */
export const FALLBACK_RETRY_SECONDS = { throttled: 30, unavailable: 10 };

/** "https://graph.microsoft.com/Chat.Create" -> "Chat.Create". */
export function readableScope(scope) {
  const last = scope.split('/').filter(Boolean).pop();
  return last ?? scope;
}

/**
 * { title, message, action: null | { kind: 'consent' | 'sign-in' | 'retry' | 'reload', label },
 *   waitSeconds } for a problem (an ApiProblem, or a plain { code, detail, … }).
 */
export function explain(problem) {
  const detail = problem.detail ? ` (${problem.detail})` : '';
  const wait = (code) => problem.retryAfter ?? FALLBACK_RETRY_SECONDS[code];
  const retry = { kind: 'retry', label: 'Try again' };
  switch (problem.code) {
    case 'consent_required': {
      const scopes = (problem.scopes ?? []).map(readableScope);
      const what = scopes.length ? ` (${scopes.join(', ')})` : '';
      return {
        title: 'Permissions needed',
        message: `Remote Expert needs your permission to work with Teams on your behalf${what}. Grant it once; an administrator can also grant it for your whole organization.`,
        action: { kind: 'consent', label: 'Grant permissions' },
      };
    }
    case 'consent_declined':
      return {
        title: 'Permissions not granted',
        message: `The permissions were not granted${detail}. Remote Expert cannot continue without them.`,
        action: { kind: 'consent', label: 'Grant permissions' },
      };
    case 'consent_needs_https':
      return {
        title: 'Permissions needed',
        message: 'Teams opens the permission window only for pages served over https, and this page is not. An administrator of your organization can grant the permissions for everyone instead, then try again.',
        action: retry,
      };
    case 'service_principal_missing':
      return {
        title: 'Not set up in your organization',
        message: `Calling from Teams is not set up in your organization yet. Ask your IT administrator to set up Azure Communication Services for it${detail}.`,
        action: null,
      };
    case 'interaction_required':
      return {
        title: 'Sign in again',
        message: 'Your organization asks you to confirm your sign-in (for example with multi-factor authentication) before this can continue.',
        action: { kind: 'sign-in', label: 'Sign in again' },
      };
    case 'tenant_not_allowed':
      return {
        title: 'Your organization cannot use Remote Expert',
        message: 'Your organization is not on the list of organizations this Remote Expert service works for. Ask your IT administrator to have it added.',
        action: null,
      };
    case 'insufficient_scope':
      return {
        title: 'Opened from the wrong app',
        message: 'Remote Expert was opened from an app that may not use it. Open it from Microsoft Teams.',
        action: null,
      };
    case 'invalid_token':
      return {
        title: 'Sign-in not accepted',
        message: 'Your sign-in could not be verified; it may have expired. Reload the tab. If this keeps happening, sign out of Teams and back in.',
        action: { kind: 'reload', label: 'Reload' },
      };
    case 'throttled':
      return {
        title: 'Too many requests',
        message: 'Microsoft 365 is asking us to slow down.',
        action: retry,
        waitSeconds: wait('throttled'),
      };
    case 'unavailable':
      return {
        title: 'Service unavailable',
        message: 'A service Remote Expert depends on cannot be reached right now.',
        action: retry,
        waitSeconds: wait('unavailable'),
      };
    case 'upstream_timeout':
      return {
        title: 'No answer in time',
        message: 'Microsoft 365 took too long to answer. Nothing was lost; try again.',
        action: retry,
      };
    case 'request_timeout':
      return {
        title: 'Connection too slow',
        message: 'The request took too long to reach Remote Expert. Check your connection and try again.',
        action: retry,
      };
    case 'upstream_error':
      return {
        title: 'Microsoft 365 refused',
        message: `Microsoft 365 refused the request${detail}. Try again; if it keeps failing, tell your administrator.`,
        action: retry,
      };
    case 'bad_request':
      return {
        title: 'Not accepted',
        message: `The request was not accepted${detail}.`,
        action: null,
      };
    case 'not_found':
      return {
        title: 'Not found',
        message: `That was not found${detail}.`,
        action: null,
      };
    case 'payload_too_large':
      return {
        title: 'Too long',
        message: 'That is too much to send at once. Shorten the message and send it again.',
        action: null,
      };
    case 'network':
      return {
        title: 'Cannot reach Remote Expert',
        message: 'The Remote Expert service cannot be reached from this page. Check your connection. If it persists, the service may not accept calls from this page\'s address (its CORS settings).',
        action: retry,
      };
    case 'sso_failed':
      return {
        title: 'Teams could not sign you in',
        message: `Teams could not sign you in to Remote Expert${detail}.`,
        action: retry,
      };
    case 'method_not_allowed':
    case 'internal':
    case 'unexpected_response':
    default:
      return {
        title: 'Something went wrong',
        message: `Remote Expert had an unexpected problem${problem.status ? ` (HTTP ${problem.status})` : ''}. Try again later.`,
        action: retry,
      };
  }
}
