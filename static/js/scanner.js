// Scanner island: the camera reads codes continuously and each new code goes to /scan/resolve,
// which answers what it did (open one of our pages, tick off a packing-list line, show a product).
// The browser's own BarcodeDetector is used where it reads QR, EAN-13 and Code 128 (Android
// Chrome); elsewhere the vendored barcode-detector ponyfill (zxing-wasm, a classic script this module
// loads then) reads them, its .wasm loaded from our own static folder. Messages come from the
// page's i18n block (group 'scanner'). No inline script, no eval (the page's CSP).
import { fill, texts } from "./i18n.js";
import { available as outboxAvailable } from "./outbox/page.js";
import { recordAndSend } from "./outbox/record.js";

const root = document.getElementById("scanner");
const form = document.getElementById("scan-form");
if (root && form) { start(); }

function start() {
  const video = document.getElementById("scan-video");
  const statusLine = document.getElementById("scan-status");
  const torchButton = document.getElementById("scan-torch");
  const retryButton = document.getElementById("scan-retry");
  const results = document.getElementById("scan-results");
  const progressLine = document.getElementById("scan-progress");

  const FORMATS = ["qr_code", "ean_13", "ean_8", "upc_a", "upc_e", "code_128"];
  const NEEDED = ["qr_code", "ean_13", "code_128"];
  const INTERVAL = 150;  // ms between two reads: ~6 a second finds a code fast and spares the battery
  const QUIET = 2000;    // a code counts again only after reads have missed it for this long
  const KEEP = 20;       // results shown

  // Each code read lately → since when the reads have missed it (null: in view at the last read).
  // Out of sight is what the reads show, not the clock: a phone that stalls for seconds (a busy
  // decoder, a cheap camera) while the label stays in front of it must not count the label again.
  const seen = new Map();
  let detector = null;
  let stream = null;
  let timer = null;
  let torchOn = false;
  let leaving = false;
  let audio = null;

  const words = texts("scanner");
  function msg(name, values) {
    return fill(words[name] || "", values || {});
  }

  function say(text) { statusLine.textContent = text; }

  function cameraOff(text) {
    // Without a picture the viewfinder is an empty frame (app.css keeps its place, so the page does not
    // jump): the retry button inside it, the reason under it.
    root.classList.add("off");
    say(text);
    retryButton.hidden = false;
  }

  // --- the decoder ------------------------------------------------------------------------------

  async function nativeDetector() {
    if (!("BarcodeDetector" in window)) { return null; }
    let formats;
    try { formats = await window.BarcodeDetector.getSupportedFormats(); } catch (error) { return null; }
    const all = NEEDED.every(function (f) { return formats.indexOf(f) >= 0; });
    if (!all) { return null; }  // e.g. QR only: our products carry EAN-13 and Code 128 too
    return new window.BarcodeDetector({ formats: FORMATS.filter(function (f) { return formats.indexOf(f) >= 0; }) });
  }

  // The ponyfill (15 KB gz, and its .wasm) only where the phone has no decoder of its own: a classic
  // script, added as a tag (its globals are the page's; the CSP allows our own files).
  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      const script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = function () { reject(new Error("decoder script missing")); };
      document.head.appendChild(script);
    });
  }

  async function vendoredDetector() {
    if (!window.BarcodeDetectionAPI) { await loadScript(root.getAttribute("data-ponyfill")); }
    const api = window.BarcodeDetectionAPI;
    if (!api) { throw new Error("decoder script missing"); }
    const wasm = root.getAttribute("data-wasm");
    // Our copy of the .wasm, never the library's default CDN: the service worker caches it for
    // offline use and the CSP allows no other host.
    await api.prepareZXingModule({
      overrides: { locateFile: function (path, prefix) { return /\.wasm$/.test(path) ? wasm : prefix + path; } },
      fireImmediately: true
    });
    return new api.BarcodeDetector({ formats: FORMATS });
  }

  async function makeDetector() {
    return (await nativeDetector()) || vendoredDetector();
  }

  // --- the camera -------------------------------------------------------------------------------

  function cameraProblem(error) {
    let name = error && error.name;
    if (name === "NotAllowedError" || name === "SecurityError") { return msg("denied"); }
    if (name === "NotFoundError" || name === "OverconstrainedError") { return msg("missing"); }
    if (name === "NotReadableError" || name === "AbortError") { return msg("busy"); }
    return msg("missing");
  }

  function track() { return stream ? stream.getVideoTracks()[0] : null; }

  function stopCamera() {
    clearTimeout(timer);
    timer = null;
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
    stream = null;
    video.srcObject = null;
    torchOn = false;
  }

  function showTorch() {
    let t = track();
    let caps = t && typeof t.getCapabilities === "function" ? t.getCapabilities() : null;
    torchButton.hidden = !(caps && caps.torch);
    torchButton.textContent = msg("torchOn");
  }

  async function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      // Camera access needs a secure context (HTTPS, or localhost).
      throw new Error(msg("insecure"));
    }
    say(msg("starting"));
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
        audio: false
      });
      video.srcObject = stream;
      await video.play();
    } catch (error) {
      stopCamera();
      throw new Error(cameraProblem(error));
    }
    showTorch();
  }

  let detectorReady = null;
  let starting = false;

  async function begin() {
    // One camera at a time: visibilitychange and pageshow can both fire while one is starting.
    if (stream || starting || leaving) { return; }
    starting = true;
    retryButton.hidden = true;
    root.classList.remove("off");
    // The decoder loads while the camera starts (compiling the WebAssembly takes a moment).
    if (!detectorReady) {
      detectorReady = makeDetector();
      detectorReady.catch(function () {});  // handled below once the camera runs; never "uncaught"
    }
    try {
      await startCamera();
    } catch (error) {
      starting = false;
      cameraOff(error.message);
      return;
    }
    starting = false;
    if (document.hidden) { stopCamera(); return; }  // the phone went to sleep meanwhile
    if (!detector) { say(msg("loading")); }
    try {
      detector = await detectorReady;
    } catch (error) {
      stopCamera();
      detectorReady = null;
      cameraOff(msg("decoder"));
      return;
    }
    say(msg("ready"));
    schedule();
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(read, INTERVAL);
  }

  async function read() {
    if (!stream || !detector || leaving) { return; }
    if (video.readyState < 2) { schedule(); return; }
    let codes = null;
    try {
      codes = await detector.detect(video);
    } catch (error) {
      // A frame that could not be read: the next one will do (it says nothing of what is in view).
    }
    if (codes) { saw(codes.map(function (code) { return code.rawValue; }).filter(Boolean), Date.now()); }
    if (stream) { schedule(); }
  }

  function saw(values, now) {
    // The codes of one read: those missing from it start their time out of sight; the others count.
    const inView = new Set(values);
    seen.forEach(function (missedSince, code) {
      if (missedSince === null && !inView.has(code)) { seen.set(code, now); }
    });
    inView.forEach(function (code) { found(code, now); });
  }

  function found(code, now) {
    const known = seen.has(code);
    const missedSince = seen.get(code);
    seen.set(code, null);
    // Still in view, or back after less than QUIET out of sight: a label held in front of the
    // camera counts once.
    if (known && (missedSince === null || now - missedSince < QUIET)) { return; }
    if (seen.size > 100) {
      seen.forEach(function (since, key) { if (since !== null && now - since >= QUIET) { seen.delete(key); } });
    }
    send(code, false);
  }

  // --- what a code did ------------------------------------------------------------------------

  function addResult(code, text, kind) {
    let empty = document.getElementById("scan-empty");
    if (empty) { empty.remove(); }
    let item = document.createElement("li");
    let box = document.createElement("div");
    let title = document.createElement("span");
    let sub = document.createElement("span");
    box.className = "item";
    title.className = "title code";
    sub.className = "sub";
    title.textContent = code;
    box.appendChild(title);
    box.appendChild(sub);
    item.appendChild(box);
    results.insertBefore(item, results.firstChild);
    while (results.children.length > KEEP) { results.removeChild(results.lastChild); }
    updateResult(item, text, kind);
    return item;
  }

  function updateResult(item, text, kind) {
    item.className = kind;
    item.querySelector(".sub").textContent = text;
  }

  function unlockAudio() {
    // Browsers start sound only after a tap; any tap on the page allows the beeps from then on.
    if (audio) { return; }
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    audio = new Context();
    if (audio.state === "suspended") { audio.resume().catch(function () {}); }
  }

  function feedback(ok) {
    if (navigator.vibrate && navigator.userActivation && navigator.userActivation.hasBeenActive) {
      navigator.vibrate(ok ? 60 : [90, 60, 90, 60, 90]);
    }
    if (!audio || audio.state !== "running") { return; }
    let tone = audio.createOscillator();
    let gain = audio.createGain();
    tone.frequency.value = ok ? 1320 : 220;
    gain.gain.value = 0.15;
    tone.connect(gain);
    gain.connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + (ok ? 0.09 : 0.35));
  }

  function markLine(line, progress) {
    let row = line ? document.querySelector('.scan-lines li[data-line="' + Number(line.id) + '"]') : null;
    if (row) {
      // A counted scan fills its line: ticked when full, else how many of it are counted so far.
      row.className = line.checked === false ? "counting" : "checked";
      row.querySelector(".line-state").textContent = line.state || msg("checked");
    }
    if (progressLine && progress) { progressLine.textContent = progress; }
  }

  function act(code, answer, item) {
    let body = answer.body || {};
    if (answer.ok && body.action === "go") {
      // One of our own links (a work-order label, a courier or badge code): open it at once.
      leaving = true;
      stopCamera();
      updateResult(item, msg("opening", { url: body.url }), "ok");
      feedback(true);
      window.location.assign(body.url);
      return;
    }
    if (answer.ok && body.action === "checked") { markLine(body.line, body.progress); }
    updateResult(item, body.message || msg("failed", { code: code, status: answer.status }), answer.ok ? "ok" : "bad");
    feedback(answer.ok);
  }

  function ownPath(code) {
    // The path of a URL under this origin or the app's public address (what labels carry), else "".
    // Only used without a connection: online, the server decides (it knows every route).
    let url;
    try { url = new URL(code); } catch (e) { return ""; }
    let bases = [window.location.origin, root.getAttribute("data-public") || ""];
    for (let i = 0; i < bases.length; i++) {
      let base;
      try { base = new URL(bases[i]); } catch (e) { continue; }
      let prefix = base.pathname.replace(/\/+$/, "");
      let path = url.pathname;
      if (url.origin !== base.origin || (path !== prefix && path.indexOf(prefix + "/") !== 0)) { continue; }
      path = path.slice(prefix.length) || "/";
      if (path.indexOf("//") === 0) { return ""; }  // "//host" would leave this origin
      return path + url.search;
    }
    return "";
  }

  async function sendPacking(code, typed) {
    // Packing changes the list: the scan goes through the outbox first (one key, so a lost answer
    // cannot tick a second line), then is sent at once; without signal it waits there.
    const shipmentId = form.elements.shipment.value;
    const item = addResult(code, "…", "pending");
    const sent = await recordAndSend(form.getAttribute("action"), [["code", code], ["shipment", shipmentId]],
                                     code, "shipment-" + shipmentId);
    let answer;
    if (sent.outcome === "sent" || sent.outcome === "stuck") {
      answer = { ok: sent.outcome === "sent", status: sent.status, body: sent.body || {} };
      if (!answer.body.message && answer.body.detail) { answer.body.message = answer.body.detail; }
      act(code, answer, item);
    } else {
      updateResult(item, msg("queued", { code: code }), "pending");
      feedback(true);
      answer = { ok: true, status: 202, body: {} };
    }
    if (typed) { typedAnswer(answer); }
    return answer;
  }

  /* The server's answer to a code ({ok, status, body}); rejects without a connection. */
  async function resolve(code) {
    const data = new FormData(form);
    data.set("code", code);
    const token = form.elements.csrf_token ? form.elements.csrf_token.value : "";
    const response = await fetch(root.getAttribute("data-resolve"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": token }
    });
    const type = response.headers.get("Content-Type") || "";
    if (type.indexOf("application/json") < 0) {
      // Not our answer (an expired form, a login page): say so instead of guessing.
      return { ok: false, status: response.status, body: {} };
    }
    return { ok: response.ok, status: response.status, body: await response.json() };
  }

  /* No connection: one of our own links still opens (the service worker may have the page). */
  function unsent(code, item) {
    const path = ownPath(code);
    if (path) {
      act(code, { ok: true, status: 200, body: { action: "go", url: path } }, item);
      return { ok: true, status: 200, body: {} };
    }
    updateResult(item, msg("offline", { code: code }), "bad");
    feedback(false);
    return { ok: false, status: 0, body: { message: msg("offline", { code: code }) } };
  }

  async function send(code, typed) {
    if (form.elements.shipment && form.elements.shipment.value && outboxAvailable) {
      return sendPacking(code, typed);
    }
    const item = addResult(code, "…", "pending");
    let answer = null;
    try {
      answer = await resolve(code);
    } catch (error) {
      answer = null;
    }
    if (answer) { act(code, answer, item); } else { answer = unsent(code, item); }
    if (typed) { typedAnswer(answer); }
    return answer;
  }

  // --- manual entry (a real form; with JS it stays on this page and the camera keeps running) ---

  function fieldError(text) {
    let input = form.elements.code;
    let box = input.closest(".field");
    let error = document.getElementById("code-err");
    if (!text) {
      if (error) { error.remove(); }
      box.classList.remove("invalid");
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
      return;
    }
    if (!error) {
      error = document.createElement("p");
      error.className = "error";
      error.id = "code-err";
      box.appendChild(error);
    }
    error.textContent = text;
    box.classList.add("invalid");
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", "code-err");
  }

  function typedAnswer(answer) {
    if (answer.ok) {
      form.elements.code.value = "";
      fieldError("");
    } else {
      // Keep what was typed, and say why next to it.
      fieldError(answer.body.message || msg("failed", { code: form.elements.code.value, status: answer.status }));
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    unlockAudio();
    send(form.elements.code.value.trim(), true);
  });

  torchButton.addEventListener("click", async function () {
    const t = track();
    if (!t) { return; }
    const wanted = !torchOn;
    try {
      await t.applyConstraints({ advanced: [{ torch: wanted }] });
    } catch (error) {
      torchButton.hidden = true;
      return;
    }
    torchOn = wanted;
    torchButton.textContent = msg(torchOn ? "torchOff" : "torchOn");
  });

  retryButton.addEventListener("click", begin);
  document.addEventListener("pointerdown", unlockAudio, { passive: true });
  document.addEventListener("keydown", unlockAudio);

  // The camera runs only while the page is shown: a phone in a pocket must not keep it on.
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) { stopCamera(); } else { begin(); }
  });
  window.addEventListener("pagehide", stopCamera);
  window.addEventListener("pageshow", function (event) { if (event.persisted) { leaving = false; begin(); } });

  root.hidden = false;
  begin();
}
