// Drives the admin console (/console/) in headless Chromium (Debian's, through puppeteer-core),
// as an administrator would, and reports what happened as one JSON object on stdout. The Python
// side (test_console.py) checks the report and, against the server itself, the effects.
//
//   node console_driver.mjs CONFIG.json
//   CONFIG: {"scenario": "full" | "revoked", "url", "tokenUrl", "envId", "clientId",
//            "clientSecret", "names": {"app", "resource", "audience", "scope", "description",
//            "worker", "env", "envRenamed"}, "outDir", "userDataDir", "timeoutMs",
//            "executablePath"?}
//
// The "full" scenario: sign in with a wrong secret (the page shows the error), then with the
// right one; create an application; create a resource and a scope; grant the scope to the
// application; reveal, then rotate, the application's secret; change its description; create
// a WORKER application, assign it a role, remove the role, delete the application; read the
// first application's activities, then only its SECRET.UPDATED; list the keys, create an EC
// key, make it the default, give the default back and revoke the EC key; create an
// environment and rename it; sign out. The "revoked" scenario: sign in; every token of the
// application is revoked behind the page's back; the page's next call (401) brings the sign-in
// form back.
// A screenshot after every step ("NN-step.png" in outDir; "failure.png" when a step failed).
// Every wait has the deadline timeoutMs; none is a fixed sleep.
//
// Also reported: the console messages, page errors, CSP violations (securitypolicyviolation
// events, reported from the page through an exposed function), every request and response, the
// token the page received (read from the token endpoint's answer), the page's storage (local,
// session, cookies) at several points, and a self-check that the CSP listener does see a
// violation (on a second page, where an inline script is injected on purpose).
//
// Prints {"steps", "error", "failedStep", "screenshots", "console", "pageErrors", "csp",
// "cspSelfCheck", "requests", "responses", "tokens", "storage", "values"}; exits 0 when printed.

import fs from 'node:fs';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const timeoutMs = config.timeoutMs;
const names = config.names;

const result = {
  steps: [], error: null, failedStep: null, screenshots: [], console: [], pageErrors: [],
  csp: [], cspSelfCheck: null, requests: [], responses: [], tokens: [], storage: {}, values: {},
};

function within(promise, ms, what) {
  let timer;
  const expiry = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms ${what}`)), ms);
  });
  return Promise.race([promise, expiry]).finally(() => clearTimeout(timer));
}

let browser = null;
let page = null;
let shot = 0;

async function screenshot(name) {
  const file = path.join(config.outDir, name);
  await page.screenshot({ path: file, fullPage: true });
  result.screenshots.push(file);
}

// Runs one step of the scenario and saves its screenshot.
async function step(name, fn) {
  const started = Date.now();
  result.failedStep = name;
  await fn();
  shot += 1;
  await screenshot(`${String(shot).padStart(2, '0')}-${name}.png`);
  result.steps.push({ name, ms: Date.now() - started });
  result.failedStep = null;
}

// Waits until `fn(...args)` is truthy in the page; returns its value.
async function until(what, fn, ...args) {
  try {
    const handle = await page.waitForFunction(fn, { timeout: timeoutMs, polling: 100 }, ...args);
    const value = await handle.jsonValue();
    await handle.dispose();
    return value;
  } catch (e) {
    throw new Error(`waiting for ${what}: ${e.message}`);
  }
}

// The page has no task running (console.js keeps <html data-pending>).
function settled() {
  return until('the page to settle', () => document.documentElement.dataset.pending === '0');
}

function visible(selector) {
  return until(`${selector} to be visible`, (sel) => {
    const e = document.querySelector(sel);
    return e !== null && !e.closest('[hidden]') && e.getClientRects().length > 0;
  }, selector);
}

async function fill(selector, value) {
  await visible(selector);
  await page.$eval(selector, (e) => { e.value = ''; });
  await page.type(selector, value);
  const got = await page.$eval(selector, (e) => e.value);
  if (got !== value) throw new Error(`${selector} holds ${JSON.stringify(got)} after typing`);
}

async function click(selector) {
  await visible(selector);
  await until(`${selector} to be enabled`, (sel) => !document.querySelector(sel).disabled,
    selector);
  await page.click(selector);
}

async function choose(selector, value) {
  await until(`option ${value} of ${selector}`, (sel, v) =>
    [...document.querySelectorAll(`${sel} option`)].some((o) => o.value === v), selector, value);
  const chosen = await page.select(selector, value);
  if (!chosen.includes(value)) throw new Error(`could not choose ${value} in ${selector}`);
}

function text(selector) {
  return page.$eval(selector, (e) => e.textContent);
}

// The response to the first request matching `pred` after this call, within the deadline.
function responseOf(what, pred) {
  return page.waitForResponse((r) => pred(r), { timeout: timeoutMs })
    .catch((e) => { throw new Error(`waiting for the response to ${what}: ${e.message}`); });
}

async function storage(label) {
  const inPage = await page.evaluate(() => ({
    localStorage: Object.fromEntries(Object.entries(localStorage)),
    sessionStorage: Object.fromEntries(Object.entries(sessionStorage)),
    documentCookie: document.cookie,
    html: document.documentElement.outerHTML,
  }));
  const cookies = await page.cookies();
  result.storage[label] = { ...inPage, cookies };
}

function keyRows() {
  return page.$$eval('#key-list tr[data-testid="key-row"]', (rows) => rows.map((r) => ({
    id: r.dataset.id, default: r.dataset.default === 'true', status: r.dataset.status,
    text: r.textContent,
  })));
}

async function activityRows() {
  return page.$$eval('#activity-list tr[data-testid="activity-row"]', (rows) => rows.map((r) => ({
    id: r.dataset.id, actionType: r.dataset.actionType, result: r.dataset.result,
    resourceIds: r.dataset.resourceIds.split(' '), text: r.textContent,
  })));
}

const v = result.values;

async function openConsole() {
  await step('signin-page', async () => {
    const resp = await page.goto(config.url, { waitUntil: 'load', timeout: timeoutMs });
    v.pageStatus = resp.status();
    v.pageHeaders = resp.headers();
    await until('the console script to start', () => document.body.dataset.ready === '1');
    await visible('#sign-in');
    v.mainHiddenAtStart = await page.$eval('#main-view', (e) => e.hidden);
  });
}

async function refusedSignIn() {
  await step('signin-refused', async () => {
    await fill('#env-id', config.envId);
    await fill('#client-id', config.clientId);
    await fill('#client-secret', 'not-the-secret');
    const answer = responseOf('the refused sign-in', (r) =>
      r.url() === config.tokenUrl && r.request().method() === 'POST');
    await click('#sign-in');
    v.refusedStatus = (await answer).status();
    await visible('#signin-error');
    await settled();
    v.signinError = await text('#signin-error');
    v.mainHiddenAfterRefusal = await page.$eval('#main-view', (e) => e.hidden);
  });
}

async function signIn() {
  await step('signed-in', async () => {
    await fill('#env-id', config.envId);
    await fill('#client-id', config.clientId);
    await fill('#client-secret', config.clientSecret);
    const answer = responseOf('the sign-in', (r) =>
      r.url() === config.tokenUrl && r.request().method() === 'POST');
    await click('#sign-in');
    v.signinStatus = (await answer).status();
    await visible('#main-view');
    await until('the environment to be selected', (env) =>
      document.querySelector(`#env-list li[data-id="${env}"].selected`) !== null, config.envId);
    await until('the applications', () =>
      document.querySelectorAll('#app-list tr[data-testid="app-row"]').length > 0);
    await settled();
    v.secretFieldAfterSignIn = await page.$eval('#client-secret', (e) => e.value);
    v.environments = await page.$$eval('#env-list li[data-testid="env-item"]',
      (items) => items.map((i) => ({ id: i.dataset.id, name: i.dataset.name })));
    v.applicationsAtStart = await page.$$eval('#app-list tr[data-testid="app-row"]',
      (rows) => rows.map((r) => ({ id: r.dataset.id, name: r.dataset.name })));
    await storage('afterSignIn');
  });
}

// The whole tour (test_console.py's main test).
async function fullScenario() {
  await openConsole();
  await refusedSignIn();
  await signIn();

  await step('application-created', async () => {
    await fill('#app-create-name', names.app);
    await choose('#app-create-type', 'SERVICE');
    await click('#app-create');
    await until('the new application in the list and opened', (name) =>
      document.querySelector(`#app-list tr[data-name="${name}"]`) !== null &&
      document.querySelector(`#app-detail[data-app-name="${name}"]`) !== null, names.app);
    await visible('#app-detail');
    await settled();
    v.appId = await page.$eval('#app-detail', (e) => e.dataset.appId);
    v.appDetailId = await text('#app-detail-id');
    v.appType = await text('#app-detail-type');
    // The name holds markup: shown as text, never as elements.
    v.injectedAfterCreate = await page.evaluate(() =>
      document.querySelectorAll('#main-view b, #main-view img').length);
    v.statusAfterCreate = await text('#status');
  });

  await step('resource-and-scope', async () => {
    await click('#tab-resources');
    await visible('#panel-resources');
    await until('the resources', () =>
      document.querySelectorAll('#resource-list tr[data-testid="resource-row"]').length > 0);
    await settled();
    await fill('#resource-create-name', names.resource);
    await fill('#resource-create-audience', names.audience);
    await click('#resource-create');
    await until('the new resource opened', (name) =>
      document.querySelector(`#resource-detail[data-resource-name="${name}"]`) !== null &&
      document.querySelector(`#resource-list tr[data-name="${name}"]`) !== null, names.resource);
    await visible('#resource-detail');
    await settled();
    v.resourceId = await page.$eval('#resource-detail', (e) => e.dataset.resourceId);
    v.resourceAudience = await text('#resource-detail-audience');
    await fill('#scope-create-name', names.scope);
    await click('#scope-create');
    await until('the new scope', (name) =>
      document.querySelector(`#scope-list tr[data-name="${name}"]`) !== null, names.scope);
    await settled();
    v.scopeId = await page.$eval(`#scope-list tr[data-name="${names.scope}"]`, (e) => e.dataset.id);
  });

  await step('grant', async () => {
    const grants = responseOf('the grants of the application', (r) =>
      r.request().method() === 'GET' &&
      r.url().endsWith(`/applications/${v.appId}/grants`));
    await click('#tab-applications');
    await grants;
    await settled();
    await visible('#app-detail');
    v.appOpenAgain = await page.$eval('#app-detail', (e) => e.dataset.appId);
    await choose('#grant-resource', v.resourceId);
    await until('the scopes of the chosen resource', (res, scope) =>
      document.querySelector(
        `#grant-scopes[data-resource-id="${res}"] input[value="${scope}"]`) !== null,
    v.resourceId, v.scopeId);
    await settled();
    await click(`#grant-scopes input[value="${v.scopeId}"]`);
    if (!await page.$eval(`#grant-scopes input[value="${v.scopeId}"]`, (e) => e.checked)) {
      throw new Error('the scope checkbox is not checked');
    }
    await click('#grant-add');
    await until('the new grant', (res) =>
      document.querySelector(
        `#grant-list li[data-testid="grant-row"][data-resource-id="${res}"]`) !== null,
    v.resourceId);
    await settled();
    v.grants = await page.$$eval('#grant-list li[data-testid="grant-row"]',
      (rows) => rows.map((r) => ({
        id: r.dataset.id, resourceId: r.dataset.resourceId, scopes: r.dataset.scopes,
        text: r.textContent,
      })));
  });

  await step('secret-revealed', async () => {
    await click('#secret-reveal');
    await until('the revealed secret', () => {
      const e = document.querySelector('#secret-value[data-kind="revealed"]');
      return e !== null && !e.hidden && e.textContent.length > 0;
    });
    await settled();
    v.secretRevealed = await text('#secret-value');
  });

  await step('secret-rotated', async () => {
    await click('#secret-rotate');
    await until('the rotate button to ask for confirmation', () =>
      document.querySelector('#secret-rotate[data-armed]') !== null);
    v.rotateConfirmText = await text('#secret-rotate');
    const rotation = responseOf('the rotation', (r) =>
      r.request().method() === 'POST' && r.url().endsWith(`/applications/${v.appId}/secret`));
    await click('#secret-rotate');
    v.rotationStatus = (await rotation).status();
    await until('the new secret', () => {
      const e = document.querySelector('#secret-value[data-kind="rotated"]');
      return e !== null && !e.hidden && e.textContent.length > 0;
    });
    await settled();
    v.secretRotated = await text('#secret-value');
  });

  await step('application-edited', async () => {
    await fill('#app-edit-description', names.description);
    const put = responseOf('the update of the application', (r) =>
      r.request().method() === 'PUT' && r.url().endsWith(`/applications/${v.appId}`));
    await click('#app-save');
    v.updateStatus = (await put).status();
    await until('the saved application', () =>
      document.querySelector('#status[data-kind="ok"]') !== null &&
      document.querySelector('#status').textContent.startsWith('Saved application'));
    await settled();
    v.descriptionShown = await page.$eval('#app-edit-description', (e) => e.value);
    v.enabledShown = await page.$eval('#app-edit-enabled', (e) => e.checked);
  });

  await step('worker-role-assigned', async () => {
    await fill('#app-create-name', names.worker);
    await choose('#app-create-type', 'WORKER');
    await click('#app-create');
    await until('the new worker opened', (name) =>
      document.querySelector(`#app-detail[data-app-name="${name}"]`) !== null, names.worker);
    await settled();
    v.workerId = await page.$eval('#app-detail', (e) => e.dataset.appId);
    await visible('#role-form');
    const roleId = await page.$eval('#role-role', (select, name) =>
      [...select.options].find((o) => o.textContent === name)?.value ?? null,
    'Environment Admin');
    if (!roleId) throw new Error('no Environment Admin among the roles');
    v.roleId = roleId;
    await choose('#role-role', roleId);
    await choose('#role-scope', `ENVIRONMENT:${config.envId}`);
    await click('#role-add');
    await until('the role assignment', (role) =>
      document.querySelector(`#role-list li[data-role-id="${role}"]`) !== null, roleId);
    await settled();
    v.roleRows = await page.$$eval('#role-list li[data-testid="role-row"]',
      (rows) => rows.map((r) => ({
        id: r.dataset.id, roleId: r.dataset.roleId, text: r.textContent,
      })));
  });

  await step('worker-deleted', async () => {
    await click('#role-list li[data-testid="role-row"] [data-testid="role-delete"]');
    await until('the remove button to ask for confirmation', () =>
      document.querySelector('#role-list [data-testid="role-delete"][data-armed]') !== null);
    await click('#role-list li[data-testid="role-row"] [data-testid="role-delete"]');
    await until('the role assignment removed', () =>
      document.querySelectorAll('#role-list li[data-testid="role-row"]').length === 0);
    await settled();
    await click('#app-delete');
    await until('the delete button to ask for confirmation', () =>
      document.querySelector('#app-delete[data-armed]') !== null);
    await click('#app-delete');
    await until('the worker gone', (id) =>
      document.querySelector(`#app-list tr[data-id="${id}"]`) === null &&
      document.querySelector('#app-detail').hidden, v.workerId);
    await settled();
  });

  await step('activities', async () => {
    await click('#tab-activities');
    await visible('#panel-activities');
    await settled();
    await fill('#activity-filter-object', v.appId);
    await click('#activity-apply');
    await until('the activities of the application', (app) => {
      const t = document.querySelector('#activity-list');
      return t.dataset.loaded && (t.dataset.filter || '').includes(app);
    }, v.appId);
    await settled();
    v.activities = await activityRows();
    v.injectedInActivities = await page.evaluate(() =>
      document.querySelectorAll('#main-view b, #main-view img').length);
    v.activityLabel = await text('#activity-page-label');
  });

  await step('activities-filtered', async () => {
    await fill('#activity-filter-action', 'SECRET.UPDATED');
    await click('#activity-apply');
    await until('the filtered activities', () => {
      const t = document.querySelector('#activity-list');
      return t.dataset.loaded && (t.dataset.filter || '').includes('SECRET.UPDATED');
    });
    await settled();
    v.activitiesFiltered = await activityRows();
    v.activityFilter = await page.$eval('#activity-list', (e) => e.dataset.filter);
  });

  await step('keys', async () => {
    await click('#tab-keys');
    await until('the keys', () =>
      document.querySelectorAll('#key-list tr[data-testid="key-row"]').length > 0);
    await settled();
    v.keys = await keyRows();
  });

  // Create an EC key, make it the default, give the default back to the first key, revoke the
  // EC key: the environment ends signing as it began (the page's own token stays valid).
  await step('key-default', async () => {
    const before = v.keys.map((k) => k.id);
    await choose('#key-create-algorithm', 'EC');
    await click('#key-create');
    const created = await until('the new key', (ids) => {
      const row = [...document.querySelectorAll('#key-list tr[data-testid="key-row"]')]
        .find((r) => !ids.includes(r.dataset.id));
      return row ? row.dataset.id : null;
    }, before);
    await settled();
    v.keyCreated = created;
    await click(`#key-list tr[data-id="${created}"] [data-testid="key-default"]`);
    await until('the new key as default', (id) =>
      document.querySelector(`#key-list tr[data-id="${id}"]`)?.dataset.default === 'true',
    created);
    await settled();
    v.keysWithNewDefault = await keyRows();
  });

  await step('key-revoked', async () => {
    const first = v.keys.find((k) => k.default).id;
    await click(`#key-list tr[data-id="${first}"] [data-testid="key-default"]`);
    await until('the first key as default again', (id) =>
      document.querySelector(`#key-list tr[data-id="${id}"]`)?.dataset.default === 'true', first);
    await settled();
    const revoke = `#key-list tr[data-id="${v.keyCreated}"] [data-testid="key-revoke"]`;
    await click(revoke);
    await until('the revoke button to ask for confirmation', (sel) =>
      document.querySelector(sel)?.dataset.armed !== undefined, revoke);
    await click(revoke);
    await until('the key revoked', (id) =>
      document.querySelector(`#key-list tr[data-id="${id}"]`)?.dataset.status === 'REVOKED',
    v.keyCreated);
    await settled();
    v.keysAfter = await keyRows();
  });

  await step('environment', async () => {
    await fill('#env-create-name', names.env);
    await click('#env-create');
    await until('the new environment selected', (name) =>
      document.querySelector(`#env-list li[data-name="${name}"].selected`) !== null &&
      document.querySelector('#env-title').textContent === name, names.env);
    await settled();
    v.newEnvId = await page.$eval(`#env-list li[data-name="${names.env}"]`, (e) => e.dataset.id);
    await fill('#env-rename-name', names.envRenamed);
    await click('#env-rename');
    await until('the renamed environment', (name) =>
      document.querySelector(`#env-list li[data-name="${name}"].selected`) !== null &&
      document.querySelector('#env-title').textContent === name, names.envRenamed);
    await settled();
    v.renamedEnvId = await page.$eval(`#env-list li[data-name="${names.envRenamed}"]`,
      (e) => e.dataset.id);
    v.environmentsAfter = await page.$$eval('#env-list li[data-testid="env-item"]',
      (items) => items.map((i) => ({ id: i.dataset.id, name: i.dataset.name })));
    await storage('beforeSignOut');
  });

  await step('signed-out', async () => {
    await click('#sign-out');
    await visible('#signin-view');
    await settled();
    v.afterSignOut = await page.evaluate(() => ({
      mainHidden: document.querySelector('#main-view').hidden,
      envItems: document.querySelectorAll('#env-list li').length,
      appRows: document.querySelectorAll('#app-list tr').length,
      secret: document.querySelector('#secret-value').textContent,
    }));
    await storage('afterSignOut');
  });
}

// The token dies while the page holds it (test_console.py's second test): every token of the
// signed-in application is revoked from outside (POST .../revokeTokens, by node itself with a
// token of its own), then the page's next call is answered 401 and the sign-in form is back.
async function revokedScenario() {
  await openConsole();
  await signIn();
  await step('token-revoked', async () => {
    const form = (x) => new URLSearchParams({ v: x }).toString().slice(2);
    const basic = Buffer.from(`${form(config.clientId)}:${form(config.clientSecret)}`)
      .toString('base64');
    const tokenResp = await within(fetch(config.tokenUrl, {
      method: 'POST', body: 'grant_type=client_credentials',
      headers: {
        Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded',
      },
    }), timeoutMs, 'the token for revokeTokens');
    if (tokenResp.status !== 200) throw new Error(`token for revokeTokens: ${tokenResp.status}`);
    const { access_token: token } = await tokenResp.json();
    const base = new URL(config.url).origin;
    const revoke = await within(fetch(
      `${base}/v1/environments/${config.envId}/applications/${config.clientId}/revokeTokens`,
      { method: 'POST', headers: { Authorization: `Bearer ${token}` } },
    ), timeoutMs, 'revokeTokens');
    v.revokeStatus = revoke.status;
    v.revokeBody = await revoke.json();
    const refused = responseOf('the resources call with the revoked token', (r) =>
      r.request().method() === 'GET' && r.url().includes('/v1/') && r.url().endsWith('/resources'));
    await click('#tab-resources');
    v.refusedApiStatus = (await refused).status();
    await visible('#signin-view');
    await settled();
    v.signinMessage = await text('#signin-error');
    v.afterRevoked = await page.evaluate(() => ({
      mainHidden: document.querySelector('#main-view').hidden,
      envItems: document.querySelectorAll('#env-list li').length,
      appRows: document.querySelectorAll('#app-list tr').length,
    }));
    await storage('afterRevoked');
  });
}

const SCENARIOS = { full: fullScenario, revoked: revokedScenario };

// Reports the page's securitypolicyviolation events to `report` (in node), from the start of
// every document the page loads.
async function watchCsp(target, name, report) {
  await target.exposeFunction(name, report);
  await target.evaluateOnNewDocument((fn) => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window[fn]({
        directive: e.violatedDirective, blockedURI: e.blockedURI, sourceFile: e.sourceFile,
        line: e.lineNumber, sample: e.sample,
      });
    }, true);
  }, name);
}

// A second page of the console where a violation is made on purpose (an inline script): the
// same listener must see it, or "no violation" in the scenario would prove nothing.
async function cspSelfCheck() {
  const probe = await browser.newPage();
  try {
    const seen = [];
    let notify;
    const first = new Promise((resolve) => { notify = resolve; });
    await watchCsp(probe, '__tollgateCspProbe', (e) => { seen.push(e); notify(); });
    await probe.goto(config.url, { waitUntil: 'load', timeout: timeoutMs });
    await probe.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__inlineRan = true;';
      document.body.append(s);
    });
    await within(first, timeoutMs, 'the CSP violation of the injected inline script');
    const inlineRan = await probe.evaluate(() => window.__inlineRan === true);
    result.cspSelfCheck = { violations: seen, inlineRan };
  } finally {
    await probe.close();
  }
}

try {
  fs.mkdirSync(config.outDir, { recursive: true });
  browser = await puppeteer.launch({
    executablePath: config.executablePath || '/usr/bin/chromium',
    headless: true,
    pipe: true, // DevTools over a pipe: no debugging port at all
    userDataDir: config.userDataDir,
    timeout: timeoutMs,
    protocolTimeout: timeoutMs,
    defaultViewport: { width: 1400, height: 1000 },
    // --no-sandbox: Chromium refuses to run as root with its sandbox. --no-proxy-server: the
    // server is on 127.0.0.1, whatever proxy the environment names.
    args: ['--no-sandbox', '--no-proxy-server', '--no-first-run', '--disable-gpu',
           '--disable-background-networking', '--disable-component-update'],
  });
  page = await browser.newPage();
  page.setDefaultTimeout(timeoutMs);
  page.setDefaultNavigationTimeout(timeoutMs);

  await watchCsp(page, '__tollgateCsp', (e) => { result.csp.push(e); });
  const bodies = [];
  page.on('console', (msg) => {
    result.console.push({ type: msg.type(), text: msg.text(), location: msg.location() });
  });
  page.on('pageerror', (err) => {
    result.pageErrors.push(String(err && err.stack ? err.stack : err));
  });
  page.on('request', (req) => {
    result.requests.push({ url: req.url(), method: req.method() });
  });
  page.on('requestfailed', (req) => {
    result.requests.push({
      url: req.url(), method: req.method(), failed: req.failure()?.errorText ?? 'failed',
    });
  });
  page.on('response', (resp) => {
    const method = resp.request().method();
    result.responses.push({ url: resp.url(), method, status: resp.status() });
    if (resp.url() === config.tokenUrl && method === 'POST' && resp.status() === 200) {
      bodies.push(resp.text().then((t) => { result.tokens.push(JSON.parse(t).access_token); },
        (e) => { result.tokens.push({ unreadable: String(e) }); }));
    }
  });

  try {
    const scenario = SCENARIOS[config.scenario || 'full'];
    if (!scenario) throw new Error(`no scenario ${config.scenario}`);
    await scenario();
    await within(Promise.all(bodies), timeoutMs, 'reading the token answers');
    await cspSelfCheck();
  } catch (e) {
    result.error = String(e && e.message ? e.message : e);
    try {
      await screenshot('failure.png');
    } catch (e2) {
      result.error += ` (and the failure screenshot: ${e2.message})`;
    }
  }
} catch (e) {
  result.error = String(e && e.stack ? e.stack : e);
} finally {
  if (browser) {
    const proc = browser.process();
    try {
      await within(browser.close(), 10000, 'closing the browser');
    } catch (e) {
      if (proc && proc.exitCode === null) proc.kill('SIGKILL');
      result.error = result.error ?? String(e.message);
    }
  }
}
process.stdout.write(JSON.stringify(result) + '\n');
