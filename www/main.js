// The stand-alone page: one gradscope widget whose spec follows the URL hash. The header's lab
// links set the hash to a lab's key (#scans); the widget loads that lab's first preset and
// replaces the hash with the full spec, so every run stays a link.
import { start } from './gradscope.js';

const params = new URLSearchParams(location.search);
const handle = start(document.getElementById('app'), {
  hash: location.hash,
  backend: params.get('backend') || 'auto',
  onSpecHash: (hash) => history.replaceState(null, '', '#' + hash),
  onLab: (id) => {
    for (const a of document.querySelectorAll('nav[data-testid="lab-nav"] a')) a.classList.toggle('active', a.dataset.lab === id);
    document.title = `gradscope — ${document.querySelector(`nav a[data-lab="${id}"]`)?.textContent ?? id}`;
  },
});
addEventListener('hashchange', () => handle.loadHash(location.hash));
window.gradscope = handle; // for the console and the end-to-end tests
