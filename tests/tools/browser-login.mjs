#!/usr/bin/env node
// The browser `cec config add oauth` opens in tests: Debian's headless Chromium driven by
// playwright-core. It opens the URL, fills the login form (fields `login` and `password`)
// and presses the consent button until the browser reaches cec's loopback callback, then
// records that page.
//
// usage: BROWSER="node tests/tools/browser-login.mjs" cec config add oauth ...   (URL appended)
// env:   BROWSER_LOGIN, BROWSER_PASSWORD   the credentials to type
//        BROWSER_OUT                       directory for result.json, page.png and driver.log
//        CHROMIUM                          the browser (default /usr/bin/chromium)
//        CEC_NODE_MODULES                  where playwright-core is (default .tools/browser/node_modules)
// result.json: {ok, error, url, title, text, visited: [urls]}; page.png: the last page seen
// (on success cec's callback page, on failure the page that went wrong).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = process.env.CEC_NODE_MODULES || path.join(here, '../../.tools/browser/node_modules');
const out = process.env.BROWSER_OUT || fs.mkdtempSync(path.join(os.tmpdir(), 'cec-browser-'));
const url = process.argv[process.argv.length - 1];
const STEPS = 8;
const DEADLINE_MS = 90_000;

fs.mkdirSync(out, { recursive: true });
const logFile = path.join(out, 'driver.log');
const log = (...a) => fs.appendFileSync(logFile, `${new Date().toISOString()} ${a.join(' ')}\n`);
const result = { ok: false, error: '', url: '', title: '', text: '', visited: [] };
const finish = (code) => {
  // Written whole then renamed: the test polls for this file.
  const tmp = path.join(out, 'result.json.tmp');
  fs.writeFileSync(tmp, JSON.stringify(result, null, 1));
  fs.renameSync(tmp, path.join(out, 'result.json'));
  process.exit(code);
};
const timer = setTimeout(() => {
  result.error = `gave up after ${DEADLINE_MS} ms`;
  finish(1);
}, DEADLINE_MS);

let context;
let page;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'cec-chromium-'));
try {
  const { chromium } = await import(pathToFileURL(path.join(modules, 'playwright-core/index.mjs')).href);
  // playwright adds --headless (and its own automation flags) for headless: true.
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  page = context.pages()[0] || await context.newPage();
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) result.visited.push(f.url()); });
  log('open', url);
  await page.goto(url, { waitUntil: 'load' });
  for (let step = 0; ; step += 1) {
    const here = new URL(page.url());
    log('at', here.origin + here.pathname);
    if (here.pathname === '/servers/callback') break;
    if (step === STEPS) throw new Error(`still not at the callback after ${STEPS} forms`);
    const password = page.locator('input[name="password"]');
    const submit = page.locator('button[type="submit"], input[type="submit"]').first();
    if (await password.count() > 0) {
      await page.locator('input[name="login"]').fill(process.env.BROWSER_LOGIN || '');
      await password.fill(process.env.BROWSER_PASSWORD || '');
      log('login form filled');
    } else if (await submit.count() === 0) {
      throw new Error(`no form to fill on ${page.url()}`);
    }
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), submit.click()]);
  }
  result.ok = true;
} catch (e) {
  result.error = String(e && e.stack ? e.stack : e);
  log('error', result.error);
}
try {
  result.url = page ? page.url() : '';
  result.title = page ? await page.title() : '';
  result.text = page ? await page.locator('body').innerText() : '';
  if (page) await page.screenshot({ path: path.join(out, 'page.png'), fullPage: true });
} catch (e) {
  result.ok = false;
  result.error += `\nreading the page: ${e}`;
}
clearTimeout(timer);
if (context) await context.close().catch(() => {});
fs.rmSync(profile, { recursive: true, force: true });
finish(result.ok ? 0 : 1);
