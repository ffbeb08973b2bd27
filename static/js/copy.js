// Copy buttons: <button data-copy="#input-id">. Delegated, so it also works in htmx-swapped panels.
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
  const button = event.target.closest ? event.target.closest('[data-copy]') : null;
  if (!button) return;
  const input = document.querySelector(button.getAttribute('data-copy'));
  if (input) copy(button, input);
});
