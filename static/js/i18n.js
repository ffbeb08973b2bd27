/* The scripts' translated texts arrive one way: the page's JSON block <script type="application/json"
   id="i18n"> (templates/_macros/scripts.html), by group; data, not run, so the strict CSP holds. */
let groups = null;

/* The texts of one group (e.g. 'outbox', 'scanner'); {} on a page that does not carry it. */
export function texts(group) {
  if (!groups) {
    const node = document.getElementById('i18n');
    // A page kept on a phone before this block existed has the outbox's words in #app-config.
    const kept = node ? null : document.getElementById('app-config');
    groups = node ? JSON.parse(node.textContent) : { outbox: kept ? JSON.parse(kept.textContent).i18n : {} };
  }
  return groups[group] || {};
}

/* Put values into a translated text's %(name)s places (each place may occur more than once). */
export function fill(text, values) {
  return Object.keys(values).reduce((out, key) => out.split('%(' + key + ')s').join(String(values[key])), text || '');
}
