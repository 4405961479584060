"""Payments: taking a workshop's fee online, holding the place while the parent pays,
and refunding without staff work.

- `money`: amounts in minor units, shown in the centre's currency ("£60.00").
- `gateway`: the payment provider (Stripe, through its official SDK); every call is
  made outside any database transaction.
- `ledger`: payment and refund rows, written inside the caller's transaction (holds,
  offers, refunds by the workshop's policy); no provider call.
- `checkout`: the pay page: the PaymentIntent, the card confirmed, the return read.
- `settle`: a PaymentIntent that succeeded confirms its place, or is refunded in full.
- `webhook`: provider events, signature checked, each acted on once.
- `worker`: `flask payments run`: refunds carried out once, holds and offers expired,
  payments whose event never came reconciled, session refunds nobody chose made.
- `staff`: marking a fee paid at the centre, refunds by hand, and the figures.
"""
