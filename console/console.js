// Tollgate console: the management API (/v1) in a page, no framework, no build step.
//
// - Signing in is client_credentials at /{envID}/as/token with HTTP Basic (RFC 6749 §2.3.1).
//   The access token lives in `session` below, a variable of this module: never in
//   localStorage, sessionStorage or a cookie. A reload signs out; a 401 from /v1 too.
// - The page's CSP allows only its own scripts and styles, and connections to its own origin:
//   no inline script, handler or style here. The DOM is built with createElement and
//   textContent; nothing the server sends is ever parsed as HTML.

'use strict';

// ---------------------------------------------------------------------------------------------
// State

let session = null; // {token, envId, clientId, expiresAt} while signed in
let expiryTimer = null;

const state = {
  gen: 0, // bumped on every environment switch and sign-out: answers of an older one are dropped
  environments: [],
  envId: null,
  env: null,
  tab: 'applications',
  roles: null, // /v1/roles, read once per session
  resources: null, // of the current environment
  scopes: new Map(), // resource id -> scopes, of the current environment
  appId: null,
  resourceId: null,
  activities: null, // the activities pager, see loadActivities
};

const ACTIVITY_CHUNK = 50; // rows shown at once
const ACTIVITY_PAGE = 1000; // activities asked per request while looking for the newest
const ACTIVITY_MAX_PAGES = 100; // at most this many requests to find the newest page

const ACTION_TYPES = [
  'ENVIRONMENT', 'APPLICATION', 'RESOURCE', 'SCOPE', 'GRANT', 'ROLE_ASSIGNMENT', 'KEY',
  'KEY_ROTATION_POLICY',
].flatMap((t) => [`${t}.CREATED`, `${t}.UPDATED`, `${t}.DELETED`]).concat([
  'SECRET.READ', 'SECRET.UPDATED', 'APPLICATION.TOKENS_REVOKED', 'ACCESS_TOKEN.ISSUED',
  'ACCESS_TOKEN.INTROSPECTED', 'ACCESS_TOKEN.REVOKED',
]);

// ---------------------------------------------------------------------------------------------
// DOM helpers

const $ = (id) => document.getElementById(id);

// h('tr', {class, text, dataset, testid, on<event>, <attribute>...}, ...children)
function h(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = String(v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k === 'testid') e.dataset.testid = v;
    else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'checked' || k === 'value' || k === 'selected') e[k] = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

function clear(node) {
  node.replaceChildren();
  return node;
}

function show(node, visible = true) {
  node.hidden = !visible;
}

// <html data-pending="N">: how many of the page's tasks (a user action and the loads it starts)
// are still running; "0" when the page is settled (automation waits for it).
let pending = 0;
function track(result) {
  if (!result || typeof result.then !== 'function') return result;
  document.documentElement.dataset.pending = String(++pending);
  const done = () => {
    document.documentElement.dataset.pending = String(--pending);
  };
  result.then(done, done);
  return result;
}

// addEventListener whose (async) handler is tracked.
function on(node, type, handler) {
  node.addEventListener(type, (event) => track(handler(event)));
}

function fmtTime(value) {
  if (!value) return '';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return d.toISOString().replace('T', ' ').replace('Z', ' UTC');
}

function emptyRow(colspan, text) {
  return h('tr', {}, h('td', { class: 'empty', colspan, text }));
}

// A destructive button asks twice: the first click arms it ("Click again to ..."), the second
// runs `action`. Any other click on the page disarms it.
function armedButton(button, confirmText, action) {
  const label = button.textContent;
  const disarm = () => {
    delete button.dataset.armed;
    button.classList.remove('armed');
    button.textContent = label;
  };
  button.addEventListener('click', (event) => {
    if (button.dataset.armed) {
      disarm();
      track(action());
      return;
    }
    event.stopPropagation();
    disarmAll();
    button.dataset.armed = '1';
    button.classList.add('armed');
    button.textContent = confirmText;
  });
  button.disarm = disarm;
  armable.add(button);
  return button;
}
const armable = new Set();
function disarmAll() {
  for (const b of armable) {
    if (!b.isConnected) armable.delete(b);
    else if (b.dataset.armed) b.disarm();
  }
}
document.addEventListener('click', disarmAll);

// ---------------------------------------------------------------------------------------------
// Status line: the outcome of the last action (errors with the API's message and details)

let statusSeq = 0;

function showStatus(kind, text, details = []) {
  const box = $('status');
  clear(box);
  box.dataset.kind = kind;
  box.dataset.seq = String(++statusSeq);
  box.append(h('div', { class: 'status-text', text }));
  if (details.length) box.append(h('ul', {}, details.map((d) => h('li', { text: d }))));
  show(box);
}

function showOk(text) {
  showStatus('ok', text);
}

function clearStatus() {
  const box = $('status');
  clear(box);
  delete box.dataset.kind;
  show(box, false);
}

class ApiError extends Error {
  constructor(status, body, fallback) {
    const message = body && typeof body.message === 'string' ? body.message : fallback;
    super(message);
    this.status = status;
    this.body = body;
  }

  get details() {
    const details = this.body && Array.isArray(this.body.details) ? this.body.details : [];
    return details.map((d) => [d.code, d.target].filter(Boolean).join(' on ') +
      (d.message ? `: ${d.message}` : ''));
  }
}

class SignedOut extends Error {}

function showError(err, what) {
  if (err instanceof SignedOut) return; // the sign-in form says why
  if (err instanceof ApiError) {
    const code = err.body && err.body.code ? ` ${err.body.code}` : '';
    showStatus('error', `${what ? what + ': ' : ''}${err.status}${code}: ${err.message}`,
      err.details);
  } else {
    showStatus('error', `${what ? what + ': ' : ''}${err && err.message ? err.message : err}`);
  }
}

// Runs `fn` with `button` disabled meanwhile; errors go to the status line.
async function busy(button, what, fn) {
  if (button) button.disabled = true;
  try {
    return await fn();
  } catch (err) {
    showError(err, what);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// The management API

// A path under /v1 from an absolute `_links` href (the server builds them from the Host the
// request carried; the page only ever talks to its own origin).
function apiPath(href) {
  const u = new URL(href, location.origin);
  const at = u.pathname.indexOf('/v1/'); // behind a proxy the API may sit under a prefix
  return (at >= 0 ? u.pathname.slice(at + 3) : u.pathname) + u.search;
}

async function api(method, path, body) {
  if (!session) throw new SignedOut('signed out');
  const token = session.token;
  const headers = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
  const init = { method, headers, cache: 'no-store', credentials: 'omit', redirect: 'error' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(`/v1${path}`, init);
  let data = null;
  const text = await resp.text(); // read to its end, even an empty 204
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (resp.status === 401) {
    // Only if this is still the token of the session (not an answer to an older one).
    if (session && session.token === token) {
      const msg = (data && data.message ? data.message : 'the token was refused')
        .replace(/\.$/, '');
      signOut(`Signed out: the management API answered 401 (${msg}). Sign in again.`);
    }
    throw new SignedOut('401');
  }
  if (!resp.ok) throw new ApiError(resp.status, data, `${resp.status} ${resp.statusText}`);
  return data;
}

function items(list, collection) {
  return (list && list._embedded && list._embedded[collection]) || [];
}

// Every page of a list (following _links.next).
async function allItems(path, collection) {
  const out = [];
  let next = path;
  for (let hops = 0; next && hops < 1000; hops++) {
    const page = await api('GET', next);
    out.push(...items(page, collection));
    next = page && page._links && page._links.next ? apiPath(page._links.next.href) : null;
  }
  return out;
}

// The body of a PUT: everything the GET answered but its links (PUT replaces every writable
// field; the server ignores the read-only ones).
function writable(obj) {
  const copy = { ...obj };
  delete copy._links;
  return copy;
}

const enc = encodeURIComponent;
const envPath = (envId = state.envId) => `/environments/${enc(envId)}`;
const appPath = (appId = state.appId) => `${envPath()}/applications/${enc(appId)}`;
const resourcePath = (resId = state.resourceId) => `${envPath()}/resources/${enc(resId)}`;

// ---------------------------------------------------------------------------------------------
// Signing in and out

// application/x-www-form-urlencoded, as RFC 6749 §2.3.1 wants for the Basic credentials.
function formEncode(value) {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

async function signIn(event) {
  event.preventDefault();
  const envId = $('env-id').value.trim();
  const clientId = $('client-id').value.trim();
  const secret = $('client-secret').value;
  const errorBox = $('signin-error');
  show(errorBox, false);
  if (!envId || !clientId || !secret) {
    errorBox.textContent = 'Environment ID, client ID and client secret are all required.';
    show(errorBox);
    return;
  }
  const button = $('sign-in');
  button.disabled = true;
  try {
    const resp = await fetch(`/${enc(envId)}/as/token`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${btoa(`${formEncode(clientId)}:${formEncode(secret)}`)}`,
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json',
      },
      body: 'grant_type=client_credentials',
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
    });
    let body = null;
    try {
      body = await resp.json();
    } catch {
      body = null;
    }
    if (!resp.ok || !body || typeof body.access_token !== 'string') {
      const text = body && (body.error_description || body.error);
      errorBox.textContent = text ? String(text) : `The token endpoint answered ${resp.status}.`;
      errorBox.dataset.status = String(resp.status);
      show(errorBox);
      return;
    }
    $('client-secret').value = ''; // the secret leaves the page once signed in
    session = {
      token: body.access_token,
      envId,
      clientId,
      expiresAt: Date.now() + (Number(body.expires_in) || 3600) * 1000,
    };
    startSession();
  } catch (err) {
    errorBox.textContent = `Could not reach the token endpoint: ${err.message}`;
    show(errorBox);
  } finally {
    button.disabled = false;
  }
}

function startSession() {
  show($('signin-view'), false);
  show($('main-view'));
  show($('session-info'));
  $('session-label').textContent =
    `${session.clientId} · token until ${new Date(session.expiresAt).toLocaleTimeString()}`;
  scheduleExpiry();
  state.roles = null;
  track(loadEnvironments(session.envId));
}

// Signs out when the token expires (a timer fires at most 2^31-1 ms ahead: re-armed until then).
function scheduleExpiry() {
  clearTimeout(expiryTimer);
  if (!session) return;
  const left = session.expiresAt - Date.now();
  if (left <= 0) {
    signOut('Signed out: the token expired. Sign in again.');
    return;
  }
  expiryTimer = setTimeout(scheduleExpiry, Math.min(left, 2 ** 31 - 1));
}

function signOut(message) {
  session = null;
  clearTimeout(expiryTimer);
  state.gen++;
  Object.assign(state, {
    environments: [], envId: null, env: null, roles: null, resources: null, appId: null,
    resourceId: null, activities: null,
  });
  state.scopes.clear();
  // Nothing of the session stays in the page: lists, the revealed secret, forms.
  for (const id of ['env-list', 'app-list', 'grant-list', 'role-list', 'resource-list',
    'scope-list', 'key-list', 'activity-list', 'grant-resource', 'role-role', 'role-scope']) {
    clear($(id));
  }
  clearSecret();
  for (const form of $('main-view').querySelectorAll('form')) form.reset();
  for (const id of ['app-detail', 'resource-detail', 'env-head', 'tabs', 'main-view',
    'session-info']) {
    show($(id), false);
  }
  for (const panel of document.querySelectorAll('.panel')) show(panel, false);
  clearStatus();
  $('session-label').textContent = '';
  show($('signin-view'));
  const errorBox = $('signin-error');
  if (message) {
    errorBox.textContent = message;
    delete errorBox.dataset.status;
    show(errorBox);
  } else {
    show(errorBox, false);
  }
  $('client-secret').focus();
}

// ---------------------------------------------------------------------------------------------
// Environments

async function loadEnvironments(selectId) {
  const gen = state.gen;
  try {
    const envs = await allItems('/environments', 'environments');
    if (gen !== state.gen) return;
    state.environments = envs;
    renderEnvironments();
    const pick = envs.find((e) => e.id === selectId) || envs.find((e) => e.id === state.envId) ||
      envs[0];
    if (pick && pick.id !== state.envId) selectEnvironment(pick.id);
    else if (pick) renderEnvHead();
    else showStatus('error', 'This application reaches no environment.');
  } catch (err) {
    showError(err, 'Environments');
  }
}

function renderEnvironments() {
  const list = clear($('env-list'));
  if (!state.environments.length) list.append(h('li', { class: 'empty', text: 'None' }));
  for (const env of state.environments) {
    const selected = env.id === state.envId;
    list.append(h('li', {
      class: selected ? 'selected' : '', testid: 'env-item',
      dataset: { id: env.id, name: env.name }, 'aria-current': selected ? 'true' : null,
    }, h('button', {
      type: 'button', class: 'link grow', text: env.name, testid: 'env-open',
      onclick: () => selectEnvironment(env.id),
    }), h('span', { class: 'badge', text: env.type })));
  }
}

function renderEnvHead() {
  const env = state.environments.find((e) => e.id === state.envId);
  state.env = env || null;
  if (!env) return;
  show($('env-head'));
  $('env-title').textContent = env.name;
  $('env-meta').textContent = `${env.type} · ${env.region}`;
  $('env-title-id').textContent = env.id;
  $('env-head').dataset.envId = env.id;
  $('env-rename-name').value = env.name;
}

function selectEnvironment(envId) {
  state.gen++;
  state.envId = envId;
  Object.assign(state, { resources: null, appId: null, resourceId: null, activities: null });
  state.scopes.clear();
  clearSecret();
  clearStatus();
  $('activity-filter-form').reset(); // its object IDs were the other environment's
  renderEnvironments();
  renderEnvHead();
  show($('tabs'));
  show($('app-detail'), false);
  show($('resource-detail'), false);
  selectTab(state.tab);
}

async function createEnvironment(event) {
  event.preventDefault();
  const name = $('env-create-name').value.trim();
  if (!name) return showStatus('error', 'An environment needs a name.');
  await busy($('env-create'), 'Create environment', async () => {
    const env = await api('POST', '/environments', { name, type: $('env-create-type').value });
    $('env-create-name').value = '';
    await loadEnvironments(env.id);
    showOk(`Created environment ${env.name}.`);
  });
}

async function renameEnvironment(event) {
  event.preventDefault();
  const name = $('env-rename-name').value.trim();
  if (!name) return showStatus('error', 'An environment needs a name.');
  const envId = state.envId;
  await busy($('env-rename'), 'Rename environment', async () => {
    const current = await api('GET', envPath(envId));
    const env = await api('PUT', envPath(envId), { ...writable(current), name });
    await loadEnvironments(envId);
    showOk(`Renamed the environment to ${env.name}.`);
  });
}

// ---------------------------------------------------------------------------------------------
// Tabs

function selectTab(tab) {
  if (tab !== state.tab) clearStatus();
  state.tab = tab;
  for (const button of document.querySelectorAll('.tab')) {
    button.setAttribute('aria-selected', String(button.dataset.tab === tab));
  }
  for (const panel of document.querySelectorAll('.panel')) show(panel, panel.id === `panel-${tab}`);
  if (!state.envId) return;
  if (tab === 'applications') {
    // Resources and scopes may have changed in their tab: the grant form reads them afresh.
    state.resources = null;
    state.scopes.clear();
    track(loadApplications());
  } else if (tab === 'resources') track(loadResources());
  else if (tab === 'keys') track(loadKeys());
  else if (tab === 'activities') track(loadActivities());
}

// ---------------------------------------------------------------------------------------------
// Applications

async function loadApplications(selectId = state.appId) {
  const gen = state.gen;
  const body = $('app-list');
  body.dataset.loading = '1';
  try {
    const apps = await allItems(`${envPath()}/applications`, 'applications');
    if (gen !== state.gen) return;
    clear(body);
    if (!apps.length) body.append(emptyRow(3, 'No application yet'));
    for (const app of apps) {
      body.append(h('tr', {
        testid: 'app-row', dataset: { id: app.id, name: app.name },
        class: app.id === selectId ? 'selected' : '',
      },
      h('td', {}, h('button', {
        type: 'button', class: 'link', text: app.name, testid: 'app-open',
        onclick: () => track(openApplication(app.id)),
      })),
      h('td', { text: app.type }),
      h('td', {}, h('span', {
        class: app.enabled ? 'badge ok' : 'badge bad', text: app.enabled ? 'enabled' : 'disabled',
      }))));
    }
    body.dataset.loaded = String(Date.now());
    if (selectId && apps.some((a) => a.id === selectId)) {
      await openApplication(selectId);
    } else {
      state.appId = null;
      show($('app-detail'), false);
    }
  } catch (err) {
    showError(err, 'Applications');
  } finally {
    delete body.dataset.loading;
  }
}

function markSelectedRow(tbodyId, id) {
  for (const tr of $(tbodyId).querySelectorAll('tr[data-id]')) {
    tr.classList.toggle('selected', tr.dataset.id === id);
  }
}

async function openApplication(appId) {
  const gen = state.gen;
  if (state.appId !== appId) clearSecret();
  state.appId = appId;
  markSelectedRow('app-list', appId);
  const detail = $('app-detail');
  try {
    const app = await api('GET', appPath(appId));
    if (gen !== state.gen || state.appId !== appId) return;
    renderApplication(app);
    show(detail);
    await Promise.all([loadGrants(), loadRoleAssignments(app)]);
  } catch (err) {
    showError(err, 'Application');
  }
}

function renderApplication(app) {
  const detail = $('app-detail');
  detail.dataset.appId = app.id;
  detail.dataset.appName = app.name;
  $('app-detail-title').textContent = app.name;
  $('app-detail-id').textContent = app.id;
  $('app-detail-type').textContent = app.type;
  $('app-detail-auth').textContent = app.tokenEndpointAuthMethod || '';
  $('app-detail-grant-types').textContent = (app.grantTypes || []).join(', ');
  $('app-detail-updated').textContent = fmtTime(app.updatedAt);
  $('app-edit-name').value = app.name;
  $('app-edit-description').value = app.description || '';
  $('app-edit-enabled').checked = Boolean(app.enabled);
}

async function createApplication(event) {
  event.preventDefault();
  const name = $('app-create-name').value.trim();
  if (!name) return showStatus('error', 'An application needs a name.');
  await busy($('app-create'), 'Create application', async () => {
    const app = await api('POST', `${envPath()}/applications`, {
      name,
      type: $('app-create-type').value,
      enabled: true,
      protocol: 'OPENID_CONNECT',
      grantTypes: ['CLIENT_CREDENTIALS'],
      tokenEndpointAuthMethod: 'CLIENT_SECRET_BASIC',
    });
    $('app-create-name').value = '';
    clearSecret();
    state.appId = app.id;
    await loadApplications(app.id);
    showOk(`Created application ${app.name}.`);
  });
}

async function saveApplication(event) {
  event.preventDefault();
  const appId = state.appId;
  const name = $('app-edit-name').value.trim();
  if (!name) return showStatus('error', 'An application needs a name.');
  await busy($('app-save'), 'Save application', async () => {
    const current = await api('GET', appPath(appId));
    const app = await api('PUT', appPath(appId), {
      ...writable(current), name, description: $('app-edit-description').value,
      enabled: $('app-edit-enabled').checked,
    });
    await loadApplications(appId);
    renderApplication(app);
    showOk(`Saved application ${app.name}.`);
  });
}

async function deleteApplication() {
  const appId = state.appId;
  const name = $('app-detail').dataset.appName;
  await busy($('app-delete'), 'Delete application', async () => {
    await api('DELETE', appPath(appId));
    clearSecret();
    state.appId = null;
    show($('app-detail'), false);
    await loadApplications(null);
    showOk(`Deleted application ${name}.`);
  });
}

// -- the secret

function clearSecret() {
  const value = $('secret-value');
  value.textContent = '';
  delete value.dataset.kind;
  show(value, false);
  $('secret-previous').textContent = '';
  show($('secret-previous'), false);
}

function renderSecret(body, kind) {
  const value = $('secret-value');
  value.textContent = body.secret;
  value.dataset.kind = kind; // "revealed" or "rotated"
  show(value);
  const previous = $('secret-previous');
  if (body.previous && body.previous.expiresAt) {
    previous.textContent =
      `The previous secret stays valid until ${fmtTime(body.previous.expiresAt)}.`;
    show(previous);
  } else {
    previous.textContent = '';
    show(previous, false);
  }
}

async function revealSecret() {
  const appId = state.appId;
  await busy($('secret-reveal'), 'Reveal secret', async () => {
    const body = await api('GET', `${appPath(appId)}/secret`);
    if (state.appId !== appId) return;
    renderSecret(body, 'revealed');
  });
}

async function rotateSecret() {
  const appId = state.appId;
  await busy($('secret-rotate'), 'Rotate secret', async () => {
    const body = await api('POST', `${appPath(appId)}/secret`); // no body: the old one dies now
    if (state.appId !== appId) return;
    renderSecret(body, 'rotated');
    showOk('Rotated the secret: the previous one no longer works.');
  });
}

// -- grants

async function resourcesOfEnv() {
  if (!state.resources) state.resources = await allItems(`${envPath()}/resources`, 'resources');
  return state.resources;
}

async function scopesOf(resourceId) {
  if (!state.scopes.has(resourceId)) {
    state.scopes.set(resourceId,
      await allItems(`${envPath()}/resources/${enc(resourceId)}/scopes`, 'scopes'));
  }
  return state.scopes.get(resourceId);
}

async function loadGrants() {
  const gen = state.gen;
  const appId = state.appId;
  const [grants, resources] = await Promise.all([
    allItems(`${appPath(appId)}/grants`, 'grants'), resourcesOfEnv(),
  ]);
  const scopeLists = await Promise.all(grants.map((g) => scopesOf(g.resource.id).catch(() => [])));
  if (gen !== state.gen || appId !== state.appId) return;
  const list = clear($('grant-list'));
  if (!grants.length) list.append(h('li', { class: 'empty', text: 'No grant' }));
  grants.forEach((grant, i) => {
    const resource = resources.find((r) => r.id === grant.resource.id);
    const names = (grant.scopes || []).map((s) => {
      const scope = scopeLists[i].find((x) => x.id === s.id);
      return scope ? scope.name : s.id;
    });
    const del = h('button', {
      type: 'button', class: 'small danger', text: 'Remove', testid: 'grant-delete',
    });
    armedButton(del, 'Remove?', () => deleteGrant(grant.id));
    list.append(h('li', {
      testid: 'grant-row',
      dataset: { id: grant.id, resourceId: grant.resource.id, scopes: names.join(' ') },
    },
    h('span', { class: 'grow' },
      h('strong', { text: resource ? resource.name : grant.resource.id }),
      `: ${names.join(', ') || '(no scope)'}`), del));
  });
  renderGrantResourceOptions(resources);
}

function renderGrantResourceOptions(resources) {
  const select = $('grant-resource');
  const keep = select.dataset.appId === state.appId ? select.value : ''; // the same app's choice
  select.dataset.appId = state.appId;
  clear(select);
  select.append(h('option', { value: '', text: 'Choose a resource…' }));
  for (const r of resources) {
    select.append(h('option', { value: r.id, text: `${r.name} (${r.type})` }));
  }
  select.value = resources.some((r) => r.id === keep) ? keep : '';
  track(renderGrantScopes());
}

async function renderGrantScopes() {
  const gen = state.gen;
  const resourceId = $('grant-resource').value;
  const box = $('grant-scopes');
  const legend = h('legend', { text: 'Scopes' });
  if (!resourceId) {
    box.replaceChildren(legend, h('span', { class: 'hint', text: 'Choose a resource first.' }));
    delete box.dataset.resourceId;
    return;
  }
  try {
    const scopes = await scopesOf(resourceId);
    if (gen !== state.gen || $('grant-resource').value !== resourceId) return;
    box.replaceChildren(legend);
    if (!scopes.length) {
      box.append(h('span', { class: 'hint', text: 'This resource has no scope.' }));
    }
    for (const s of scopes) {
      box.append(h('label', {},
        h('input', {
          type: 'checkbox', value: s.id, testid: 'grant-scope', dataset: { name: s.name },
        }),
        s.name));
    }
    box.dataset.resourceId = resourceId;
  } catch (err) {
    showError(err, 'Scopes');
  }
}

async function addGrant(event) {
  event.preventDefault();
  const appId = state.appId;
  const resourceId = $('grant-resource').value;
  const scopes = [...$('grant-scopes').querySelectorAll('input[type=checkbox]:checked')]
    .map((c) => ({ id: c.value }));
  if (!resourceId || !scopes.length) {
    return showStatus('error', 'A grant needs a resource and at least one of its scopes.');
  }
  await busy($('grant-add'), 'Add grant', async () => {
    await api('POST', `${appPath(appId)}/grants`, { resource: { id: resourceId }, scopes });
    await loadGrants();
    for (const c of $('grant-scopes').querySelectorAll('input[type=checkbox]')) c.checked = false;
    showOk('Added the grant.');
  });
}

async function deleteGrant(grantId) {
  await busy(null, 'Remove grant', async () => {
    await api('DELETE', `${appPath()}/grants/${enc(grantId)}`);
    await loadGrants();
    showOk('Removed the grant.');
  });
}

// -- role assignments

async function loadRoleAssignments(app) {
  const gen = state.gen;
  const appId = state.appId;
  const worker = app.type === 'WORKER';
  show($('role-hint'), !worker);
  show($('role-form'), worker);
  if (!state.roles) state.roles = await allItems('/roles', 'roles');
  const assignments = await allItems(`${appPath(appId)}/roleAssignments`, 'roleAssignments');
  if (gen !== state.gen || appId !== state.appId) return;
  const list = clear($('role-list'));
  if (!assignments.length) list.append(h('li', { class: 'empty', text: 'No role' }));
  for (const a of assignments) {
    const role = state.roles.find((r) => r.id === a.role.id);
    const del = h('button', {
      type: 'button', class: 'small danger', text: 'Remove', testid: 'role-delete',
    });
    armedButton(del, 'Remove?', () => deleteRoleAssignment(a.id));
    list.append(h('li', { testid: 'role-row', dataset: { id: a.id, roleId: a.role.id } },
      h('span', { class: 'grow' }, h('strong', { text: role ? role.name : a.role.id }),
        ` on ${scopeLabel(a.scope)}`), del));
  }
  renderRoleOptions();
}

function scopeLabel(scope) {
  if (!scope) return '';
  if (scope.type === 'ENVIRONMENT') {
    const env = state.environments.find((e) => e.id === scope.id);
    return `environment ${env ? env.name : scope.id}`;
  }
  return `${scope.type.toLowerCase()} ${scope.id}`;
}

function renderRoleOptions() {
  const roleSelect = clear($('role-role'));
  for (const r of state.roles || []) {
    roleSelect.append(h('option', {
      value: r.id, text: r.name, dataset: { applicable: (r.applicableTo || []).join(' ') },
    }));
  }
  const scopeSelect = clear($('role-scope'));
  const env = state.env;
  if (env) {
    scopeSelect.append(h('option', {
      value: `ENVIRONMENT:${env.id}`, text: `Environment ${env.name}`,
    }));
  }
  for (const other of state.environments) {
    if (env && other.id === env.id) continue;
    scopeSelect.append(h('option', {
      value: `ENVIRONMENT:${other.id}`, text: `Environment ${other.name}`,
    }));
  }
  if (env && env.organization && env.organization.id) {
    scopeSelect.append(h('option', {
      value: `ORGANIZATION:${env.organization.id}`, text: 'The organization',
    }));
  }
}

async function addRoleAssignment(event) {
  event.preventDefault();
  const appId = state.appId;
  const roleId = $('role-role').value;
  const [type, id] = $('role-scope').value.split(':');
  if (!roleId || !id) return showStatus('error', 'Choose a role and a scope.');
  await busy($('role-add'), 'Assign role', async () => {
    await api('POST', `${appPath(appId)}/roleAssignments`,
      { role: { id: roleId }, scope: { id, type } });
    await loadRoleAssignments(await api('GET', appPath(appId)));
    showOk('Assigned the role.');
  });
}

async function deleteRoleAssignment(assignmentId) {
  const appId = state.appId;
  await busy(null, 'Remove role', async () => {
    await api('DELETE', `${appPath(appId)}/roleAssignments/${enc(assignmentId)}`);
    await loadRoleAssignments(await api('GET', appPath(appId)));
    showOk('Removed the role assignment.');
  });
}

// ---------------------------------------------------------------------------------------------
// Resources and scopes

async function loadResources(selectId = state.resourceId) {
  const gen = state.gen;
  try {
    state.resources = null;
    const resources = await resourcesOfEnv();
    if (gen !== state.gen) return;
    const body = clear($('resource-list'));
    for (const r of resources) {
      body.append(h('tr', {
        testid: 'resource-row', dataset: { id: r.id, name: r.name },
        class: r.id === selectId ? 'selected' : '',
      },
      h('td', {}, h('button', {
        type: 'button', class: 'link', text: r.name, testid: 'resource-open',
        onclick: () => track(openResource(r.id)),
      })),
      h('td', { text: r.type }),
      h('td', { text: r.audience || '' })));
    }
    if (!resources.length) body.append(emptyRow(3, 'No resource'));
    if (selectId && resources.some((r) => r.id === selectId)) await openResource(selectId);
    else {
      state.resourceId = null;
      show($('resource-detail'), false);
    }
  } catch (err) {
    showError(err, 'Resources');
  }
}

async function openResource(resId) {
  const gen = state.gen;
  state.resourceId = resId;
  markSelectedRow('resource-list', resId);
  try {
    const r = await api('GET', resourcePath(resId));
    if (gen !== state.gen || state.resourceId !== resId) return;
    const detail = $('resource-detail');
    detail.dataset.resourceId = r.id;
    detail.dataset.resourceName = r.name;
    $('resource-detail-title').textContent = r.name;
    $('resource-detail-id').textContent = r.id;
    $('resource-detail-type').textContent = r.type;
    $('resource-detail-audience').textContent = r.audience || '';
    $('resource-detail-validity').textContent =
      r.accessTokenValiditySeconds ? `${r.accessTokenValiditySeconds} s` : '';
    const custom = r.type === 'CUSTOM';
    $('resource-delete').disabled = !custom;
    $('resource-delete').title = custom ? '' : 'Built-in resources cannot be deleted';
    show(detail);
    await loadScopes();
  } catch (err) {
    showError(err, 'Resource');
  }
}

async function loadScopes() {
  const gen = state.gen;
  const resId = state.resourceId;
  state.scopes.delete(resId);
  const scopes = await scopesOf(resId);
  if (gen !== state.gen || resId !== state.resourceId) return;
  const body = clear($('scope-list'));
  for (const s of scopes) {
    const del = h('button', {
      type: 'button', class: 'small danger', text: 'Delete', testid: 'scope-delete',
    });
    armedButton(del, 'Delete?', () => deleteScope(s.id, s.name));
    body.append(h('tr', { testid: 'scope-row', dataset: { id: s.id, name: s.name } },
      h('td', { text: s.name }), h('td', {}, h('code', { text: s.id })), h('td', {}, del)));
  }
  if (!scopes.length) body.append(emptyRow(3, 'No scope'));
}

async function createResource(event) {
  event.preventDefault();
  const name = $('resource-create-name').value.trim();
  const audience = $('resource-create-audience').value.trim();
  if (!name) return showStatus('error', 'A resource needs a name.');
  await busy($('resource-create'), 'Create resource', async () => {
    const body = { name };
    if (audience) body.audience = audience;
    const r = await api('POST', `${envPath()}/resources`, body);
    $('resource-create-name').value = '';
    $('resource-create-audience').value = '';
    state.resourceId = r.id;
    await loadResources(r.id);
    showOk(`Created resource ${r.name}.`);
  });
}

async function deleteResource() {
  const resId = state.resourceId;
  const name = $('resource-detail').dataset.resourceName;
  await busy($('resource-delete'), 'Delete resource', async () => {
    await api('DELETE', resourcePath(resId));
    state.scopes.delete(resId);
    state.resourceId = null;
    await loadResources(null);
    showOk(`Deleted resource ${name} (its scopes and the grants of it too).`);
  });
}

async function createScope(event) {
  event.preventDefault();
  const name = $('scope-create-name').value.trim();
  if (!name) return showStatus('error', 'A scope needs a name.');
  await busy($('scope-create'), 'Add scope', async () => {
    const s = await api('POST', `${resourcePath()}/scopes`, { name });
    $('scope-create-name').value = '';
    await loadScopes();
    showOk(`Added scope ${s.name}.`);
  });
}

async function deleteScope(scopeId, name) {
  await busy(null, 'Delete scope', async () => {
    await api('DELETE', `${resourcePath()}/scopes/${enc(scopeId)}`);
    await loadScopes();
    showOk(`Deleted scope ${name}.`);
  });
}

// ---------------------------------------------------------------------------------------------
// Keys

async function loadKeys() {
  const gen = state.gen;
  try {
    const keys = await allItems(`${envPath()}/keys`, 'keys');
    if (gen !== state.gen) return;
    const body = clear($('key-list'));
    for (const k of keys) {
      const actions = h('div', { class: 'row' });
      if (!k.default && k.status === 'VALID') {
        actions.append(h('button', {
          type: 'button', class: 'small', text: 'Make default', testid: 'key-default',
          onclick: (e) => track(updateKey(e.currentTarget, k.id, { default: true })),
        }));
      }
      if (k.status !== 'REVOKED' && !k.default) {
        const revoke = h('button', {
          type: 'button', class: 'small danger', text: 'Revoke', testid: 'key-revoke',
        });
        armedButton(revoke, 'Revoke?', () => updateKey(revoke, k.id, { status: 'REVOKED' }));
        actions.append(revoke);
      }
      const algorithm = `${k.algorithm}${k.keyLength ? ` ${k.keyLength}` : ''}` +
        ` (${k.signatureAlgorithm || ''})`;
      body.append(h('tr', {
        testid: 'key-row',
        dataset: { id: k.id, default: String(Boolean(k.default)), status: k.status },
      },
        h('td', { text: k.name }),
        h('td', { text: algorithm }),
        h('td', {}, h('code', { text: k.id })),
        h('td', { text: k.status }),
        h('td', { text: k.default ? 'default' : '' }),
        h('td', { text: fmtTime(k.expiresAt) }),
        h('td', {}, actions)));
    }
    if (!keys.length) body.append(emptyRow(7, 'No key'));
  } catch (err) {
    showError(err, 'Keys');
  }
}

async function updateKey(button, keyId, change) {
  await busy(button, 'Update key', async () => {
    const path = `${envPath()}/keys/${enc(keyId)}`;
    const current = await api('GET', path);
    await api('PUT', path, { ...writable(current), ...change });
    await loadKeys();
    showOk(change.default ? 'The key is now the default: the next token carries its kid.'
      : 'Revoked the key.');
  });
}

async function createKey(event) {
  event.preventDefault();
  const algorithm = $('key-create-algorithm').value;
  const body = { algorithm, default: $('key-create-default').checked };
  if (algorithm === 'RSA') body.keyLength = Number($('key-create-length').value);
  else if (algorithm === 'EC') body.keyLength = 256;
  await busy($('key-create'), 'Create key', async () => {
    const k = await api('POST', `${envPath()}/keys`, body);
    await loadKeys();
    showOk(`Created key ${k.id}.`);
  });
}

// ---------------------------------------------------------------------------------------------
// Activities: the API answers oldest first with a forward cursor, so the page walks the cursor
// to the end (ACTIVITY_PAGE per request, remembering each page's link) and shows the newest
// ACTIVITY_CHUNK first; "Older" steps back through the remembered pages.

function activityFilter() {
  const clauses = [];
  const quoted = (v) => `"${v.replace(/["\\]/g, '')}"`;
  const types = $('activity-filter-action').value.split(',').map((s) => s.trim()).filter(Boolean);
  if (types.length === 1) clauses.push(`action.type eq ${quoted(types[0])}`);
  else if (types.length > 1) clauses.push(`action.type in [${types.map(quoted).join(', ')}]`);
  const object = $('activity-filter-object').value.trim();
  if (object) clauses.push(`resources.id eq ${quoted(object)}`);
  const status = $('activity-filter-status').value;
  if (status) clauses.push(`result.status eq ${quoted(status)}`);
  return clauses.join(' and ');
}

async function loadActivities() {
  const gen = state.gen;
  const table = $('activity-list');
  table.dataset.loading = '1';
  delete table.dataset.loaded;
  try {
    const filter = activityFilter();
    let href = `${envPath()}/activities?limit=${ACTIVITY_PAGE}` +
      (filter ? `&filter=${enc(filter)}` : '');
    const hrefs = [];
    let page = null;
    let truncated = false;
    for (;;) {
      hrefs.push(href);
      page = await api('GET', href);
      if (gen !== state.gen) return;
      const next = page && page._links && page._links.next;
      if (!next) break;
      if (hrefs.length >= ACTIVITY_MAX_PAGES) {
        truncated = true;
        break;
      }
      href = apiPath(next.href);
    }
    const list = items(page, 'activities');
    state.activities = {
      filter, hrefs, index: hrefs.length - 1, items: list, end: list.length, truncated,
    };
    renderActivities();
    table.dataset.loaded = String(Date.now());
    table.dataset.filter = filter;
  } catch (err) {
    clear(table);
    showError(err, 'Activities');
  } finally {
    delete table.dataset.loading;
  }
}

async function loadActivityPage(index, fromEnd) {
  const gen = state.gen;
  const act = state.activities;
  await busy(null, 'Activities', async () => {
    const page = await api('GET', act.hrefs[index]);
    if (gen !== state.gen || act !== state.activities) return;
    act.index = index;
    act.items = items(page, 'activities');
    act.end = fromEnd ? act.items.length : Math.min(act.items.length, ACTIVITY_CHUNK);
    renderActivities();
  });
}

function olderActivities() {
  const act = state.activities;
  if (!act) return;
  const start = Math.max(0, act.end - ACTIVITY_CHUNK);
  if (start > 0) {
    act.end = start;
    renderActivities();
  } else if (act.index > 0) {
    track(loadActivityPage(act.index - 1, true));
  }
}

function newerActivities() {
  const act = state.activities;
  if (!act) return;
  if (act.end < act.items.length) {
    act.end = Math.min(act.items.length, act.end + ACTIVITY_CHUNK);
    renderActivities();
  } else if (act.index < act.hrefs.length - 1) {
    track(loadActivityPage(act.index + 1, false));
  }
}

function renderActivities() {
  const act = state.activities;
  const table = clear($('activity-list'));
  const start = Math.max(0, act.end - ACTIVITY_CHUNK);
  const shown = act.items.slice(start, act.end).reverse(); // newest first
  for (const a of shown) {
    const client = (a.actors && a.actors.client) || {};
    const result = a.result || {};
    // The environment is in every activity's objects: shown only when it is the only one.
    const all = a.resources || [];
    const objects = all.filter((r) => r.type !== 'ENVIRONMENT' || all.length === 1);
    table.append(h('tr', {
      testid: 'activity-row',
      dataset: {
        id: a.id, actionType: (a.action && a.action.type) || '', result: result.status || '',
        resourceIds: (a.resources || []).map((r) => r.id).join(' '),
      },
    },
    h('td', { text: fmtTime(a.recordedAt) }),
    h('td', {}, h('strong', { text: (a.action && a.action.type) || '' })),
    h('td', {}, h('span', {
      class: result.status === 'SUCCESS' ? 'badge ok' : 'badge bad', text: result.status || '',
    }), result.description ? ` ${result.description}` : ''),
    h('td', {}, client.name || '', client.id ? h('div', {}, h('code', { text: client.id })) : null),
    h('td', {}, objects.map((r) => h('div', {},
      `${r.type} `, r.name ? h('strong', { text: r.name }) : null, ' ',
      h('code', { text: r.id }))))));
  }
  if (!shown.length) table.append(emptyRow(5, 'No activity matches'));
  const newest = act.index === act.hrefs.length - 1 && act.end === act.items.length;
  const oldest = act.index === 0 && start === 0;
  $('activity-newer').disabled = newest;
  $('activity-older').disabled = oldest;
  let label = shown.length ? `${shown.length} shown, newest first` : '';
  if (!newest) label += ' (older activities)';
  if (act.truncated) {
    label += ` — more than ${ACTIVITY_PAGE * ACTIVITY_MAX_PAGES} activities match: these are` +
      ' not the newest; narrow the filter';
  }
  $('activity-page-label').textContent = label;
}

// ---------------------------------------------------------------------------------------------
// Wiring

function init() {
  on($('signin-form'), 'submit', signIn);
  on($('sign-out'), 'click', () => signOut());
  on($('env-create-form'), 'submit', createEnvironment);
  on($('env-rename-form'), 'submit', renameEnvironment);
  for (const button of document.querySelectorAll('.tab')) {
    on(button, 'click', () => selectTab(button.dataset.tab));
  }
  on($('app-create-form'), 'submit', createApplication);
  on($('app-edit-form'), 'submit', saveApplication);
  armedButton($('app-delete'), 'Click again to delete', deleteApplication);
  on($('secret-reveal'), 'click', revealSecret);
  armedButton($('secret-rotate'), 'Click again to rotate', rotateSecret);
  on($('secret-hide'), 'click', clearSecret);
  on($('grant-resource'), 'change', renderGrantScopes);
  on($('grant-form'), 'submit', addGrant);
  on($('role-form'), 'submit', addRoleAssignment);
  on($('resource-create-form'), 'submit', createResource);
  armedButton($('resource-delete'), 'Click again to delete', deleteResource);
  on($('scope-create-form'), 'submit', createScope);
  on($('key-create-form'), 'submit', createKey);
  on($('key-create-algorithm'), 'change', () => {
    $('key-create-length').disabled = $('key-create-algorithm').value !== 'RSA';
  });
  on($('activity-filter-form'), 'submit', (e) => {
    e.preventDefault();
    return loadActivities();
  });
  on($('activity-clear'), 'click', () => {
    $('activity-filter-action').value = '';
    $('activity-filter-object').value = '';
    $('activity-filter-status').value = '';
    return loadActivities();
  });
  on($('activity-older'), 'click', olderActivities);
  on($('activity-newer'), 'click', newerActivities);
  const types = $('activity-types');
  for (const t of ACTION_TYPES) types.append(h('option', { value: t }));
  document.documentElement.dataset.pending = '0';
  document.body.dataset.ready = '1';
  $('env-id').focus();
}

init();
