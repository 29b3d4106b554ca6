// The stand-alone page. With no hash it is the landing page: each lab in two sentences with a
// live thumbnail (a <gradscope-widget> showing its first chart). With a hash it is one gradscope
// widget whose spec follows the URL hash. The header's lab links set the hash to a lab's key
// (#scans); the widget loads that lab's first preset and replaces the hash with the full spec,
// so every run stays a link.
import { start } from './gradscope.js';
import { el } from './dom.js';
import './embed-element.js';
import { startSweeps } from './sweeps.js';

const params = new URLSearchParams(location.search);
const app = document.getElementById('app');
let handle = null;
let sweeps = null;

/** Small runs that show each lab's signature within seconds on a CPU. */
const LANDING = [
  ['grokking', 'Grokking',
    'A network memorizes modular arithmetic, then — long after — suddenly generalizes. Ten presets reproduce Power, Nanda, Doshi, Prieto and Kumar: see how weight decay, StableMax and ⊥Grad change when, and whether, it groks.',
    'grokking.task.p=23&grokking.model.mlp.width=32&grokking.loss.kind=cross_entropy&grokking.optimizer.lr=0.02&grokking.optimizer.weight_decay=0.1&grokking.training.steps=600'],
  ['scans', 'S4D vs Mamba',
    'A fixed linear recurrence against a selective one, trained side by side on the Mamba paper\'s memory tasks. Look inside the kernels, Δ_t and states, and race the sequential, parallel, chunked and fused scans on your own GPU.',
    'scans.task.len=16&scans.task.data_tokens=2&scans.task.vocab=4&scans.models.s4d.mixer=s4d&scans.models.s4d.d_model=8&scans.models.mamba.mixer=mamba&scans.models.mamba.d_model=8&scans.training.batch_size=4&scans.training.eval_every=5&scans.training.steps=600&scans.eval.sequences=8&scans.eval.extrapolation=2'],
  ['gradient_flow', 'Gradient flow',
    'Deep stacks that differ only in where the norm sits, compared block by block as they train. See why Pre-LN trains where Post-LN stalls, and how qk-LayerNorm keeps attention logits in check.',
    'gradient_flow.models.pre.depth=12&gradient_flow.models.pre.width=16&gradient_flow.models.pre.norm=pre&gradient_flow.models.post.depth=12&gradient_flow.models.post.width=16&gradient_flow.models.post.norm=post&gradient_flow.task.input_dim=8&gradient_flow.task.output_dim=4&gradient_flow.training.batch_size=16&gradient_flow.training.eval_every=5&gradient_flow.training.steps=600'],
];

function landing() {
  const cards = LANDING.map(([id, title, text, spec]) => {
    const thumb = el('gradscope-widget', { spec, controls: '', autoplay: true, thumbnail: true, 'aria-label': `${title}: a live thumbnail` });
    return el('article', { class: 'gs-card', testid: `landing-${id}` },
      el('h2', {}, el('a', { href: `#${id}` }, title)), el('p', {}, text), thumb,
      el('a', { class: 'gs-open', href: `#${id}` }, `Open the ${title} lab →`));
  });
  return el('section', { class: 'gs-landing', testid: 'landing' },
    el('p', { class: 'gs-lede' }, 'Train the small models that training-dynamics research argues about, live in your browser: on your GPU (WebGPU) or CPU, nothing to install. Every run is a link; embed any of them in your own page.'),
    el('div', { class: 'gs-cards' }, ...cards));
}

function setActive(id) {
  for (const a of document.querySelectorAll('nav[data-testid="lab-nav"] a')) a.classList.toggle('active', a.dataset.lab === id);
  const name = document.querySelector(`nav a[data-lab="${id}"]`)?.textContent;
  document.title = name ? `gradscope — ${name}` : 'gradscope';
}

function route() {
  const hash = location.hash.replace(/^#/, '');
  if (hash !== 'sweeps') { sweeps?.stop(); sweeps = null; }
  if (!hash || hash === 'sweeps') {
    handle?.stop();
    handle = null;
    window.gradscope = null;
    setActive(hash || null);
    if (hash === 'sweeps') {
      if (!sweeps) {
        app.replaceChildren();
        sweeps = startSweeps(app, { backend: params.get('backend') || 'cpu', workers: params.get('workers') });
      }
      window.gradscopeSweeps = sweeps; // for the end-to-end tests
    } else {
      app.replaceChildren(landing());
    }
    return;
  }
  if (handle) { handle.loadHash(location.hash); return; }
  app.replaceChildren();
  handle = start(app, {
    hash: location.hash,
    backend: params.get('backend') || 'auto',
    workers: params.get('workers'),
    onSpecHash: (h) => history.replaceState(null, '', '#' + h),
    onLab: setActive,
    themeRoot: document.documentElement,
  });
  window.gradscope = handle; // for the console and the end-to-end tests
}

addEventListener('hashchange', route);
route();
