// <gradscope-widget> for any page: `<script type="module" src="https://…/gradscope-embed.js">`.
// This file sits at the site root so the snippet is short; the element lives in
// www/embed-element.js (see docs/embedding.md).
export * from './www/embed-element.js';
