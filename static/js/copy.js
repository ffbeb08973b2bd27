// Copy buttons: <button data-copy="#input-id">, and print buttons: <button data-print> (the CSP allows no
// inline onclick). Delegated, so they also work in htmx-swapped panels.
import { texts } from './i18n.js';

async function copy(button, input) {
  const label = button.textContent;
  const done = () => {
    button.textContent = texts('widgets').copied || '✓';
    setTimeout(() => { button.textContent = label; }, 1800);
  };
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(input.value);
      done();
    } catch (error) {
      input.select();
    }
    return;
  }
  input.focus();
  input.select();
  try { if (document.execCommand('copy')) done(); } catch (error) { /* the text stays selected */ }
}

document.addEventListener('click', (event) => {
  if (event.target.closest && event.target.closest('[data-print]')) {
    window.print();
    return;
  }
  const button = event.target.closest ? event.target.closest('[data-copy]') : null;
  if (!button) return;
  const input = document.querySelector(button.getAttribute('data-copy'));
  if (input) copy(button, input);
});
