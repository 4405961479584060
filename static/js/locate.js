// "Use my location" on the class search forms: the browser's position fills the form's
// `lat` and `lon` and the search is sent, nearest classes first. The button starts
// hidden (without JavaScript or geolocation there is nothing it could do) and is shown
// here; a refusal or failure is said next to it, and typing a place still works.
(function () {
  "use strict";

  function hiddenInput(form, name) {
    var input = form.querySelector('input[type="hidden"][name="' + name + '"]');
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      form.appendChild(input);
    }
    return input;
  }

  function reason(error) {
    if (error && error.code === 1) {
      return "This browser was not allowed to share your location.";
    }
    if (error && error.code === 3) {
      return "Finding your location took too long.";
    }
    return "Your location could not be found.";
  }

  // After a search from the browser's position, the form carries that point; a place
  // typed afterwards is a new search, so the point is dropped as soon as one is typed.
  document.querySelectorAll('form[role="search"]').forEach(function (form) {
    var q = form.querySelector('[name="q"]');
    if (!q) {
      return;
    }
    q.addEventListener("input", function () {
      form.querySelectorAll('input[type="hidden"][name="lat"], input[type="hidden"][name="lon"]')
        .forEach(function (input) {
          input.remove();
        });
    });
  });

  if (!("geolocation" in navigator)) {
    return;
  }

  document.querySelectorAll("button[data-locate]").forEach(function (button) {
    var form = button.form;
    var status = document.getElementById(button.getAttribute("aria-describedby"));
    if (!form) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      if (status) {
        status.textContent = "Finding your location…";
      }
      navigator.geolocation.getCurrentPosition(
        function (position) {
          // Three decimals (about 100 m) are plenty for "classes near me".
          hiddenInput(form, "lat").value = position.coords.latitude.toFixed(3);
          hiddenInput(form, "lon").value = position.coords.longitude.toFixed(3);
          // The position replaces any place typed, which would be a second point.
          var q = form.querySelector('[name="q"]');
          if (q) {
            q.value = "";
          }
          form.submit();
        },
        function (error) {
          button.disabled = false;
          if (status) {
            status.textContent = reason(error) + " Type a postcode or town instead.";
          }
        },
        { timeout: 15000, maximumAge: 600000 }
      );
    });
  });
})();
