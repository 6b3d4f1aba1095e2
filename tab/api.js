// The only module that calls fetch. Every API call asks Teams for a fresh SSO token (never stored),
// and every error becomes one type, ApiProblem, whose `code` is the contract's (docs/api.md, Errors):
// problem+json answers keep theirs; a refused SSO token, an unreachable API and an answer that
// is not problem+json get codes of their own (sso_failed, network, unexpected_response).

export class ApiProblem extends Error {
  constructor({ status = 0, code, title = '', detail = '', scopes = [], claims = null, retryAfter = null }) {
    super(detail || title || code);
    this.name = 'ApiProblem';
    this.status = status;
    this.code = code;
    this.title = title;
    this.detail = detail;
    this.scopes = scopes;
    this.claims = claims;
    /** Seconds, when the answer said (only readable when the API exposes Retry-After). */
    this.retryAfter = retryAfter;
  }
}

/** A file served next to the pages (config.json): no token, no cookies, not cached stale. */
export function fetchPageFile(url) {
  return globalThis.fetch(url, { cache: 'no-cache', credentials: 'omit' });
}

/** `Retry-After` as seconds: delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value, now = Date.now()) {
  if (value === null || value === undefined || value === '') return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now) / 1000));
}

/** An ApiProblem from a failed answer. */
export async function problemFrom(response) {
  const retryAfter = parseRetryAfter(response.headers.get('Retry-After'));
  const type = response.headers.get('Content-Type') ?? '';
  if (type.startsWith('application/problem+json')) {
    try {
      const body = await response.json();
      if (typeof body.code === 'string') {
        return new ApiProblem({
          status: response.status,
          code: body.code,
          title: typeof body.title === 'string' ? body.title : '',
          detail: typeof body.detail === 'string' ? body.detail : '',
          scopes: Array.isArray(body.scopes) ? body.scopes.filter((s) => typeof s === 'string') : [],
          claims: typeof body.claims === 'string' ? body.claims : null,
          retryAfter,
        });
      }
    } catch {
      // fall through: not the problem document it claimed to be
    }
  }
  return new ApiProblem({ status: response.status, code: 'unexpected_response', detail: `HTTP ${response.status}`, retryAfter });
}

/**
 * The API of docs/api.md. `getToken({claims})` is teams.ssoToken. Every method takes options:
 * `consentRetry` (the user has just consented: the handler then retries the on-behalf-of
 * exchange), `claims` (a claims challenge to pass to Teams), `signal` (to cancel).
 */
export function createApi({ baseUrl, getToken, fetch: fetchImpl = globalThis.fetch.bind(globalThis) }) {
  async function call(method, path, { body, consentRetry = false, claims = null, signal, as = 'json' } = {}) {
    let token;
    try {
      token = await getToken({ claims });
    } catch (error) {
      throw new ApiProblem({ code: 'sso_failed', detail: String(error?.message ?? error) });
    }
    const headers = { Authorization: `Bearer ${token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (consentRetry) headers['x-consent-retry'] = '1';
    let response;
    try {
      response = await fetchImpl(`${baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        credentials: 'omit',
      });
    } catch (error) {
      if (error?.name === 'AbortError') throw error;
      // A refused CORS answer looks exactly like an unreachable server from here.
      throw new ApiProblem({ code: 'network', detail: String(error?.message ?? error) });
    }
    if (!response.ok) throw await problemFrom(response);
    return as === 'blob' ? response.blob() : response.json();
  }

  const user = (id) => `/api/users/${encodeURIComponent(id)}`;
  return {
    whoAmI: (options) => call('POST', '/api/token/validate', options),
    searchContacts: (q, top, options) =>
      call('GET', `/api/contacts?${new URLSearchParams({ q, top: String(top) })}`, options),
    profile: (id, options) => call('GET', user(id), options),
    photo: (id, options) => call('GET', `${user(id)}/photo`, { ...options, as: 'blob' }),
    createMeeting: (meeting, options) => call('POST', '/api/meetings', { ...options, body: meeting }),
    notifyChat: (notification, options) => call('POST', '/api/notifications/chat', { ...options, body: notification }),
    acsToken: (options) => call('POST', '/api/acs/token', options),
  };
}
