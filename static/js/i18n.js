/* Translated texts for the scripts, the one way they arrive: the page's
   <script type="application/json" id="i18n"> block (templates/_macros/scripts.html), by group. It is
   data, never executed, so the strict CSP (no inline script) holds; JS files themselves are not
   translated. */
let groups = null;

/* The texts of one group (e.g. 'outbox', 'scanner'); {} on a page that does not carry it. */
export function texts(group) {
  if (!groups) {
    const node = document.getElementById('i18n');
    groups = node ? JSON.parse(node.textContent) : {};
  }
  return groups[group] || {};
}

/* Put values into a translated text's %(name)s places (each place may occur more than once). */
export function fill(text, values) {
  return Object.keys(values).reduce((out, key) => out.split('%(' + key + ')s').join(String(values[key])), text || '');
}
