// Opens one page in headless Chromium (Debian's, driven by puppeteer-core) and reports, as one
// JSON object on stdout, what happened there: the console (each message's type, text and, for
// console.log(object), the logged values), page errors, failed requests, responses, and the
// harness's reports. The page is test_browser_cors.py's: the reference page's jQuery example and
// a harness script that reports jQuery's global ajax events as console.info("tollgate-harness
// {...}") lines; the run ends at the harness's "ajaxComplete" (the example's own done callback has
// run by then), at a page error, or at the deadline. Then a screenshot is saved and the browser
// closed.
//
//   node browser_example.mjs CONFIG.json
//   CONFIG: {"url", "screenshot", "userDataDir", "timeoutMs", "executablePath"?}
//
// Prints {"console": [...], "harness": [...], "pageErrors": [...], "requestsFailed": [...],
// "responses": [...], "outcome": "complete" | "pageerror" | null, "error": null | "..."}; exits
// 0 when that was printed.

import fs from 'node:fs';
import puppeteer from 'puppeteer-core';

const HARNESS = 'tollgate-harness ';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const timeoutMs = config.timeoutMs;
const result = {
  console: [], harness: [], pageErrors: [], requestsFailed: [], responses: [],
  outcome: null, error: null,
};

function within(promise, ms, what) {
  let timer;
  const expiry = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms ${what}`)), ms);
  });
  return Promise.race([promise, expiry]).finally(() => clearTimeout(timer));
}

let browser = null;
try {
  browser = await puppeteer.launch({
    executablePath: config.executablePath || '/usr/bin/chromium',
    headless: true,
    pipe: true, // DevTools over a pipe: no debugging port at all
    userDataDir: config.userDataDir,
    timeout: timeoutMs,
    protocolTimeout: timeoutMs,
    // --no-sandbox: Chromium refuses to run as root with its sandbox. --no-proxy-server: the
    // page and the server are on 127.0.0.1, whatever proxy the environment names.
    args: ['--no-sandbox', '--no-proxy-server', '--no-first-run', '--disable-gpu',
           '--disable-background-networking', '--disable-component-update'],
  });
  const page = await browser.newPage();
  page.setDefaultTimeout(timeoutMs);
  page.setDefaultNavigationTimeout(timeoutMs);

  let settle;
  const ended = new Promise((resolve) => { settle = resolve; });
  const pending = [];

  page.on('console', (msg) => {
    const text = msg.text();
    if (text.startsWith(HARNESS)) {
      const report = JSON.parse(text.slice(HARNESS.length));
      result.harness.push(report);
      if (report.event === 'ajaxComplete') settle('complete');
      return;
    }
    const entry = { type: msg.type(), text, args: null, location: msg.location() };
    result.console.push(entry);
    pending.push(Promise.all(msg.args().map(
      (arg) => arg.jsonValue().catch((e) => ({ unserializable: String(e) }))))
      .then((values) => { entry.args = values; }));
  });
  page.on('pageerror', (err) => {
    result.pageErrors.push(String(err && err.stack ? err.stack : err));
    settle('pageerror');
  });
  page.on('requestfailed', (req) => {
    result.requestsFailed.push({
      url: req.url(), method: req.method(), errorText: req.failure()?.errorText ?? null,
    });
  });
  page.on('response', (resp) => {
    result.responses.push({
      url: resp.url(), method: resp.request().method(), status: resp.status(),
      headers: resp.headers(),
    });
  });

  try {
    await page.goto(config.url, { waitUntil: 'load', timeout: timeoutMs });
    result.outcome = await within(ended, timeoutMs,
      "waiting for the example's $.ajax to complete (the harness's ajaxComplete)");
    // The console values of messages already received (a message may add more while waiting).
    for (let done = 0; done < pending.length;) {
      const upto = pending.length;
      await within(Promise.all(pending.slice(done, upto)), timeoutMs, 'reading console values');
      done = upto;
    }
  } catch (e) {
    result.error = String(e && e.message ? e.message : e);
  }
  if (config.screenshot) {
    try {
      await page.screenshot({ path: config.screenshot, fullPage: true });
    } catch (e) {
      result.error = result.error ?? `screenshot: ${e.message}`;
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
