/* Modules a page needs only when it has their elements, loaded with import() (the JavaScript budget,
   DESIGN.md §6): the error summary of a refused form (errors.js; precheck.js imports it itself) and
   the keypad toggle of an employee-number field (keypad.js). Both act once, on the page as loaded.
   The service worker pre-caches them like the modules every page loads. */
if (document.querySelector('.error-summary')) import('./errors.js');
if (document.querySelector('input[data-keypad-toggle]')) import('./keypad.js');
