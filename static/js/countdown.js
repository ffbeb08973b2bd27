/* The time left on a one-time code (the supervisor's floor-phone enrolment): minutes and seconds,
   then "expired" and the code greyed out. The server refuses an expired code whatever this shows. */
(function () {
  'use strict';
  Array.prototype.forEach.call(document.querySelectorAll('[data-countdown]'), function (node) {
    var ends = Date.parse(node.getAttribute('data-countdown'));
    var out = node.querySelector('.left');
    if (isNaN(ends) || !out) return;
    function pad(n) { return (n < 10 ? '0' : '') + n; }
    function tick() {
      var left = Math.round((ends - Date.now()) / 1000);
      if (left <= 0) {
        out.textContent = node.getAttribute('data-expired');
        var box = node.closest('section');
        if (box) box.classList.add('expired');
        return;
      }
      out.textContent = node.getAttribute('data-left').split('%(time)s').join(Math.floor(left / 60) + ':' + pad(left % 60));
      setTimeout(tick, 1000);
    }
    tick();
  });
})();
