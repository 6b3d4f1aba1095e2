// The API reference page of the sandbox: reads /api/openapi.json (the document the handler
// serves) and renders every operation, schema and shared response as plain DOM. Everything in
// the document is data: it is put on the page with textContent, never as markup.

const SCHEMA_PREFIX = '#/components/schemas/';
const RESPONSE_PREFIX = '#/components/responses/';
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** An element with text and children. */
function el(name, { text, className, id, href } = {}, ...children) {
  const node = document.createElement(name);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  if (id) node.id = id;
  if (href) node.href = href;
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

/** Prose: paragraphs split on blank lines, `backticks` as code. */
function prose(text = '') {
  const fragment = document.createDocumentFragment();
  for (const paragraph of text.split(/\n\s*\n/)) {
    if (!paragraph.trim()) continue;
    const p = el('p');
    paragraph.split('`').forEach((part, i) => {
      p.append(i % 2 === 1 ? el('code', { text: part }) : document.createTextNode(part));
    });
    fragment.append(p);
  }
  return fragment;
}

/** The one-line form of a schema: its type or a link to it, and its constraints. */
function schemaSummary(schema = {}) {
  const span = el('span');
  if (schema.$ref) {
    const name = schema.$ref.slice(SCHEMA_PREFIX.length);
    span.append(el('a', { href: `#schema-${name}`, text: name }));
  } else if (schema.oneOf || schema.anyOf) {
    const word = schema.oneOf ? 'one of' : 'any of';
    span.append(`${word}: `);
    (schema.oneOf ?? schema.anyOf).forEach((item, i) => {
      if (i > 0) span.append(' | ');
      span.append(schemaSummary(item));
    });
  } else if (schema.allOf) {
    schema.allOf.forEach((item, i) => {
      if (i > 0) span.append(' with ');
      if (item.$ref || !item.properties) {
        span.append(schemaSummary(item));
        return;
      }
      // An inline part that narrows properties of the others, e.g. a problem's `code`.
      Object.entries(item.properties).forEach(([name, property], j) => {
        if (j > 0) span.append(', ');
        span.append(el('code', { text: name }), ' ', schemaSummary(property));
      });
    });
  } else if (schema.type === 'array') {
    span.append('array of ', schemaSummary(schema.items));
  } else {
    const type = Array.isArray(schema.type) ? schema.type.join(' | ') : schema.type ?? 'any';
    span.append(type);
  }
  for (const constraint of constraints(schema)) {
    span.append(' ', el('span', { className: 'constraint', text: constraint }));
  }
  return span;
}

function constraints(schema) {
  const out = [];
  const add = (key, label = key) => {
    if (schema[key] !== undefined) out.push(`${label} ${JSON.stringify(schema[key])}`);
  };
  add('format');
  add('enum');
  add('minLength');
  add('maxLength');
  add('minItems');
  add('maxItems');
  add('minimum');
  add('maximum');
  add('default');
  if (schema.pattern !== undefined) out.push(`pattern ${schema.pattern}`);
  if (schema.additionalProperties === false) out.push('no other properties');
  if (schema.not) out.push(`not ${JSON.stringify(schema.not)}`);
  return out;
}

/** The properties of an object schema as a table. */
function propertyTable(schema) {
  const table = el('table');
  table.append(el('tr', {}, el('th', { text: 'property' }), el('th', { text: 'type' }), el('th', { text: 'description' })));
  const required = new Set(schema.required ?? []);
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const nameCell = el('td', {}, el('code', { text: name }));
    if (required.has(name)) nameCell.append(' ', el('span', { className: 'required', text: 'required' }));
    const description = property.description ?? property.oneOf?.[0]?.description ?? '';
    table.append(el('tr', {}, nameCell, el('td', {}, schemaSummary(property)), el('td', {}, prose(description))));
  }
  return table;
}

/** An example value built from a schema's examples, enums and types. */
function exampleOf(schema, spec, depth = 0) {
  if (!schema || depth > 6) return null;
  if (schema.$ref) return exampleOf(spec.components.schemas[schema.$ref.slice(SCHEMA_PREFIX.length)], spec, depth + 1);
  if (schema.example !== undefined) return schema.example;
  if (schema.examples?.length) return schema.examples[0];
  if (schema.default !== undefined) return schema.default;
  if (schema.enum) return schema.enum[0];
  if (schema.allOf) return Object.assign({}, ...schema.allOf.map((s) => exampleOf(s, spec, depth + 1)).filter((v) => v && typeof v === 'object'));
  if (schema.oneOf || schema.anyOf) return exampleOf((schema.oneOf ?? schema.anyOf)[0], spec, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'object') {
    const value = {};
    for (const name of schema.required ?? []) value[name] = exampleOf(schema.properties?.[name], spec, depth + 1);
    return value;
  }
  if (type === 'array') return [exampleOf(schema.items, spec, depth + 1)];
  if (type === 'integer' || type === 'number') return schema.minimum ?? 1;
  if (type === 'boolean') return false;
  return 'text';
}

/** A curl line for the sandbox, with the banner's variables. */
function curlLine(path, method, operation, spec) {
  const parts = [`curl -s -X ${method.toUpperCase()} "$SANDBOX${path}`];
  const query = (operation.parameters ?? []).filter((p) => p.in === 'query' && p.required);
  if (query.length) parts[0] += `?${query.map((p) => `${p.name}=${encodeURIComponent(p.example ?? exampleOf(p.schema, spec))}`).join('&')}`;
  parts[0] = parts[0].replace('{id}', 'me') + '"';
  if (operation.security?.length) parts.push('-H "Authorization: Bearer $FIELD_WORKER_TOKEN"');
  const body = operation.requestBody?.content?.['application/json'];
  if (body) {
    parts.push("-H 'Content-Type: application/json'");
    parts.push(`-d '${JSON.stringify(exampleOf(body.schema, spec))}'`);
  }
  return parts.join(' \\\n  ');
}

function renderOperation(path, method, operation, spec) {
  const id = `op-${operation.operationId}`;
  const section = el('section', { className: 'operation', id });
  section.append(
    el('h3', {}, el('span', { className: `method ${method}`, text: method.toUpperCase() }), el('code', { text: path }), ` ${operation.operationId}`),
    el('p', {}, el('strong', { text: operation.summary ?? '' })),
    prose(operation.description),
  );
  const scopes = operation.security?.flatMap((requirement) => Object.entries(requirement)) ?? [];
  section.append(
    el('p', {
      text: scopes.length
        ? `Needs a bearer token: ${scopes.map(([scheme, s]) => `${scheme} (${s.join(', ')})`).join('; ')}.`
        : 'No authentication.',
    }),
  );
  if (operation.parameters?.length) {
    const table = el('table');
    table.append(el('tr', {}, el('th', { text: 'parameter' }), el('th', { text: 'in' }), el('th', { text: 'type' }), el('th', { text: 'description' })));
    for (const parameter of operation.parameters) {
      const name = el('td', {}, el('code', { text: parameter.name }));
      if (parameter.required) name.append(' ', el('span', { className: 'required', text: 'required' }));
      table.append(el('tr', {}, name, el('td', { text: parameter.in }), el('td', {}, schemaSummary(parameter.schema)), el('td', {}, prose(parameter.description))));
    }
    section.append(el('h4', { text: 'Parameters' }), table);
  }
  for (const [type, content] of Object.entries(operation.requestBody?.content ?? {})) {
    section.append(el('h4', { text: 'Request body' }), el('p', {}, el('code', { text: type }), ': ', schemaSummary(content.schema)));
    const body = content.schema.$ref ? spec.components.schemas[content.schema.$ref.slice(SCHEMA_PREFIX.length)] : content.schema;
    if (body?.properties) section.append(propertyTable(body));
  }
  const responses = el('table');
  responses.append(el('tr', {}, el('th', { text: 'status' }), el('th', { text: 'answer' }), el('th', { text: 'headers' })));
  for (const [status, response] of Object.entries(operation.responses ?? {})) {
    const shared = response.$ref?.slice(RESPONSE_PREFIX.length);
    const resolved = shared ? spec.components.responses[shared] : response;
    const answer = el('td');
    if (shared) answer.append(el('a', { href: `#response-${shared}`, text: shared }), ': ');
    answer.append(...[...prose(resolved.description).childNodes]);
    for (const [type, content] of Object.entries(resolved.content ?? {})) {
      answer.append(el('div', {}, el('code', { text: type }), ' ', schemaSummary(content.schema)));
    }
    const headers = el('td', { text: Object.keys(resolved.headers ?? {}).join(', ') });
    responses.append(el('tr', {}, el('td', { text: status }), answer, headers));
  }
  section.append(el('h4', { text: 'Responses' }), responses);
  section.append(el('h4', { text: 'Try it against the sandbox' }), el('pre', { text: curlLine(path, method, operation, spec) }));
  return section;
}

function renderSchema(name, schema) {
  const section = el('section', { className: 'schema', id: `schema-${name}` }, el('h3', {}, el('code', { text: name })));
  section.append(prose(schema.description));
  if (schema.properties) {
    section.append(propertyTable(schema));
  } else {
    section.append(el('p', {}, schemaSummary({ ...schema, description: undefined })));
  }
  if (schema.additionalProperties === false) section.append(el('p', { text: 'No other properties are accepted.' }));
  return section;
}

function renderResponse(name, response) {
  const section = el('section', { className: 'response', id: `response-${name}` }, el('h3', {}, el('code', { text: name })));
  section.append(prose(response.description));
  const headers = el('ul');
  for (const [header, spec] of Object.entries(response.headers ?? {})) {
    headers.append(el('li', {}, el('code', { text: header }), ': ', ...[...prose(spec.description).childNodes]));
  }
  section.append(headers);
  for (const [type, content] of Object.entries(response.content ?? {})) {
    section.append(el('p', {}, el('code', { text: type }), ' ', schemaSummary(content.schema)));
    for (const [code, example] of Object.entries(content.examples ?? {})) {
      section.append(el('p', {}, 'Example ', el('code', { text: code }), ':'), el('pre', { text: JSON.stringify(example.value, null, 2) }));
    }
  }
  return section;
}

function render(spec) {
  document.getElementById('title').textContent = spec.info.title;
  document.getElementById('version').textContent = spec.info.version;
  document.getElementById('openapi').textContent = spec.openapi;
  document.getElementById('description').append(prose(spec.info.description));
  const security = document.getElementById('security');
  for (const [name, scheme] of Object.entries(spec.components.securitySchemes ?? {})) {
    security.append(el('h3', {}, el('code', { text: name }), ` (${scheme.type})`), prose(scheme.description));
    for (const flow of Object.values(scheme.flows ?? {})) {
      for (const [scope, text] of Object.entries(flow.scopes ?? {})) {
        security.append(el('p', {}, 'Scope ', el('code', { text: scope }), ': ', ...[...prose(text).childNodes]));
      }
    }
  }
  const operations = document.getElementById('operations');
  const toc = document.getElementById('toc');
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      operations.append(renderOperation(path, method, operation, spec));
      toc.append(el('li', {}, el('a', { href: `#op-${operation.operationId}`, text: `${method.toUpperCase()} ${path}` })));
    }
  }
  const schemas = document.getElementById('schemas');
  const schemaToc = document.getElementById('toc-schemas');
  for (const [name, schema] of Object.entries(spec.components.schemas ?? {})) {
    schemas.append(renderSchema(name, schema));
    schemaToc.append(el('li', {}, el('a', { href: `#schema-${name}`, text: name })));
  }
  const responses = document.getElementById('responses');
  for (const [name, response] of Object.entries(spec.components.responses ?? {})) {
    responses.append(renderResponse(name, response));
  }
}

async function main() {
  const status = document.getElementById('status');
  try {
    const response = await fetch('/api/openapi.json', { credentials: 'omit' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    render(await response.json());
    status.textContent = '';
    status.hidden = true;
    document.getElementById('document').hidden = false;
    if (location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
  } catch (error) {
    status.textContent = `The description could not be loaded: ${error.message}`;
  }
}

main();
