// Where this build of gradscope is published, for the Embed menu's snippets: null in a local
// build (the menu then uses the URL the page is served from). `scripts/dist.sh --site-url URL`
// (the Pages and release workflows) writes the URL into the built copy of this file.
export const PUBLISHED_SITE = null;
