// Links made from what an API answered. Graph's values are data: a join URL becomes a link only
// when it parses as https, so a javascript:, data: or plain-http value can never become one.

/** `value` as an absolute https URL, or null. */
export function httpsUrl(value) {
  if (typeof value !== 'string') return null;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}
