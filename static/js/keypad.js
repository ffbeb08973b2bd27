/* Employee numbers open the phone's numeric keypad; some firms' numbers carry a letter (W001), which
   that keypad cannot type. A small button beside such a field switches it to the letters keyboard
   and back. No inline script (strict CSP). */
import { texts } from './i18n.js';

function addToggle(input) {
  const t = texts('widgets');
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'link keypad-toggle';
  const show = () => {
    const numeric = input.getAttribute('inputmode') === 'numeric';
    button.textContent = numeric ? 'ABC' : '123';
    button.setAttribute('aria-label', (numeric ? t.typeLetters : t.typeDigits) || button.textContent);
  };
  button.addEventListener('click', () => {
    input.setAttribute('inputmode', input.getAttribute('inputmode') === 'numeric' ? 'text' : 'numeric');
    show();
    input.blur();
    input.focus();  // the phone brings up the other keyboard
  });
  show();
  const row = document.createElement('div');
  row.className = 'keypad-row';
  input.parentNode.insertBefore(row, input);
  row.append(input, button);
}

document.querySelectorAll('input[data-keypad-toggle]').forEach(addToggle);
