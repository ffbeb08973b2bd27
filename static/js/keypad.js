/* Employee numbers open the phone's numeric keypad; some firms' numbers carry a letter (W001), which
   that keypad cannot type. A small button beside such a field switches it to the letters keyboard
   and back. No inline script (strict CSP). */
(function () {
  'use strict';
  Array.prototype.forEach.call(document.querySelectorAll('input[data-keypad-toggle]'), function (input) {
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'link keypad-toggle';
    function show() {
      var numeric = input.getAttribute('inputmode') === 'numeric';
      button.textContent = numeric ? 'ABC' : '123';
      button.setAttribute('aria-label', input.getAttribute(numeric ? 'data-keypad-letters' : 'data-keypad-digits') || button.textContent);
    }
    button.addEventListener('click', function () {
      input.setAttribute('inputmode', input.getAttribute('inputmode') === 'numeric' ? 'text' : 'numeric');
      show();
      input.blur();
      input.focus();  // the phone brings up the other keyboard
    });
    show();
    var row = document.createElement('div');
    row.className = 'keypad-row';
    input.parentNode.insertBefore(row, input);
    row.appendChild(input);
    row.appendChild(button);
  });
})();
