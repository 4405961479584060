// The pay page: Stripe.js turns the card into a token in the browser; only the token's
// card id is posted to us. When the bank asks for authentication (3-D Secure), the
// server answers with the PaymentIntent's secret and Stripe.js runs the check here.
(function () {
  "use strict";
  var form = document.getElementById("pay-form");
  if (!form || typeof Stripe !== "function") {
    return;
  }
  var stripe = Stripe(form.getAttribute("data-key"));
  var message = document.getElementById("pay-message");
  var returnUrl = form.getAttribute("data-return-url");
  var secret = form.getAttribute("data-authenticate");

  function say(text) {
    if (message) {
      message.textContent = text;
    }
  }

  if (secret) {
    stripe.confirmCardPayment(secret).then(function () {
      window.location.assign(returnUrl);
    });
    return;
  }

  var card = stripe.elements().create("card");
  card.mount("#card-element");
  var button = document.getElementById("pay-button");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    say("Checking your card\u2026");
    stripe.createToken(card).then(function (result) {
      if (result.error || !result.token || !result.token.card) {
        var error = result.error || {};
        say(error.message || "Please check the card number, expiry date and security code.");
        button.disabled = false;
        return;
      }
      form.elements.payment_method.value = result.token.card.id;
      say("Paying\u2026");
      form.submit();
    });
  });
})();
