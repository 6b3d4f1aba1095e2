// Renders the envelopes the emulated Application Insights accepted as a waterfall per request.
// Everything is data: rendered with DOM APIs and textContent only.

const list = document.getElementById('requests');
const status = document.getElementById('status');

/** "d.hh:mm:ss.ffffff" (the ingestion schema's duration) in milliseconds. */
function durationMs(text) {
  const match = /^(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(text || '');
  if (!match) return 0;
  const [, days, hours, minutes, seconds] = match;
  return ((Number(days || 0) * 24 + Number(hours)) * 60 + Number(minutes)) * 60000 + Number(seconds) * 1000;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function row(name, detail, start, duration, span, classes) {
  const line = el('div', 'row');
  line.append(el('span', 'name', name), el('span', 'meta', detail));
  const lane = el('div', 'lane');
  const bar = el('div', `bar ${classes}`);
  bar.style.left = `${(100 * start) / span}%`;
  bar.style.width = `${Math.max((100 * duration) / span, 0.3)}%`;
  bar.title = `${duration.toFixed(1)} ms after ${start.toFixed(1)} ms`;
  lane.append(bar);
  line.append(lane);
  return line;
}

function render(envelopes) {
  const handler = envelopes.filter((e) => e.tags && e.tags['ai.cloud.role'] === 'remote-expert-handler');
  // Unmatched successes are the sandbox's own pages (this one polling included), not functions.
  const requests = handler.filter(
    (e) => e.data.baseType === 'RequestData' && !(e.data.baseData.name === 'unmatched' && e.data.baseData.success),
  );
  const dependencies = handler.filter((e) => e.data.baseType === 'RemoteDependencyData');
  list.replaceChildren();
  if (requests.length === 0) {
    list.append(el('p', '', 'No request yet: use the tab in the emulated Teams host, then come back.'));
    return;
  }
  requests.sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
  for (const request of requests) {
    const data = request.data.baseData;
    const props = data.properties || {};
    const start = Date.parse(request.time);
    const total = durationMs(data.duration);
    const children = dependencies
      .filter((d) => d.tags['ai.operation.parentId'] === data.id)
      .sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
    const span = Math.max(total, ...children.map((d) => Date.parse(d.time) - start + durationMs(d.data.baseData.duration)), 1);
    const section = el('section', data.success ? 'request' : 'request failed');
    const heading = el('h2');
    heading.append(
      el('span', '', data.name),
      el('span', data.success ? 'ok' : 'bad', `${data.responseCode} ${props.outcome || ''}`),
      el('span', 'meta', `${total.toFixed(1)} ms · ${new Date(start).toLocaleTimeString()} · tenant ${props.tenant_id || '-'} · operation ${request.tags['ai.operation.id']}`),
    );
    section.append(heading);
    section.append(row(data.name, `${total.toFixed(1)} ms`, 0, total, span, data.success ? 'request' : 'request failed'));
    for (const dependency of children) {
      const d = dependency.data.baseData;
      const dp = d.properties || {};
      const retries = dp['http.request.resend_count'] ? ` · ${dp['http.request.resend_count']} retries` : '';
      const line = row(
        d.name,
        `${d.resultCode || '-'} · ${durationMs(d.duration).toFixed(1)} ms`,
        Date.parse(dependency.time) - start,
        durationMs(d.duration),
        span,
        d.success === false ? 'failed' : '',
      );
      line.title = `${dp['peer.service'] || ''} ${d.target || ''}${retries}${dp.request_id ? ` · request id ${dp.request_id}` : ''}`;
      section.append(line);
    }
    if (children.length === 0) section.append(el('p', 'meta', 'No dependency call.'));
    list.append(section);
  }
}

async function refresh() {
  try {
    const answer = await fetch('envelopes.json', { cache: 'no-store' });
    if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
    const envelopes = await answer.json();
    render(envelopes);
    status.textContent = `${envelopes.length} items, updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    status.textContent = `Could not read the telemetry: ${error.message}`;
  }
}

document.getElementById('refresh').addEventListener('click', refresh);
setInterval(() => {
  if (document.getElementById('auto').checked) refresh();
}, 3000);
refresh();
