// The tab's configuration: one small file, config.json, next to the pages.
//
// It is written at deployment (scripts/deploy/stage_tab.py) or served by the sandbox, never taken from
// the page's query string: a link that could point apiBaseUrl elsewhere would hand the user's
// SSO token to whoever wrote the link.

import { fetchPageFile } from './api.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export class ConfigError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Fetches and checks config.json relative to `base` (the page). */
export async function loadConfig(base = document.baseURI, fetchImpl = fetchPageFile) {
  let response;
  try {
    response = await fetchImpl(new URL('config.json', base));
  } catch (error) {
    throw new ConfigError(`config.json could not be loaded (${error.message}).`);
  }
  if (!response.ok) {
    throw new ConfigError(`config.json is missing (HTTP ${response.status}): see tab/README.md.`);
  }
  let raw;
  try {
    raw = await response.json();
  } catch {
    throw new ConfigError('config.json is not JSON.');
  }
  return validateConfig(raw);
}

/** An https URL, or http on a loopback host (the sandbox and local development). */
function endpoint(value, name) {
  let url;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} is not a URL.`);
  }
  const loopbackHttp = url.protocol === 'http:' && LOOPBACK.has(url.hostname);
  if (url.protocol !== 'https:' && !loopbackHttp) {
    throw new ConfigError(`${name} must be https (http only on 127.0.0.1 or localhost).`);
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new ConfigError(`${name} must be a plain base URL.`);
  }
  return url.href.replace(/\/+$/, '');
}

function text(value, name, { optional = false } = {}) {
  if (value === undefined || value === null) {
    if (optional) return null;
    throw new ConfigError(`${name} is missing.`);
  }
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigError(`${name} must be a non-empty string.`);
  }
  return value;
}

function guid(value, name) {
  if (typeof value !== 'string' || !GUID.test(value)) {
    throw new ConfigError(`${name} must be a GUID.`);
  }
  return value.toLowerCase();
}

/** Checks every field and returns a frozen, normalized copy. */
export function validateConfig(raw) {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError('config.json must hold an object.');
  }
  const origins = raw.validMessageOrigins ?? [];
  if (!Array.isArray(origins) || origins.some((o) => typeof o !== 'string')) {
    throw new ConfigError('validMessageOrigins must be a list of origins.');
  }
  const experts = raw.partnerExperts ?? [];
  if (!Array.isArray(experts)) {
    throw new ConfigError('partnerExperts must be a list.');
  }
  const partnerExperts = experts.map((expert, i) => {
    const name = `partnerExperts[${i}]`;
    if (typeof expert !== 'object' || expert === null) {
      throw new ConfigError(`${name} must be an object.`);
    }
    return Object.freeze({
      userId: guid(expert.userId, `${name}.userId`),
      tenantId: guid(expert.tenantId, `${name}.tenantId`),
      displayName: text(expert.displayName, `${name}.displayName`),
      mail: text(expert.mail, `${name}.mail`, { optional: true }),
      jobTitle: text(expert.jobTitle, `${name}.jobTitle`, { optional: true }),
      organization: text(expert.organization, `${name}.organization`, { optional: true }),
    });
  });
  return Object.freeze({
    apiBaseUrl: endpoint(raw.apiBaseUrl, 'apiBaseUrl'),
    clientId: guid(raw.clientId, 'clientId'),
    authority: endpoint(raw.authority ?? 'https://login.microsoftonline.com', 'authority'),
    validMessageOrigins: Object.freeze([...origins]),
    partnerExperts: Object.freeze(partnerExperts),
    sandbox: raw.sandbox === true,
  });
}
