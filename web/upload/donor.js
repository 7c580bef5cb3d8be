// The donor's page (/builds/ID): the Copy link button. Everything else on
// the page is made by the server and works without JavaScript.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("copy-link");
  const field = document.getElementById("page-url");
  const status = document.getElementById("copy-status");
  if (!button || !field) return;
  const say = (text) => { status.textContent = text; };
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(field.value);
      say("Copied.");
    } catch (e) {
      // No clipboard permission (an older browser, a page not over
      // HTTPS): select the address so that Ctrl-C or Cmd-C copies it.
      field.focus();
      field.select();
      say(document.execCommand && document.execCommand("copy") ? "Copied." : "Selected: press Ctrl-C (Cmd-C on a Mac) to copy.");
    }
  });
});
