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
- `session_refunds`: a session the centre cancels in a paid course: each family that
  paid chooses a make-up credit or a refund of that session's share (refund within 7
  days when they do not choose).
- `staff`: marking a fee paid at the centre (and undoing it), and refunds by hand.
- `figures`: a place's money as staff see it (paid, held, offered, refunded, owed at
  the centre) and the totals; `queries` reads them for a workshop or a centre, and
  `export` writes them as CSV.
"""
