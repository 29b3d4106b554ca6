// <gradscope-widget spec="grokking.task.p=97&…" controls="train,lr" autoplay>: a gradscope
// widget for any page, from one module script (docs/embedding.md).
//
// - Each element is its own widget with its own worker and handle (`element.handle`: start,
//   pause, stop …; `element.start()`, `element.pause()`, `element.destroy()` forward to it).
// - Lazy: nothing loads until the element comes near the viewport; off-screen or in a hidden
//   tab it pauses, and resumes when it shows again.
// - Sized by its container: charts follow the element's width.
// - Styles live in a shadow root: the host page's CSS does not reach in, and ours does not
//   leak out.
// - `spec` is a URL-hash spec (as in a link, without `#`) or a spec's JSON. A bad one is refused
//   with a message in the widget, which then shows its lab's first preset; nothing in it is
//   rendered as HTML.
// Attributes: spec, controls (allow-list; default "train"), hide (names to hide), autoplay,
// views (the lab's outputs to show: summary, charts, analysis, or panels by id; default all),
// theme (auto | light | dark), metrics (the URL of a recorded run to show at once, with
// "Train it yourself"), backend (auto | webgpu | cpu), thumbnail (the first chart
// only: the landing page's cards). Every attribute is observed: a new spec loads; controls,
// hide, views, autoplay and theme change the widget in place (the run goes on); a new backend
// or thumbnail starts the widget afresh.
// Events: gradscope-start (detail: the handle), gradscope-evaluation ({step, record, report}),
// gradscope-done ({step, report}), gradscope-error ({message}).
import { start, SITE } from './gradscope.js';
import { splitHash } from './links.js';

const STYLES = ['uPlot.min.css', 'www/style.css'].map((path) => new URL(path, SITE).href);

export class GradscopeWidget extends HTMLElement {
  static get observedAttributes() { return ['spec', ...VIEW_ATTRIBUTES, 'metrics', 'backend', 'thumbnail']; }

  constructor() {
    super();
    this.attachShadow({ mode: 'open' });
    /** The widget's handle (see start() in gradscope.js) once it has started, else null. */
    this.handle = null;
    this.container = null;
    this.lazy = null;
  }

  connectedCallback() {
    if (this.container) return; // moved, not new: the widget goes on
    const shadow = this.shadowRoot;
    shadow.replaceChildren(...STYLES.map((href) => Object.assign(document.createElement('link'), { rel: 'stylesheet', href })));
    this.container = document.createElement('div');
    this.container.className = 'gs-host';
    const waiting = document.createElement('p');
    waiting.className = 'gs-summary gs-waiting';
    waiting.textContent = 'gradscope widget — starts when scrolled into view.';
    this.container.append(waiting);
    shadow.append(this.container);
    const lazy = new IntersectionObserver((entries) => {
      if (this.lazy !== lazy || !entries.some((e) => e.isIntersecting)) return;
      lazy.disconnect();
      this.lazy = null;
      this.boot();
    }, { rootMargin: '200px' });
    this.lazy = lazy;
    lazy.observe(this);
  }

  boot() {
    const spec = (this.getAttribute('spec') || '').trim();
    const options = {
      backend: this.getAttribute('backend') || 'auto',
      ...this.viewOptions(),
      metrics: this.getAttribute('metrics') || undefined,
      saveRuns: false,
      pauseWhenHidden: true,
      thumbnail: this.hasAttribute('thumbnail'),
      // gradscope-evaluation, gradscope-done, gradscope-error (see start() in gradscope.js).
      notify: (name, detail) => this.dispatchEvent(new CustomEvent(`gradscope-${name}`, { detail })),
    };
    let error = null;
    if (spec.startsWith('{')) {
      try { options.spec = JSON.parse(spec); } catch (e) { error = `The spec attribute is not valid JSON (${e.message}); showing the default preset.`; }
    } else {
      options.hash = spec;
    }
    this.container.replaceChildren();
    this.handle = start(this.container, options);
    if (error) this.handle.showError(error);
    this.dispatchEvent(new CustomEvent('gradscope-start', { detail: this.handle }));
  }

  /** The view options the attributes give (undefined: the spec hash's, else the default). */
  viewOptions() {
    const spec = (this.getAttribute('spec') || '').trim();
    // Attributes win; a spec copied from a link may carry its own view options
    // (`…&controls=train,lr&autoplay=true`); else only the Train controls show.
    const fromSpec = spec.startsWith('{') ? null : splitHash(spec).view;
    const attr = (name) => (this.hasAttribute(name) ? this.getAttribute(name) : undefined);
    return {
      controls: attr('controls') ?? (fromSpec?.controls ? undefined : 'train'),
      hide: attr('hide'),
      views: attr('views'),
      theme: attr('theme'),
      autoplay: this.hasAttribute('autoplay') ? this.getAttribute('autoplay') !== 'false' : undefined,
    };
  }

  attributeChangedCallback(name, old, value) {
    if (!this.handle || old === value) return;
    if (VIEW_ATTRIBUTES.includes(name)) {
      // Removed: back to what the spec hash says, else the default.
      const fromSpec = splitHash((this.getAttribute('spec') || '').trim()).view;
      const given = this.viewOptions()[name];
      this.handle.setView({ [name]: given !== undefined ? given : (fromSpec[name] ?? null) });
      return;
    }
    if (name === 'metrics') { this.handle.showRecording(value); return; }
    if (name === 'backend' || name === 'thumbnail') {
      // The worker's build and the layout are chosen at start: start afresh.
      this.handle.stop();
      this.boot();
      return;
    }
    if (name !== 'spec') return;
    const text = (value || '').trim();
    if (!text.startsWith('{')) { this.handle.loadHash(text); return; }
    try { this.handle.load(JSON.parse(text)); } catch (e) { this.handle.showError(`The spec attribute is not valid JSON (${e.message}).`); }
  }

  disconnectedCallback() {
    // A move in the DOM is a disconnect then a connect: keep the run unless the element stays out.
    queueMicrotask(() => { if (!this.isConnected) this.teardown(); });
  }

  teardown() {
    this.lazy?.disconnect();
    this.lazy = null;
    this.handle?.stop();
    this.handle = null;
    this.container = null;
    this.shadowRoot.replaceChildren();
  }

  start() { this.handle?.start(); }
  pause() { this.handle?.pause(); }
  /** Stops training and removes the widget's contents (re-inserting the element starts afresh). */
  destroy() { this.remove(); }
}

/** The attributes that change how the widget shows its run, not the run. */
const VIEW_ATTRIBUTES = ['controls', 'hide', 'views', 'autoplay', 'theme'];

if (!customElements.get('gradscope-widget')) customElements.define('gradscope-widget', GradscopeWidget);
