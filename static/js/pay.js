// The pay page: Stripe.js turns the card into a token in the browser; only the token's
// card id is posted to us. When the bank asks for authentication (3-D Secure), the
// server answers with the PaymentIntent's secret and Stripe.js runs the check here.
// The form starts hidden (without JavaScript there is nothing it could do) and is
// shown once the card form can work.
(function () {
  "use strict";
  var form = document.getElementById("pay-form");
  var message = document.getElementById("pay-message");

  function say(text) {
    if (message) {
      message.textContent = text;
    }
  }

  if (!form) {
    return;
  }
  if (typeof Stripe !== "function") {
    say("The card form could not be loaded. Please check your connection and reload this page.");
    return;
  }
  var stripe = Stripe(form.getAttribute("data-key"));
  var returnUrl = form.getAttribute("data-return-url");
  var secret = form.getAttribute("data-authenticate");

  if (secret) {
    // Whatever the check's outcome, the return page asks the provider how the payment
    // stands and says so (paid and confirmed, or try again).
    stripe.confirmCardPayment(secret).then(function () {
      say("Checking the payment\u2026");
      window.location.assign(returnUrl);
    });
    return;
  }

  form.hidden = false;
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  var button = document.getElementById("pay-button");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    say("Checking your card\u2026");
    function refused(error) {
      say((error && error.message) || "Please check the card number, expiry date and security code.");
      button.disabled = false;
    }
    stripe.createToken(card).then(function (result) {
      if (result.error || !result.token || !result.token.card) {
        refused(result.error);
        return;
      }
      form.elements.payment_method.value = result.token.card.id;
      say("Paying\u2026");
      form.submit();
    }, function () {
      refused(null);
    });
  });
})();
