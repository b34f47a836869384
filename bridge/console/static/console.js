// Live parts of a page: an element with data-events takes its HTML from the server's
// event stream ("update"), until the server says nothing more will change ("end").
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const region of document.querySelectorAll("[data-events]")) {
    const source = new EventSource(region.dataset.events);
    source.addEventListener("update", (event) => {
      region.innerHTML = event.data;
      region.dataset.updated = String(Number(region.dataset.updated || "0") + 1);
    });
    source.addEventListener("end", () => {
      source.close();
      region.dataset.final = "true";
    });
  }
});
