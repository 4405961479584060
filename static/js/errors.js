// A refused form: its error summary is focused, so that it is on the screen (the form
// may be at the foot of a long page, out of sight on a phone) and read out first.
(function () {
  "use strict";
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
  }
})();
