// Signature island: a signature_pad on the canvas; its strokes go into the form as JSON.
// The server renders the SVG from these strokes; nothing drawn here is trusted as markup.
// signature_pad is vendored as a classic script loaded (deferred) before this module.
const canvas = document.getElementById('signature-pad');
const field = document.getElementById('strokes');
const form = document.getElementById('sign-form');

function start() {
  const pad = new window.SignaturePad(canvas, { minWidth: 0.8, maxWidth: 2.6, penColor: '#111' });

  function resize() {
    // Match the canvas to its CSS size at the device's pixel ratio, keeping what was drawn.
    const data = pad.toData();
    const ratio = Math.max(window.devicePixelRatio || 1, 1);
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext('2d').scale(ratio, ratio);
    pad.clear();
    if (data.length) pad.fromData(data);
  }
  window.addEventListener('resize', resize);
  resize();
  // After a refused submit the server sends the strokes back: redraw them, nothing is lost.
  if (field.value) {
    try { pad.fromData(JSON.parse(field.value)); } catch (error) { field.value = ''; }
  }

  document.getElementById('clear-signature').addEventListener('click', () => {
    pad.clear();
    field.value = '';
  });
  const keep = () => { field.value = pad.isEmpty() ? '' : JSON.stringify(pad.toData()); };
  // After every stroke, not only on submit: the outbox reads the form before this page's submit
  // handlers run.
  pad.addEventListener('endStroke', keep);
  form.addEventListener('submit', keep);
  form.addEventListener('reset', () => { pad.clear(); field.value = ''; });
}

if (canvas && field && form && window.SignaturePad) start();
