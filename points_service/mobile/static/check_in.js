// Checking in at an activity that checks the place (data-needs-place): the browser's position is only
// available to script, so the form asks for it, fills latitude and longitude, and then is sent. Without
// a position (refused, no GPS, too slow) the form is sent as it is and the server says a location is needed.
for (const form of document.querySelectorAll("form[data-needs-place]")) {
  form.addEventListener("submit", (event) => {
    if (!navigator.geolocation) return;
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    // form.submit() sends without firing "submit" again.
    const send = () => form.submit();
    navigator.geolocation.getCurrentPosition(
      (found) => {
        form.elements.latitude.value = String(found.coords.latitude);
        form.elements.longitude.value = String(found.coords.longitude);
        send();
      },
      send,
      { timeout: 10000, maximumAge: 60000 },
    );
  });
}
