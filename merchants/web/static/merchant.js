// The merchant page works without this file. It adds camera scanning where the browser can read QR
// codes itself (BarcodeDetector; hidden elsewhere) and keeps a double tap from posting a form twice.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-once]")) {
    form.addEventListener("submit", () => {
      for (const button of form.querySelectorAll("button")) button.disabled = true;
    });
  }
  setUpScanner();
});

async function setUpScanner() {
  const button = document.getElementById("scan");
  const form = document.getElementById("code-form");
  const input = document.getElementById("code");
  const video = document.getElementById("scanner");
  const problem = document.getElementById("scan-error");
  if (!button || !form || !input || !video || !("BarcodeDetector" in window)) return;
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  try {
    const formats = await window.BarcodeDetector.getSupportedFormats();
    if (!formats.includes("qr_code")) return;
  } catch {
    return;
  }
  const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
  const label = button.textContent;
  let stream = null;

  const stop = () => {
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = null;
    video.hidden = true;
    button.textContent = label;
  };

  const look = async () => {
    if (!stream) return;
    try {
      const found = await detector.detect(video);
      const text = found.length ? found[0].rawValue.trim() : "";
      if (text) {
        stop();
        input.value = text;
        form.requestSubmit();
        return;
      }
    } catch {
      // A frame that is not ready yet; the next one will do.
    }
    setTimeout(look, 200);
  };

  button.hidden = false;
  button.addEventListener("click", async () => {
    if (stream) {
      stop();
      return;
    }
    problem.hidden = true;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch {
      problem.textContent = button.dataset.failed;
      problem.hidden = false;
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    button.textContent = button.dataset.stop;
    await video.play();
    look();
  });
}
