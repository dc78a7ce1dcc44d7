// The one QR scanner of every page (served by each page at <page>/static/web/scanner.js). A page works
// without it: the code can always be typed. Where the browser can open a camera, each
//
//   <div data-scanner data-into="ID OF THE INPUT" data-stop="WORDS" data-failed="WORDS">
//     <button type="button" data-scan hidden>WORDS</button>
//     <video hidden muted playsinline></video>
//     <p class="alert" role="alert" hidden></p>
//   </div>
//
// gets its button shown; a tap opens the back camera, and the first QR code read is put into the input,
// whose form is then sent as if its button were pressed (so a page's own "submit" handlers still run).
//
// Reading: the browser's own BarcodeDetector where it has one that knows QR codes; everywhere else
// (Firefox, desktop Chromium, many Android WebViews) jsQR, shipped with the page (vendor/jsqr, from
// the npm package "jsqr", Apache-2.0) and loaded only when needed, on the camera's frames.
"use strict";

const JSQR_URL = new URL("./vendor/jsqr/jsQR.js", import.meta.url).href;
const LOOK_EVERY_MS = 150;
// Frames are read at most this many pixels on their long side: enough for a code filling a fifth of
// the picture, and quick enough on an old phone.
const LARGEST_SIDE = 800;

let jsQRLoading = null;
let running = null;

function loadJsQR() {
  if (typeof window.jsQR === "function") return Promise.resolve(window.jsQR);
  if (!jsQRLoading) {
    jsQRLoading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = JSQR_URL;
      script.onload = () => (typeof window.jsQR === "function" ? resolve(window.jsQR) : reject(new Error("jsQR")));
      script.onerror = () => {
        jsQRLoading = null;
        reject(new Error("jsQR could not be loaded"));
      };
      document.head.append(script);
    });
  }
  return jsQRLoading;
}

async function nativeReader() {
  if (!("BarcodeDetector" in window)) return null;
  try {
    const formats = await window.BarcodeDetector.getSupportedFormats();
    if (!formats.includes("qr_code")) return null;
    const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    return async (video) => {
      const found = await detector.detect(video);
      return found.length ? found[0].rawValue : "";
    };
  } catch {
    return null;
  }
}

async function jsQRReader() {
  const jsQR = await loadJsQR();
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  return async (video) => {
    const width = video.videoWidth;
    const height = video.videoHeight;
    if (!width || !height) return "";
    const scale = Math.min(1, LARGEST_SIDE / Math.max(width, height));
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    const image = context.getImageData(0, 0, canvas.width, canvas.height);
    const found = jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
    return found ? found.data : "";
  };
}

function send(form) {
  if (typeof form.requestSubmit === "function") form.requestSubmit();
  else form.submit();
}

function setUp(box) {
  const button = box.querySelector("[data-scan]");
  const video = box.querySelector("video");
  const problem = box.querySelector("[role=alert]");
  const input = document.getElementById(box.dataset.into || "");
  if (!button || !video || !input || !input.form) return;
  const label = button.textContent;
  let stream = null;
  let timer = 0;

  const say = (words) => {
    if (!problem) return;
    problem.textContent = words || "";
    problem.hidden = !words;
  };

  const stop = () => {
    clearTimeout(timer);
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = null;
    video.srcObject = null;
    video.hidden = true;
    button.textContent = label;
    box.removeAttribute("data-scanning");
    if (running === stop) running = null;
  };

  const start = async () => {
    if (running) running();
    running = stop;
    box.setAttribute("data-scanning", "");
    say("");
    button.textContent = box.dataset.stop || label;
    let opened = null;
    let read;
    try {
      opened = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
      read = (await nativeReader()) || (await jsQRReader());
    } catch {
      if (opened) for (const track of opened.getTracks()) track.stop();
      if (running === stop) {
        stop();
        say(box.dataset.failed);
      }
      return;
    }
    if (running !== stop) {
      // Stopped while the camera was opening.
      for (const track of opened.getTracks()) track.stop();
      return;
    }
    stream = opened;
    video.srcObject = stream;
    video.hidden = false;
    try {
      await video.play();
    } catch {
      // Autoplay of a muted inline video is allowed everywhere we care about; frames still arrive.
    }
    const look = async () => {
      if (!stream) return;
      let text = "";
      try {
        text = (await read(video)).trim();
      } catch {
        // A frame that is not ready yet; the next one will do.
      }
      if (!stream) return;
      if (text) {
        stop();
        input.value = text;
        input.dispatchEvent(new Event("input", { bubbles: true }));
        send(input.form);
        return;
      }
      timer = setTimeout(look, LOOK_EVERY_MS);
    };
    look();
  };

  button.addEventListener("click", () => (box.hasAttribute("data-scanning") ? stop() : start()));
  button.hidden = false;
}

if (navigator.mediaDevices && typeof navigator.mediaDevices.getUserMedia === "function") {
  for (const box of document.querySelectorAll("[data-scanner]")) setUp(box);
  // A camera left on in a background tab is a battery drain and a privacy worry.
  document.addEventListener("visibilitychange", () => {
    if (document.hidden && running) running();
  });
}
