// The iframe embed (embed.html#<spec>&controls=train,lr): one widget filling the frame. It
// pauses while scrolled out of view or in a hidden tab, keeps its hash in sync like the page,
// and talks to the page that embeds it (docs/embedding.md):
// - it posts its height, so the frame can be sized without a scrollbar
//   ({ type: 'gradscope:height', height }), and what the run does: `gradscope:evaluation`
//   {step, record, report}, `gradscope:done` {step, report}, `gradscope:error` {message};
// - it takes commands by postMessage ({ type: 'gradscope:start' | 'gradscope:pause' |
//   'gradscope:load' {spec} | 'gradscope:loadHash' {hash} | 'gradscope:view' {controls, hide,
//   views, autoplay, theme} | 'gradscope:get' {what, id}}), answering a `get` with
//   { type: 'gradscope:reply', id, what, value }.
// Only the window that embeds the frame may command it. `embed.html?origins=https://a.example,
// https://b.example#…` narrows that to pages on those origins, and the frame then posts its
// messages to those origins only (else to any: they carry the run's metrics, nothing private).
import { start } from './gradscope.js';

const params = new URLSearchParams(location.search);
const handle = start(document.getElementById('app'), {
  hash: location.hash,
  backend: params.get('backend') || 'auto',
  saveRuns: false,
  pauseWhenHidden: true,
  themeRoot: document.documentElement,
  onSpecHash: (hash) => history.replaceState(null, '', '#' + hash),
  notify: (name, detail) => post({ type: `gradscope:${name}`, ...detail }),
});
addEventListener('hashchange', () => handle.loadHash(location.hash));

/** The origins allowed to command the frame, or null for the embedding page whatever its
 * origin. */
const origins = params.has('origins')
  ? params.get('origins').split(/[\s,]+/).filter(Boolean).map((o) => { try { return new URL(o).origin; } catch { return null; } }).filter(Boolean)
  : null;

/** The embedding page's origin, where the browser tells (Chromium and Safari: ancestorOrigins;
 * else the referrer), or null. */
const parentOrigin = (() => {
  try {
    return location.ancestorOrigins?.[0] ?? (document.referrer ? new URL(document.referrer).origin : null);
  } catch { return null; }
})();

/** The origins the frame posts to: any (`*`) when none are named; else those named, less the
 * ones the embedding page is known not to be on (a mismatched target origin is a console
 * warning in the page). */
const targets = origins == null ? ['*'] : origins.filter((o) => parentOrigin == null || o === parentOrigin);

/** Posts to the embedding page. */
function post(message) {
  if (parent === window) return;
  for (const origin of targets) parent.postMessage(message, origin);
}

/** What `gradscope:get` can ask for: the handle's read-only calls. */
const READS = ['history', 'report', 'spec', 'step', 'running', 'hash', 'lab'];

addEventListener('message', (e) => {
  // Not from the embedding window (another frame, a popup, the frame itself): ignored, as are
  // pages on origins the URL does not name.
  if (parent === window || e.source !== parent) return;
  if (origins && !origins.includes(e.origin)) return;
  const m = e.data;
  if (!m || typeof m.type !== 'string' || !m.type.startsWith('gradscope:')) return;
  switch (m.type.slice('gradscope:'.length)) {
    case 'start': handle.start(); break;
    case 'pause': handle.pause(); break;
    case 'load': if (m.spec && typeof m.spec === 'object') handle.load(m.spec); break;
    case 'loadHash': if (typeof m.hash === 'string') handle.loadHash(m.hash); break;
    case 'view': handle.setView(m); break;
    case 'get':
      if (READS.includes(m.what)) post({ type: 'gradscope:reply', id: m.id ?? null, what: m.what, value: handle[m.what]() });
      else post({ type: 'gradscope:reply', id: m.id ?? null, what: m.what, error: `unknown: ${String(m.what)} (one of ${READS.join(', ')})` });
      break;
    default: break; // the frame's own messages (height, events) echoed back, or newer commands
  }
});

let last = 0;
const report = () => {
  const height = Math.ceil(document.documentElement.scrollHeight);
  if (parent === window || height === last) return;
  last = height;
  post({ type: 'gradscope:height', height });
};
new ResizeObserver(report).observe(document.body);
window.gradscope = handle; // for the end-to-end tests
