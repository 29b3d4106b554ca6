// End-to-end tests of embeds, links, exports, saved runs, the lost-device fallback, the page's
// layout at 360 px and in dark mode, the Content-Security-Policy, and accessibility (axe-core).
// The site is served by e2e/server.mjs (strict CSP on every response) on GRADSCOPE_URL's port;
// the example blog page is served from the next port, another origin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { CSP } from './server.mjs';

const URL_A = process.env.GRADSCOPE_URL || 'http://127.0.0.1:8137/';
const PORT = Number(new URL(URL_A).port);
const URL_B = `http://127.0.0.1:${PORT + 1}/`;
const OUT = 'e2e-artifacts';
mkdirSync(OUT, { recursive: true });
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const BASE_ARGS = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-angle=vulkan'];

const SMALL = 'grokking.task.p=23&grokking.model.mlp.width=32&grokking.loss.kind=cross_entropy' +
  '&grokking.optimizer.lr=0.02&grokking.optimizer.weight_decay=0.1&grokking.training.steps=400';

/** Chromium's own warning when a page asks for a WebGPU adapter and none exists: the widget asks
 * once per page to pick its worker build (www/widget/client.js), where the worker alone asked
 * before (its warning never reached the page's console). It reports the browser these tests run
 * in, not a fault of the page. */
const NO_ADAPTER = /^No available adapters\.$/;

/** A browser and a page that records errors, CSP violations and every request's origin. */
async function open(args = BASE_ARGS, { viewport = { width: 1280, height: 900 }, bypassCSP = false, colorScheme = 'light' } = {}) {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args });
  const context = await browser.newContext({ viewport, bypassCSP, colorScheme, acceptDownloads: true });
  const page = await context.newPage();
  const errors = [];
  const requests = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if ((m.type() === 'error' || m.type() === 'warning') && !NO_ADAPTER.test(m.text())) errors.push(`${m.type()}: ${m.text()}`);
  });
  context.on('request', (r) => requests.push(r.url()));
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return { browser, context, page, errors, requests };
}

const byId = (root, id) => root.locator(`[data-testid="${id}"]`);
const stepOf = async (root) => Number(await byId(root, 'step-count').first().textContent());

async function waitSteps(root, atLeast, timeout = 120_000) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeout) {
    if ((await stepOf(root)) >= atLeast) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`step count stayed below ${atLeast}`);
}

/** Opens `url` in the page, trains until `evaluations` metrics records, and pauses. */
async function trainThenPause(page, url, evaluations) {
  await page.goto(url);
  await page.waitForFunction(() => window.gradscope?.spec() != null, null, { timeout: 60_000 });
  await byId(page, 'train-button').click();
  await page.waitForFunction((n) => window.gradscope?.history().length >= n, evaluations, { timeout: 120_000 });
  await byId(page, 'pause-button').click();
  await page.waitForFunction(() => window.gradscope?.running() === false);
}

/** axe-core's serious and critical violations on the page (WCAG 2.1 AA rules). */
async function axeProblems(page) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }));
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

test('blog page on another origin: three widgets from three labs train independently; controls, styles and iframe height', async () => {
  const { browser, page, errors } = await open();
  try {
    const t0 = Date.now();
    await page.goto(URL_B + 'examples/blog-post.html');
    const grok = page.locator('[data-testid="widget-grokking"]');
    const flow = page.locator('[data-testid="widget-flow"]');
    const scans = page.frameLocator('[data-testid="widget-scans"]');
    // The first widget is in view: it starts (lazily) and loads its spec.
    await byId(grok, 'train-button').waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid="widget-grokking"]').handle?.spec() != null, null, { timeout: 60_000 });
    const firstPaint = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime);
    console.log(`blog page: first contentful paint ${firstPaint?.toFixed(0)} ms; first widget ready after ${Date.now() - t0} ms`);
    // The allow-list: train, lr, weight_decay and export show; the rest does not.
    assert.ok(await byId(grok, 'field-optimizer-lr').isVisible());
    assert.ok(await byId(grok, 'field-optimizer-weight_decay').isVisible());
    assert.ok(!(await byId(grok, 'field-task-p').isVisible()), 'task.p is not in controls');
    assert.ok(!(await byId(grok, 'backend-select').isVisible()), 'backend is not in controls');
    assert.ok(!(await byId(grok, 'preset-select').isVisible()), 'preset is not in controls');
    assert.ok(await byId(grok, 'export-menu').isVisible());
    // views="summary,charts": the tiles and charts show, the analysis views do not.
    assert.ok(await byId(grok, 'metric-test-acc').isVisible());
    assert.ok(await byId(grok, 'chart-loss').isVisible());
    assert.ok(!(await byId(grok, 'fourier-heatmap').isVisible()), 'analysis views are not in views=');
    // The host page's `button { background: hotpink }` does not reach into the widget.
    const bg = await byId(grok, 'train-button').evaluate((b) => getComputedStyle(b).backgroundColor);
    assert.notEqual(bg, 'rgb(255, 105, 180)');
    // The widget's styles do not leak out: the host's own button keeps its look.
    const hostBg = await page.evaluate(() => { const b = document.createElement('button'); document.body.append(b); const c = getComputedStyle(b).backgroundColor; b.remove(); return c; });
    assert.equal(hostBg, 'rgb(255, 105, 180)');

    // A longer budget, so that widget 1 is still training when it scrolls away (changing the
    // spec attribute loads the new spec).
    await grok.evaluate((w) => w.setAttribute('spec', w.getAttribute('spec').replace('steps=400', 'steps=100000')));
    await page.waitForFunction(() => document.querySelector('[data-testid="widget-grokking"]').handle.spec().grokking.training.steps === 100000);
    // Widget 1 trains on a click; the flow widget (autoplay) waits: widget 1 pushed it off-screen.
    await byId(grok, 'train-button').click();
    await waitSteps(grok, 20);
    const flowBefore = await flow.evaluate((w) => w.handle?.step() ?? 0);
    await page.waitForTimeout(1000);
    assert.equal(await flow.evaluate((w) => !!w.handle?.running()), false, 'the off-screen widget does not train');
    assert.equal(await flow.evaluate((w) => w.handle?.step() ?? 0), flowBefore);
    // Scrolled to the top of the view, the flow widget starts by itself, and widget 1, now
    // entirely above the view, pauses.
    await flow.evaluate((w) => w.scrollIntoView({ block: 'start' }));
    await waitSteps(flow, 10);
    await page.waitForFunction(() => !document.querySelector('[data-testid="widget-grokking"]').handle.running(), null, { timeout: 20_000 });
    const grokPaused = await stepOf(grok);
    assert.ok(grokPaused < 100000, 'widget 1 paused off-screen, before its budget');
    // The iframe widget trains too, and reports its height to the page.
    const frame = page.locator('[data-testid="widget-scans"]');
    await frame.scrollIntoViewIfNeeded();
    await byId(scans, 'train-button').click({ timeout: 60_000 });
    await waitSteps(scans, 5);
    await page.waitForFunction(() => document.querySelector('[data-testid="widget-scans"]').style.height !== '', null, { timeout: 10_000 });
    const frameHeight = await frame.evaluate((f) => f.style.height);
    assert.ok(!(await byId(scans, 'field-task-len').isVisible()), 'the iframe shows only train and backend');
    assert.ok(await byId(scans, 'backend-select').isVisible());
    // Independence: widget 1 stayed paused while the others trained.
    assert.equal(await stepOf(grok), grokPaused);
    await page.screenshot({ path: `${OUT}/blog-1280.png`, fullPage: true });
    console.log(`iframe height reported: ${frameHeight}; steps: grokking ${grokPaused}, flow ${await stepOf(flow)}, scans ${await stepOf(scans)}`);
    assert.deepEqual(errors.filter((e) => !/WebGPU/.test(e)), []);
  } finally {
    await browser.close();
  }
});

test('a bad spec attribute is refused in the widget, by field, and never rendered as HTML', async () => {
  const { browser, page } = await open();
  try {
    await page.goto(URL_B + 'examples/blog-post.html');
    await page.evaluate(() => {
      const add = (testid, spec) => {
        const w = document.createElement('gradscope-widget');
        w.dataset.testid = testid;
        w.setAttribute('spec', spec);
        document.querySelector('article').prepend(w);
      };
      // Each widget's errors as its page hears of them (the gradscope-error event).
      window.__errors = {};
      const listen = (w) => w.addEventListener('gradscope-error', (e) => { (window.__errors[w.dataset.testid] ||= []).push(e.detail.message); });
      for (const w of document.querySelectorAll('gradscope-widget')) listen(w);
      new MutationObserver((changes) => changes.forEach((c) => c.addedNodes.forEach((n) => n.localName === 'gradscope-widget' && listen(n))))
        .observe(document.querySelector('article'), { childList: true });
      add('bad-json', '{"grokking": {"task": {"p": "<img src=x onerror=window.__pwned=1>"}}}');
      add('bad-lab', 'mystery.task.p=7');
      add('bad-syntax', '{"grokking": ');
    });
    for (const [id, pattern] of [['bad-json', /task\.p/], ['bad-lab', /mystery/], ['bad-syntax', /not valid JSON/]]) {
      const w = page.locator(`[data-testid="${id}"]`);
      // An embed starts its worker, which judges the spec, when it first shows.
      await w.scrollIntoViewIfNeeded();
      await byId(w, 'error-banner').waitFor({ state: 'visible', timeout: 60_000 });
      const text = await byId(w, 'error-banner').textContent();
      assert.match(text, pattern, `${id}: ${text}`);
      const heard = await page.evaluate((testid) => window.__errors[testid] ?? [], id);
      assert.ok(heard.some((m) => pattern.test(m)), `${id}: the page heard gradscope-error (${JSON.stringify(heard)})`);
      // The widget still shows a run (its lab's first preset), and no markup came alive.
      await w.evaluate((el) => new Promise((ok) => { const t = setInterval(() => { if (el.handle?.spec()) { clearInterval(t); ok(); } }, 100); }));
      assert.equal(await w.evaluate((el) => el.shadowRoot.querySelectorAll('img').length), 0);
    }
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
  } finally {
    await browser.close();
  }
});

test('events: the page hears each evaluation and the end of a run, from the element and from the iframe', async () => {
  const { browser, page, errors } = await open();
  try {
    await page.goto(URL_B + 'examples/blog-post.html');
    const TINY = 'grokking.task.p=11&grokking.model.mlp.width=16&grokking.training.steps=20&grokking.training.eval_every=5';
    await page.evaluate(({ tiny, frameSrc }) => {
      window.__heard = { element: [], frame: [] };
      const w = document.createElement('gradscope-widget');
      w.dataset.testid = 'evented';
      w.setAttribute('spec', tiny);
      w.setAttribute('autoplay', '');
      for (const name of ['evaluation', 'done', 'error']) {
        w.addEventListener(`gradscope-${name}`, (e) => window.__heard.element.push({ name, step: e.detail.step, record: e.detail.record ?? null, hasReport: e.detail.report != null }));
      }
      document.querySelector('article').prepend(w);
      const f = document.createElement('iframe');
      f.dataset.testid = 'evented-frame';
      f.src = frameSrc;
      f.style.cssText = 'width:100%;height:400px';
      addEventListener('message', (e) => {
        if (e.source === f.contentWindow && /^gradscope:(evaluation|done|error)$/.test(e.data?.type)) window.__heard.frame.push({ name: e.data.type, step: e.data.step });
      });
      w.after(f);
    }, { tiny: TINY, frameSrc: `${URL_A}embed.html#${TINY}&autoplay=true` });
    const done = (who) => page.waitForFunction((k) => window.__heard[k].some((h) => h.name === 'done' || h.name === 'gradscope:done'), who, { timeout: 120_000 });
    await done('element');
    const heard = await page.evaluate(() => window.__heard.element);
    const evaluations = heard.filter((h) => h.name === 'evaluation');
    assert.deepEqual(evaluations.map((h) => h.step), [0, 5, 10, 15, 20], JSON.stringify(heard.map((h) => [h.name, h.step])));
    assert.ok(evaluations.every((h) => h.hasReport && h.record.step === h.step));
    // Each evaluation's record is the widget's history, as its handle gives it.
    const history = await page.locator('[data-testid="evented"]').evaluate((w) => w.handle.history());
    assert.deepEqual(evaluations.map((h) => h.record), history);
    assert.deepEqual(heard.filter((h) => h.name !== 'evaluation').map((h) => [h.name, h.step]), [['done', 20]]);
    // The frame trains while it is in view, as a reader scrolls to it.
    await page.locator('[data-testid="evented-frame"]').scrollIntoViewIfNeeded();
    await done('frame');
    const frame = await page.evaluate(() => window.__heard.frame);
    assert.deepEqual(frame.map((h) => [h.name, h.step]), [0, 5, 10, 15, 20].map((s) => ['gradscope:evaluation', s]).concat([['gradscope:done', 20]]));
    assert.deepEqual(errors.filter((e) => !/WebGPU/.test(e)), []);
  } finally {
    await browser.close();
  }
});

/** The base URL the Embed menu offers first: where the build says it is published
 * (scripts/dist.sh --site-url writes it into www/site-url.js), else where the page is served. */
function publishedSite() {
  const m = readFileSync('dist/www/site-url.js', 'utf8').match(/PUBLISHED_SITE = '([^']+)'/);
  return m ? m[1] : URL_A;
}

/** The ids (data-view) of the lab panels shown in `root`. */
const shownPanels = (root) => root.locator('[data-view]').evaluateAll((ps) => ps.filter((p) => p.checkVisibility()).map((p) => p.dataset.view));
/** The computed background of the widget in `root` (its .gs-lab). */
const labBackground = (root) => root.locator('.gs-lab').first().evaluate((lab) => getComputedStyle(lab).backgroundColor);
const DARK_BG = 'rgb(22, 23, 26)';
const LIGHT_BG = 'rgb(251, 251, 250)';

test('the Embed builder: every option in the snippets and a live preview; a widget follows every attribute without losing its run', async () => {
  const { browser, page, errors } = await open();
  try {
    await page.goto(`${URL_A}#${SMALL}`);
    await page.waitForFunction(() => window.gradscope?.spec() != null, null, { timeout: 60_000 });
    await byId(page, 'embed-menu').locator('summary').click();
    assert.equal(await byId(page, 'embed-base').inputValue(), publishedSite(), 'the base URL defaults to where the site is published');
    await byId(page, 'embed-base').fill('https://example.org/gs');
    // One chart and one analysis view, by id; dark; autoplay; 500 px, fitted to the contents.
    for (const part of ['summary', 'charts', 'analysis']) await byId(page, `embed-view-${part}`).uncheck();
    await byId(page, 'embed-view-loss').check();
    await byId(page, 'embed-view-fourier').check();
    await byId(page, 'embed-theme').selectOption('dark');
    await byId(page, 'embed-autoplay').check();
    await byId(page, 'embed-height').fill('500');
    await byId(page, 'embed-controls').fill('train');
    const iframe = await byId(page, 'embed-iframe').inputValue();
    const element = await byId(page, 'embed-element').inputValue();
    const src = iframe.match(/src="([^"]+)"/)[1].replace(/&amp;/g, '&');
    assert.ok(src.startsWith('https://example.org/gs/embed.html#grokking.'), src);
    const view = new URLSearchParams(src.split('#')[1]);
    assert.deepEqual([view.get('controls'), view.get('views'), view.get('theme'), view.get('autoplay')], ['train', 'loss,fourier', 'dark', 'true'], src);
    assert.match(iframe, /height:500px/);
    assert.match(iframe, /e\.data\.type === 'gradscope:height'\) frame\.style\.height/, 'the iframe snippet sizes the frame to its contents');
    assert.match(element, /^<script type="module" src="https:\/\/example\.org\/gs\/gradscope-embed\.js"><\/script>\n<gradscope-widget spec="grokking\.[^"]+" controls="train" views="loss,fourier" theme="dark" autoplay><\/gradscope-widget>$/, element);

    // The live preview: this site's frame with these options, training at once (autoplay).
    await byId(page, 'embed-preview-on').check();
    // An embed trains while it is on screen: bring the preview into view.
    await byId(page, 'embed-preview').scrollIntoViewIfNeeded();
    const preview = page.frameLocator('[data-testid="embed-preview"]');
    const previewFrame = async () => page.frames().find((f) => f.url().includes('/embed.html#'));
    await page.waitForFunction(() => document.querySelector('[data-testid="embed-preview"]')?.src.includes('theme=dark'));
    let frame = null;
    for (let i = 0; i < 100 && !frame; i++) { frame = await previewFrame(); if (!frame) await page.waitForTimeout(100); }
    await frame.waitForFunction(() => window.gradscope?.history().length >= 1, null, { timeout: 120_000 });
    assert.deepEqual(await shownPanels(preview), ['loss', 'fourier']);
    assert.equal(await labBackground(preview), DARK_BG);
    assert.equal(await frame.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await byId(page, 'embed-menu').screenshot({ path: `${OUT}/embed-builder.png` });
    await byId(page, 'embed-preview-on').uncheck();
    assert.equal(await byId(page, 'embed-preview').getAttribute('src'), null, 'an unchecked preview gives its worker back');

    // The element snippet, pasted into a blog on another origin (its script is already there).
    const blog = await page.context().newPage();
    await blog.goto(URL_B + 'examples/blog-post.html');
    await blog.evaluate((html) => { document.querySelector('article').innerHTML = html; }, element.replace(/<script[^>]*><\/script>\n?/, ''));
    const widget = blog.locator('gradscope-widget');
    await widget.evaluate((w) => new Promise((ok) => { const t = setInterval(() => { if (w.handle?.history().length >= 2) { clearInterval(t); ok(); } }, 100); }));
    assert.deepEqual(await shownPanels(widget), ['loss', 'fourier']);
    assert.equal(await labBackground(widget), DARK_BG);
    // Every attribute is observed. Theme, views and controls change the widget in place: the
    // same handle, the run going on from where it was.
    await widget.evaluate((w) => { window.__handle = w.handle; window.__len = w.handle.history().length; });
    await widget.evaluate((w) => w.setAttribute('theme', 'light'));
    await blog.waitForFunction(() => getComputedStyle(document.querySelector('gradscope-widget').shadowRoot.querySelector('.gs-lab')).backgroundColor === 'rgb(251, 251, 250)');
    await widget.evaluate((w) => w.setAttribute('views', 'summary,charts'));
    assert.deepEqual(await shownPanels(widget), ['loss', 'accuracy', 'norms', 'diagnostics']);
    assert.ok(await byId(widget, 'grok-badge').isVisible(), 'views=summary shows the verdict');
    await widget.evaluate((w) => w.setAttribute('controls', 'train,lr'));
    assert.ok(await byId(widget, 'field-optimizer-lr').isVisible());
    await widget.evaluate((w) => w.removeAttribute('theme'));
    assert.equal(await labBackground(widget), LIGHT_BG, 'no theme: the OS (light here)');
    assert.ok(await widget.evaluate((w) => w.handle === window.__handle && w.handle.history().length >= window.__len), 'the run went on');
    // A new backend starts the widget afresh.
    await widget.evaluate((w) => w.setAttribute('backend', 'cpu'));
    await blog.waitForFunction(() => { const w = document.querySelector('gradscope-widget'); return w.handle && w.handle !== window.__handle && w.handle.spec() != null; }, null, { timeout: 60_000 });
    await blog.close();
    assert.deepEqual(errors.filter((e) => !/WebGPU/.test(e)), []);
  } finally {
    await browser.close();
  }
});

test('the iframe takes commands from the page that embeds it, and only from the origins its URL names', async () => {
  const { browser, page, errors } = await open();
  try {
    await page.goto(URL_B + 'examples/blog-post.html');
    const TINY = 'grokking.task.p=11&grokking.model.mlp.width=16&grokking.training.steps=400&grokking.training.eval_every=5';
    // (`?for=open`: told apart from the blog's own iframe, which is embed.html too.)
    const frames = { open: `${URL_A}embed.html?for=open#${TINY}`, named: `${URL_A}embed.html?origins=${encodeURIComponent(URL_B)}#${TINY}`, other: `${URL_A}embed.html?origins=https://elsewhere.example#${TINY}` };
    await page.evaluate((srcs) => {
      window.__replies = [];
      window.__frames = {};
      for (const [name, src] of Object.entries(srcs)) {
        const f = document.createElement('iframe');
        f.src = src;
        f.title = name;
        f.style.cssText = 'width:100%;height:300px';
        document.querySelector('article').prepend(f);
        window.__frames[name] = f;
      }
      addEventListener('message', (e) => {
        const name = Object.keys(window.__frames).find((k) => window.__frames[k].contentWindow === e.source);
        if (name && e.data?.type === 'gradscope:reply') window.__replies.push({ name, ...e.data });
      });
      window.__ask = (name, message) => window.__frames[name].contentWindow.postMessage(message, '*');
    }, frames);
    // (A frame rewrites its hash once its spec loads: frames are told apart by what precedes it.)
    const frameOf = (key) => page.frames().find((f) => f.url().split('#')[0] === frames[key].split('#')[0]);
    for (let i = 0; i < 100 && !Object.keys(frames).every(frameOf); i++) await page.waitForTimeout(100);
    // An embed starts its worker when it first shows: each frame is shown once.
    for (const key of Object.keys(frames)) {
      await page.locator(`iframe[title="${key}"]`).scrollIntoViewIfNeeded();
      await frameOf(key).waitForFunction(() => window.gradscope?.spec() != null, null, { timeout: 60_000 });
    }
    const reply = (name, id) => page.waitForFunction(([n, i]) => window.__replies.find((r) => r.name === n && r.id === i), [name, id], { timeout: 20_000 }).then((h) => h.jsonValue());

    // The embedding page asks, starts and pauses; an unknown question gets an error, not silence.
    await page.evaluate(() => window.__ask('open', { type: 'gradscope:get', what: 'lab', id: 1 }));
    assert.equal((await reply('open', 1)).value, 'grokking');
    // (An embed trains only while on screen: each frame is scrolled into view before it is told.)
    await page.locator('iframe[title="open"]').scrollIntoViewIfNeeded();
    await page.evaluate(() => window.__ask('open', { type: 'gradscope:start' }));
    await frameOf('open').waitForFunction(() => window.gradscope.history().length >= 2, null, { timeout: 60_000 });
    await page.evaluate(() => window.__ask('open', { type: 'gradscope:pause' }));
    await frameOf('open').waitForFunction(() => window.gradscope.running() === false);
    await page.evaluate(() => window.__ask('open', { type: 'gradscope:get', what: 'history', id: 2 }));
    const history = (await reply('open', 2)).value;
    assert.deepEqual(history, await frameOf('open').evaluate(() => window.gradscope.history()));
    await page.evaluate(() => window.__ask('open', { type: 'gradscope:get', what: 'weights', id: 3 }));
    assert.match((await reply('open', 3)).error, /unknown: weights/);
    await page.evaluate(() => window.__ask('open', { type: 'gradscope:view', theme: 'dark', views: 'charts' }));
    await frameOf('open').waitForFunction(() => document.documentElement.dataset.theme === 'dark');
    assert.deepEqual(await shownPanels(page.frameLocator('iframe[title="open"]')), ['loss', 'accuracy', 'norms', 'diagnostics']);

    // Another frame on the page is not the embedder: its start is ignored.
    await page.evaluate(() => {
      const sibling = document.createElement('iframe');
      sibling.srcdoc = '<p>sibling</p>';
      document.body.append(sibling);
      return new Promise((ok) => { sibling.onload = () => { sibling.contentWindow.eval("parent.__frames.open.contentWindow.postMessage({ type: 'gradscope:start' }, '*')"); ok(); }; });
    });
    await page.waitForTimeout(1500);
    assert.equal(await frameOf('open').evaluate(() => window.gradscope.running()), false, 'a sibling frame cannot start it');

    // origins= names this blog: it may command; names another: it may not, and hears nothing.
    await page.evaluate(() => window.__ask('named', { type: 'gradscope:get', what: 'step', id: 4 }));
    assert.equal((await reply('named', 4)).value, 0);
    await page.locator('iframe[title="other"]').scrollIntoViewIfNeeded();
    await page.evaluate(() => { window.__ask('other', { type: 'gradscope:get', what: 'step', id: 5 }); window.__ask('other', { type: 'gradscope:start' }); });
    await page.waitForTimeout(2000);
    assert.equal(await page.evaluate(() => window.__replies.filter((r) => r.name === 'other').length), 0);
    assert.equal(await frameOf('other').evaluate(() => window.gradscope.running() || window.gradscope.history().length > 0), false);
    assert.deepEqual(errors.filter((e) => !/WebGPU/.test(e)), []);
  } finally {
    await browser.close();
  }
});

test('replay: a recorded run shows at once from metrics=URL (page, iframe, element), and "Train it yourself" trains it live', async () => {
  const { browser, page, errors } = await open();
  try {
    const name = 'doshi-quick-grok.jsonl';
    const lines = readFileSync(`docs/reproductions/${name}`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const [header, records] = [lines[0], lines.slice(1)];
    assert.equal(header.format, 'gradscope-metrics', 'the shipped reproduction carries its header');
    const last = records.at(-1).step;
    await page.goto(`${URL_A}#metrics=reproductions/${name}`);
    await page.waitForFunction((n) => window.gradscope?.history().length === n, records.length, { timeout: 20_000 });
    assert.deepEqual(await page.evaluate(() => window.gradscope.history()), records, 'the curves are the file\'s');
    assert.equal(await stepOf(page), last);
    assert.deepEqual(await page.evaluate(() => window.gradscope.recording()), { url: `reproductions/${name}`, name, step: last });
    assert.match(await byId(page, 'replay-text').textContent(), new RegExp(`recorded run \\(${name.replace('.', '\\.')}\\): ${records.length} evaluations to step ${last}`));
    // The worker has the recorded spec (the form showed it before the worker answered).
    await page.waitForFunction(() => window.gradscope.spec() != null, null, { timeout: 60_000 });
    assert.deepEqual(await page.evaluate(() => window.gradscope.spec()), header.spec, 'the run is the recorded spec');
    // The worker's report of the file: the verdict of the recorded run, nothing trained.
    await page.waitForFunction(() => /Grokked/.test(document.querySelector('[data-testid="grok-badge"]').textContent), null, { timeout: 60_000 });
    assert.equal(await page.evaluate(() => window.gradscope.running()), false);
    assert.ok(await byId(page, 'train-button').isEnabled(), 'Train leaves the recording too');
    assert.ok((await page.evaluate(() => location.hash)).includes('metrics='), 'the link is to the recording');
    await page.screenshot({ path: `${OUT}/replay.png` });
    // "Train it yourself": the same spec, live, from step 0.
    await byId(page, 'replay-train').click();
    await page.waitForFunction(() => window.gradscope.recording() === null && window.gradscope.history().length >= 2 && window.gradscope.history()[0].step === 0, null, { timeout: 60_000 });
    assert.ok(!(await byId(page, 'replay-notice').isVisible()));
    assert.deepEqual(await page.evaluate(() => window.gradscope.spec()), header.spec);
    assert.ok(!(await page.evaluate(() => location.hash)).includes('metrics='), 'the link is to the live run');
    // The first live evaluation is the recording's first: the same spec and seed (the native
    // run split its matmuls over threads, so to float rounding only).
    const first = await page.evaluate(() => window.gradscope.history()[0]);
    for (const key of ['train_loss', 'test_loss', 'train_acc', 'test_acc']) assert.ok(Math.abs(first[key] - records[0][key]) < 1e-4, `${key}: ${first[key]} vs ${records[0][key]}`);

    // What cannot be shown is said, and the widget goes on with its first run.
    await page.goto(`${URL_A}embed.html#metrics=reproductions/no-such-run.jsonl`);
    await page.waitForFunction(() => window.gradscope?.spec() != null, null, { timeout: 60_000 });
    assert.match(await byId(page, 'error-banner').textContent(), /Cannot show the recorded run reproductions\/no-such-run\.jsonl: the server answered 404/);
    await page.goto(`${URL_A}embed.html#metrics=reproductions/doshi-quick-grok.log`);
    await page.waitForFunction(() => window.gradscope?.spec() != null, null, { timeout: 60_000 });
    assert.match(await byId(page, 'error-banner').textContent(), /line 1 is not JSON/);

    // The same file as a <gradscope-widget metrics="…"> in a post on another origin.
    const blog = await page.context().newPage();
    await blog.goto(URL_B + 'examples/blog-post.html');
    await blog.evaluate((url) => {
      document.querySelector('article').innerHTML = `<gradscope-widget metrics="${url}" views="summary,charts"></gradscope-widget><div style="height: 3000px"></div>`;
    }, `../reproductions/${name}`);
    const widget = blog.locator('gradscope-widget');
    await widget.evaluate((w, n) => new Promise((ok) => { const t = setInterval(() => { if (w.handle?.history().length === n) { clearInterval(t); ok(); } }, 100); }), records.length);
    assert.equal(await stepOf(widget), last);
    assert.ok(await byId(widget, 'replay-train').isVisible());
    await blog.waitForFunction(() => /Grokked/.test(document.querySelector('gradscope-widget').shadowRoot.querySelector('[data-testid="grok-badge"]').textContent), null, { timeout: 60_000 });
    // Scrolled away, it gives its worker back (nothing trained to save); back, the recording is
    // as it was, with no error.
    await blog.evaluate(() => window.scrollTo(0, 2500));
    await blog.waitForTimeout(4500); // the 3 s before an unseen embed sleeps, and more
    await blog.evaluate(() => window.scrollTo(0, 0));
    await blog.waitForTimeout(2000);
    assert.deepEqual(await widget.evaluate((w) => [w.handle.history().length, w.handle.step(), w.handle.recording()?.step]), [records.length, last, last]);
    assert.equal(await byId(widget, 'error-banner').isVisible(), false);
    assert.match(await byId(widget, 'grok-badge').textContent(), /Grokked/);
    await blog.close();
    assert.deepEqual(errors.filter((e) => !/WebGPU|404/.test(e)), []);
  } finally {
    await browser.close();
  }
});

test('links: the hash round-trips the exact spec (seed above 2^53), hide flags and the controls allow-list', async () => {
  const { browser, page } = await open();
  try {
    const seed = '18446744073709551557';
    await page.goto(`${URL_A}#${SMALL}&grokking.seed=${seed}&lr_hide=true&backend_hide=true`);
    await page.waitForFunction(() => window.gradscope?.spec() != null, null, { timeout: 60_000 });
    assert.equal(await page.evaluate(() => window.gradscope.spec().grokking.seed), seed);
    assert.equal(await byId(page, 'field-seed').inputValue(), seed);
    assert.ok(!(await byId(page, 'field-optimizer-lr').isVisible()), 'lr_hide hides the learning rate');
    assert.ok(!(await byId(page, 'backend-select').isVisible()), 'backend_hide hides the backend menu');
    assert.ok(await byId(page, 'field-task-p').isVisible());
    // An edit keeps the seed exact and the hide flags in the link.
    await byId(page, 'field-task-p').fill('29');
    await byId(page, 'field-task-p').press('Enter');
    await page.waitForFunction(() => window.gradscope?.spec().grokking.task.p === 29);
    const hash = await page.evaluate(() => location.hash);
    assert.ok(hash.includes(`grokking.seed=${seed}`), hash);
    assert.ok(hash.includes('lr_hide=true'), hash);
    // The link restores the same spec in a fresh page.
    const spec = await page.evaluate(() => JSON.stringify(window.gradscope.spec()));
    const fresh = await page.context().newPage();
    await fresh.goto(URL_A + hash);
    await fresh.waitForFunction(() => window.gradscope?.spec() != null, null, { timeout: 60_000 });
    assert.equal(await fresh.evaluate(() => JSON.stringify(window.gradscope.spec())), spec);
    // The Embed menu's snippets carry this spec; the element snippet, pasted into a page on
    // another origin, shows the same spec with the chosen controls.
    await byId(fresh, 'embed-menu').locator('summary').click();
    await byId(fresh, 'embed-controls').fill('train,p');
    const iframeSnippet = await byId(fresh, 'embed-iframe').inputValue();
    const elementSnippet = await byId(fresh, 'embed-element').inputValue();
    console.log(`embed snippets for this spec: iframe ${iframeSnippet.length} bytes, script + element ${elementSnippet.length} bytes`);
    assert.ok(iframeSnippet.includes(`embed.html#${hash.slice(1).replace(/&(lr|backend)_hide=true/g, '').replace(/&/g, '&amp;')}&amp;controls=train,p`), iframeSnippet);
    const blog = await page.context().newPage();
    await blog.goto(URL_B + 'examples/blog-post.html');
    await blog.evaluate((html) => { document.querySelector('article').innerHTML = html; }, elementSnippet.replace(/<script[^>]*><\/script>\n?/, ''));
    const pasted = blog.locator('gradscope-widget');
    await pasted.evaluate((w) => new Promise((ok) => { const t = setInterval(() => { if (w.handle?.spec()) { clearInterval(t); ok(); } }, 100); }));
    assert.equal(await pasted.evaluate((w) => JSON.stringify(w.handle.spec())), spec);
    assert.ok(await byId(pasted, 'field-task-p').isVisible());
    assert.ok(!(await byId(pasted, 'field-optimizer-lr').isVisible()));
    await blog.close();

    // controls= wins over hide flags.
    await fresh.evaluate(() => { location.hash = location.hash + '&controls=train,lr'; });
    await fresh.waitForFunction(() => !document.querySelector('[data-testid="field-task-p"]').checkVisibility());
    assert.ok(await byId(fresh, 'field-optimizer-lr').isVisible(), 'controls= shows lr despite lr_hide');
    assert.ok(!(await byId(fresh, 'preset-select').isVisible()));
  } finally {
    await browser.close();
  }
});

test('exports: CSV, JSON (re-imported, and run through the native CLI), spec, PNG, SVG, a checkpoint the CLI continues', async () => {
  const { browser, page } = await open();
  try {
    await trainThenPause(page, `${URL_A}#${SMALL}`, 3);
    await byId(page, 'export-menu').locator('summary').click();
    const save = async (id) => {
      const [dl] = await Promise.all([page.waitForEvent('download'), byId(page, id).click()]);
      const path = `${OUT}/${dl.suggestedFilename()}`;
      await dl.saveAs(path);
      return { path, name: dl.suggestedFilename(), text: readFileSync(path, 'utf8') };
    };
    const history = await page.evaluate(() => window.gradscope.history());
    const csv = await save('export-csv');
    const rows = csv.text.trim().split('\n');
    assert.equal(rows.length, history.length + 1);
    const header = rows[0].split(',');
    for (const col of ['step', 'train_loss', 'test_acc']) assert.ok(header.includes(col), `CSV column ${col}`);
    assert.equal(Number(rows[1].split(',')[header.indexOf('step')]), history[0].step);

    const json = await save('export-json');
    const lines = json.text.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines[0].format, 'gradscope-metrics');
    assert.deepEqual(lines[0].spec, await page.evaluate(() => window.gradscope.spec()));
    assert.deepEqual(lines.slice(1).map((r) => r.step), history.map((r) => r.step));
    // The CLI reads the page's export: `gradscope report` classifies it.
    const bin = `${process.env.CARGO_TARGET_DIR || 'target'}/release/gradscope`;
    const report = JSON.parse(execFileSync(bin, ['report', json.path]).toString());
    assert.equal(report.lab, 'grokking');
    assert.equal(report.records, history.length);
    assert.deepEqual(report.spec, lines[0].spec);

    const spec = await save('export-spec');
    assert.deepEqual(JSON.parse(spec.text), await page.evaluate(() => window.gradscope.spec()));
    const png = await save('export-png-0');
    assert.equal(readFileSync(png.path).subarray(1, 4).toString(), 'PNG');
    const svg = await save('export-svg-0');
    assert.match(svg.text, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.ok((svg.text.match(/<polyline /g) || []).length >= 1, 'the SVG draws the curves');

    // The page reads its own JSON export back (as a pinned run).
    await byId(page, 'load-metrics').setInputFiles(json.path);
    await page.waitForFunction(() => document.querySelector('[data-testid="pinned-list"]').textContent.includes('.jsonl'), null, { timeout: 20_000 });

    // The "run natively" line trains the same spec with the CLI, whose --out file loads too.
    const line = await byId(page, 'cli-line').inputValue();
    const hash = line.match(/^gradscope run '#(.*)' --out metrics\.jsonl$/)[1];
    const out = `${OUT}/cli-from-page.jsonl`;
    execFileSync(bin, ['run', `#${hash}`, '--steps', '20', '--out', out, '--quiet'], { stdio: ['ignore', 'ignore', 'inherit'] });
    const cliLines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(cliLines[0].spec.grokking.task, lines[0].spec.grokking.task);
    await byId(page, 'load-metrics').setInputFiles(out);
    await page.waitForFunction(() => document.querySelector('[data-testid="pinned-list"]').textContent.includes('cli-from-page'), null, { timeout: 20_000 });
    // The checkpoint: the CLI's own format (--checkpoint/--resume), continued natively from the
    // page's step with the page's history.
    const step = await page.evaluate(() => Number(document.querySelector('[data-testid="step-count"]').textContent));
    const ck = await save('export-checkpoint');
    assert.equal(readFileSync(ck.path).subarray(0, 21).toString(), 'GRADSCOPE-CHECKPOINT\n');
    const resumedOut = `${OUT}/resumed-from-page.jsonl`;
    const spec0 = lines[0].spec;
    execFileSync(bin, ['run', '--resume', ck.path, '--steps', String(step + 40), '--out', resumedOut, '--quiet'], { stdio: ['ignore', 'ignore', 'inherit'] });
    const resumed = readFileSync(resumedOut, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(resumed[0].spec.grokking.task, spec0.grokking.task);
    const steps = resumed.slice(1).map((r) => r.step);
    assert.deepEqual(steps.slice(0, history.length), history.map((r) => r.step), 'the page\'s history comes first');
    assert.deepEqual(resumed.slice(1, 1 + history.length).map((r) => r.test_loss), history.map((r) => r.test_loss));
    assert.ok(steps.at(-1) === step + 40 && steps.length > history.length, `trained on natively: ${steps}`);
    // A broken file is refused by line and field.
    const broken = `${OUT}/broken.jsonl`;
    writeFileSync(broken, `${JSON.stringify(lines[0])}\n{"step": 3, "train_loss": "high"}\n`);
    await byId(page, 'load-metrics').setInputFiles(broken);
    await byId(page, 'error-banner').waitFor({ state: 'visible' });
    assert.match(await byId(page, 'error-banner').textContent(), /line 2, `train_loss`/);
  } finally {
    await browser.close();
  }
});

test('saved runs: a reloaded page lists the earlier run with its metrics; open, compare, rename, delete', async () => {
  const { browser, page } = await open();
  try {
    await trainThenPause(page, `${URL_A}#${SMALL}`, 4);
    const points = await page.evaluate(() => window.gradscope.history().length);
    await page.reload();
    await page.waitForFunction(() => window.gradscope?.spec() != null, null, { timeout: 60_000 });
    await byId(page, 'runs-menu').locator('summary').click();
    const run = byId(page, 'saved-run').first();
    await run.waitFor({ timeout: 10_000 });
    assert.match(await run.textContent(), new RegExp(`${points} evaluations`));
    await byId(run, 'run-compare').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="pinned-list"]').children.length === 1);
    await byId(run, 'run-rename').click();
    await byId(page, 'run-name-input').fill('my weight-decay run');
    await byId(page, 'run-name-input').press('Enter');
    await page.waitForFunction(() => document.querySelector('[data-testid="runs-list"]').textContent.includes('my weight-decay run'));
    await byId(byId(page, 'saved-run').first(), 'run-open').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="pinned-list"]').textContent.includes('saved: my weight-decay run'));
    await page.screenshot({ path: `${OUT}/saved-runs.png` });
    const before = await byId(page, 'saved-run').count();
    await byId(byId(page, 'saved-run').first(), 'run-delete').click();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="saved-run"]').length === n - 1, before);
  } finally {
    await browser.close();
  }
});

test('WebGPU: a lost device moves the run to the CPU with its history kept', async () => {
  const { browser, page } = await open([...BASE_ARGS, ...WEBGPU_ARGS]);
  try {
    await page.goto(`${URL_A}#${SMALL}&grokking.training.eval_every=1`);
    await page.waitForFunction(() => document.querySelector('[data-testid="backend-label"]')?.textContent.startsWith('WebGPU'), null, { timeout: 120_000 });
    await page.waitForFunction(() => window.gradscope?.spec() != null, null, { timeout: 60_000 });
    await byId(page, 'train-button').click();
    await page.waitForFunction(() => window.gradscope?.history().length >= 3, null, { timeout: 240_000 });
    const gpuPoints = await page.evaluate(() => window.gradscope.history().length);
    await page.evaluate(() => window.gradscope.simulateDeviceLoss());
    await byId(page, 'device-notice').waitFor({ state: 'visible', timeout: 60_000 });
    assert.match(await byId(page, 'device-notice').textContent(), /GPU failed at step \d+: .*lost.*restarted on the CPU/);
    await page.waitForFunction(() => document.querySelector('[data-testid="backend-label"]').textContent.startsWith('CPU'), null, { timeout: 60_000 });
    assert.match(await byId(page, 'pinned-list').textContent(), /WebGPU, until step \d+/);
    // Training goes on, on the CPU.
    await page.waitForFunction(() => window.gradscope?.history().length >= 2 && window.gradscope?.running(), null, { timeout: 120_000 });
    assert.ok(gpuPoints >= 3);
    await page.screenshot({ path: `${OUT}/device-lost.png` });
  } finally {
    await browser.close();
  }
});

test('storage refused (as in some private modes): a notice, and training goes on', async () => {
  const { browser, context, page } = await open();
  try {
    await context.addInitScript(() => {
      IDBFactory.prototype.open = () => { throw new DOMException('The user denied permission to access the database.', 'SecurityError'); };
    });
    await trainThenPause(page, `${URL_A}#${SMALL}`, 2);
    await byId(page, 'store-notice').waitFor({ state: 'visible' });
    assert.match(await byId(page, 'store-notice').textContent(), /Saved runs are off: .*SecurityError.*Training goes on/);
  } finally {
    await browser.close();
  }
});

test('strict CSP, no request off the origin, 360 px and dark mode, and axe-core on every page', async () => {
  const { browser, page, errors, requests } = await open();
  try {
    await page.goto(`${URL_A}#${SMALL}`);
    await page.waitForFunction(() => window.gradscope?.spec() != null, null, { timeout: 60_000 });
    await byId(page, 'step-button').click();
    await page.waitForFunction(() => window.gradscope?.history().length >= 1, null, { timeout: 60_000 });
    // The iframe page, from the site deployed under a sub-path.
    await page.goto(`${URL_A}gradscope/embed.html#${SMALL}&controls=train,lr,export`);
    await page.waitForFunction(() => window.gradscope?.spec() != null, null, { timeout: 60_000 });
    await byId(page, 'step-button').click();
    await page.waitForFunction(() => window.gradscope?.history().length >= 1, null, { timeout: 60_000 });
    assert.deepEqual(await page.evaluate(() => window.__csp), [], 'no CSP violation');
    // Static hosts send no headers: both pages carry the server's policy in a <meta> tag too.
    for (const file of ['index.html', 'embed.html']) {
      const meta = readFileSync(`dist/${file}`, 'utf8').match(/<meta http-equiv="Content-Security-Policy" content="([^"]+)"/);
      assert.equal(meta?.[1], CSP, `${file}'s CSP meta tag`);
    }
    const foreign = requests.filter((u) => !u.startsWith(URL_A) && !/^(data|blob):/.test(u));
    assert.deepEqual(foreign, [], 'requests outside the origin');
    assert.deepEqual(errors.filter((e) => !/WebGPU/.test(e)), [], 'console errors and warnings (the wasm-bindgen init warning among them)');

    // 360 px: nothing wider than the screen; light and dark.
    await page.setViewportSize({ width: 360, height: 780 });
    await page.goto(`${URL_A}#${SMALL}`);
    await page.waitForFunction(() => window.gradscope?.spec() != null, null, { timeout: 60_000 });
    await page.waitForTimeout(500);
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= 362, 'no horizontal scroll at 360 px');
    await page.screenshot({ path: `${OUT}/page-360.png`, fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${OUT}/page-1280-dark.png` });
  } finally {
    await browser.close();
  }
  // axe-core needs an injected script: a context that lets it past the CSP.
  const { browser: b2, page: p2 } = await open(BASE_ARGS, { bypassCSP: true });
  try {
    const pages = [URL_A, `${URL_A}#${SMALL}`, `${URL_A}#scans`, `${URL_A}#gradient_flow`, `${URL_A}#sweeps`, `${URL_A}embed.html#${SMALL}&controls=train,lr`, `${URL_B}examples/blog-post.html`];
    const problems = [];
    for (const url of pages) {
      await p2.goto(url);
      await p2.waitForFunction(() => window.gradscope?.spec() != null || document.querySelector('gradscope-widget')?.handle?.spec() != null ||
        document.querySelector('[data-testid="sweeps"]') != null, null, { timeout: 60_000 });
      await p2.waitForTimeout(300);
      for (const p of await axeProblems(p2)) problems.push(`${url.replace(/#.*/, '#…')}: ${p}`);
    }
    assert.deepEqual(problems, [], 'axe-core serious/critical violations');
  } finally {
    await b2.close();
  }
});

test('a widget scrolled away gives its worker back, and continues where it was when it shows again', async () => {
  const { browser, page, errors } = await open(BASE_ARGS, { viewport: { width: 1000, height: 700 } });
  try {
    const live = new Set();
    page.on('worker', (worker) => { live.add(worker); worker.on('close', () => live.delete(worker)); });
    await page.goto(URL_B + 'examples/blog-post.html');
    const spec = SMALL.replace('grokking.training.steps=400', 'grokking.training.steps=100000&grokking.training.eval_every=10');
    await page.evaluate((spec) => {
      const widget = (id) => {
        const w = document.createElement('gradscope-widget');
        w.id = id;
        w.setAttribute('spec', spec);
        w.setAttribute('controls', 'train');
        w.setAttribute('views', 'charts');
        return w;
      };
      const spacer = () => Object.assign(document.createElement('div'), { style: 'height: 2500px' });
      document.querySelector('article').replaceChildren(widget('top'), spacer(), widget('bottom'), spacer());
    }, spec);
    const top = page.locator('#top');
    const handle = (id) => page.evaluate((id) => { const h = document.getElementById(id).handle; return { step: h.step(), running: h.running(), history: h.history() }; }, id);
    // The widget below the fold has no worker until it shows.
    await page.waitForFunction(() => document.getElementById('top').handle?.spec() != null, null, { timeout: 60_000 });
    assert.equal(live.size, 1, 'one worker: the widget on screen');
    await page.evaluate(() => document.getElementById('top').start());
    await page.waitForFunction(() => document.getElementById('top').handle.history().length >= 15, null, { timeout: 120_000 });
    // Scrolled away: it pauses, saves its run and gives its worker back; the other one starts.
    await page.locator('#bottom').scrollIntoViewIfNeeded();
    await page.waitForFunction(() => document.getElementById('bottom').handle?.spec() != null, null, { timeout: 60_000 });
    await page.waitForFunction(() => !document.getElementById('top').handle.running(), null, { timeout: 30_000 });
    const before = await handle('top');
    await page.waitForTimeout(4000); // SLEEP_AFTER_MS (3 s) and the checkpoint
    assert.equal(live.size, 1, 'the hidden widget gave its worker back');
    const asleep = await handle('top');
    assert.equal(asleep.step, before.step, 'asleep at the step it paused at');
    assert.deepEqual(asleep.history, before.history, 'its curves kept');
    // Back on screen: a new worker continues the run from that step, with its curves.
    await top.scrollIntoViewIfNeeded();
    await page.waitForFunction((n) => document.getElementById('top').handle.history().length > n + 5, before.history.length, { timeout: 120_000 });
    const after = await handle('top');
    assert.deepEqual(after.history.slice(0, before.history.length), before.history, 'the curves before sleeping are kept as they were');
    const steps = after.history.map((r) => r.step);
    assert.deepEqual(steps, steps.map((_, i) => 10 * i), 'one evaluation every 10 steps, none lost or repeated');
    await page.evaluate(() => document.getElementById('top').pause());
    // The same run without the interruption, in a widget that stays on screen: every evaluation
    // equal (the CPU backend is deterministic; the checkpoint holds weights, optimizer and RNG).
    await page.evaluate((spec) => {
      const w = document.createElement('gradscope-widget');
      w.id = 'reference';
      w.setAttribute('spec', spec);
      w.setAttribute('autoplay', '');
      w.setAttribute('controls', 'train');
      document.getElementById('top').before(w);
    }, spec);
    await page.locator('#reference').scrollIntoViewIfNeeded();
    const n = after.history.length;
    await page.waitForFunction((n) => document.getElementById('reference').handle?.history().length >= n, n, { timeout: 120_000 });
    const reference = (await handle('reference')).history.slice(0, n);
    for (const [i, r] of reference.entries()) {
      const { wall_ms: _a, ...want } = r;
      const { wall_ms: _b, ...got } = after.history[i];
      assert.deepEqual(got, want, `evaluation at step ${r.step} equals the uninterrupted run's`);
    }
    console.log(`sleep: paused at step ${before.step} with ${before.history.length} evaluations, continued to ${after.history.length}; ${n} evaluations equal to the uninterrupted run`);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('five widgets training at once: every one advances, and no main-thread task takes 50 ms of CPU', async () => {
  const { browser, page } = await open();
  try {
    await page.goto(URL_B + 'examples/blog-post.html');
    await page.evaluate(() => {
      document.querySelector('article').replaceChildren(...[0, 1, 2, 3, 4].map((i) => {
        const w = document.createElement('gradscope-widget');
        w.setAttribute('spec', `grokking.task.p=23&grokking.model.mlp.width=32&grokking.seed=${i}&grokking.training.steps=100000`);
        w.setAttribute('autoplay', '');
        w.setAttribute('controls', 'train');
        w.style.cssText = 'height: 160px; overflow: hidden';
        return w;
      }));
    });
    await page.waitForFunction(() => [...document.querySelectorAll('gradscope-widget')].every((w) => w.handle?.running()), null, { timeout: 120_000 });
    // Chrome's timeline: each main-thread task's wall time and its own CPU time (on 2 cores, five
    // training workers preempt the main thread, so wall time overstates the page's work).
    const PIECES = new Set(['FunctionCall', 'EvaluateScript', 'MajorGC', 'MinorGC', 'Layout', 'UpdateLayoutTree', 'Paint', 'FireAnimationFrame', 'TimerFire']);
    const measure = async () => {
      await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'] });
      const before = await page.evaluate(() => [...document.querySelectorAll('gradscope-widget')].map((w) => w.handle.step()));
      await page.waitForTimeout(10_000);
      const after = await page.evaluate(() => [...document.querySelectorAll('gradscope-widget')].map((w) => w.handle.step()));
      const { traceEvents } = JSON.parse((await browser.stopTracing()).toString());
      const mains = new Set(traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
      const onMain = traceEvents.filter((e) => e.ph === 'X' && mains.has(`${e.pid}:${e.tid}`));
      const tasks = onMain.filter((e) => e.name === 'RunTask');
      const stalls = tasks.filter((t) => (t.tdur ?? t.dur) > 50_000).map((t) => `${((t.tdur ?? t.dur) / 1000).toFixed(0)} ms [` +
        onMain.filter((e) => PIECES.has(e.name) && e.tid === t.tid && e.ts >= t.ts && e.ts + e.dur <= t.ts + t.dur)
          .sort((a, b) => b.dur - a.dur).slice(0, 3)
          .map((e) => `${e.name === 'FunctionCall' ? `${e.args?.data?.functionName || '(anonymous)'}()` : e.name} ${((e.tdur ?? e.dur) / 1000).toFixed(0)} ms`).join(', ') + ']');
      const rss = Number(execFileSync('bash', ['-c', "ps -C chromium -o rss= | awk '{s+=$1} END {print s}'"]).toString()) / 1024;
      console.log(`5 widgets training, 10 s: main-thread tasks over 50 ms: ${tasks.filter((t) => t.dur > 50_000).length} by wall time, ` +
        `${stalls.length} by the thread's own CPU time (longest ${Math.max(0, ...tasks.map((t) => (t.tdur ?? t.dur) / 1000)).toFixed(0)} ms CPU); ` +
        `main thread busy ${(100 * tasks.reduce((a, t) => a + (t.tdur ?? t.dur), 0) / 1e7).toFixed(0)}% of the time; ` +
        `steps/s per widget ${after.map((a, i) => ((a - before[i]) / 10).toFixed(1)).join(', ')}; Chromium RSS ${rss.toFixed(0)} MiB`);
      return { steps: after.map((a, i) => a - before[i]), stalls };
    };
    // What a reader relies on: every widget trains, and the page never stalls on its own work.
    // By the main thread's own CPU time, which two cores' worth of training workers cannot
    // inflate (its wall time they can: preempted tasks, counted as a figure). A stall must show
    // in two 10 s windows to fail, as in e2e/ui.test.mjs's assertNoStall: on this slower machine
    // the longest task measured 31–42 ms alone and once 54 and once 67 ms late in a full suite
    // run; work the page does at every evaluation would stall both windows.
    const first = await measure();
    first.steps.forEach((n, i) => assert.ok(n >= 100, `widget ${i} took ${n} steps in 10 s`));
    if (first.stalls.length) {
      console.log(`a main-thread task over 50 ms of CPU (${first.stalls.join('; ')}); measuring again`);
      const again = await measure();
      assert.deepEqual(again.stalls, [], `main-thread tasks over 50 ms of CPU in two windows: ${first.stalls.join('; ')}; again: ${again.stalls.join('; ')}`);
    }
  } finally {
    await browser.close();
  }
});
