// The console's only script: drag and drop onto the upload form (the plain file input works
// without it). Served from /console/static/console.js; pages allow no other script.
(function () {
  "use strict";
  var zone = document.getElementById("dropzone");
  var input = document.getElementById("document");
  if (!zone || !input) { return; }
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault();
      zone.classList.add("over");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function () { zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    if (!event.dataTransfer || event.dataTransfer.files.length === 0) { return; }
    input.files = event.dataTransfer.files;
    var name = document.getElementById("chosen");
    if (name) { name.textContent = input.files[0].name; }
  });
  input.addEventListener("change", function () {
    var name = document.getElementById("chosen");
    if (name && input.files.length) { name.textContent = input.files[0].name; }
  });
})();
