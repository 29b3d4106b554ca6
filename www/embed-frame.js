// The iframe embed (embed.html#<spec>&controls=train,lr): one widget filling the frame. It
// pauses while scrolled out of view or in a hidden tab, keeps its hash in sync like the page,
// and tells the host page its height so the frame can be sized without a scrollbar:
// parent.postMessage({ type: 'gradscope:height', height }), and what the run does:
// `gradscope:evaluation` {step, record, report}, `gradscope:done` {step, report},
// `gradscope:error` {message} (docs/embedding.md).
import { start } from './gradscope.js';

const params = new URLSearchParams(location.search);
const handle = start(document.getElementById('app'), {
  hash: location.hash,
  backend: params.get('backend') || 'auto',
  saveRuns: false,
  pauseWhenHidden: true,
  onSpecHash: (hash) => history.replaceState(null, '', '#' + hash),
  notify: (name, detail) => { if (parent !== window) parent.postMessage({ type: `gradscope:${name}`, ...detail }, '*'); },
});
addEventListener('hashchange', () => handle.loadHash(location.hash));

let last = 0;
const report = () => {
  const height = Math.ceil(document.documentElement.scrollHeight);
  if (parent === window || height === last) return;
  last = height;
  parent.postMessage({ type: 'gradscope:height', height }, '*');
};
new ResizeObserver(report).observe(document.body);
window.gradscope = handle; // for the end-to-end tests
