"""What the instructor must know about each baby before the first stroke.

- questions: the health questions in force at a centre (the product's set, or the
  centre's own version) and the health-and-safety text a parent consents to;
  save_centre_form (staff publish a new version).
- answers: a baby's health record; save_answers (with explicit consent),
  confirm_unchanged (one tap before another course), what a booking still needs.
- flags: what the answers mean for a class (doll today, needs a doctor's word,
  allergies), shown to the instructor and staff at a glance.
- clearance: the instructor (or staff) clears a booking that needs a doctor's word.
- readiness: "Ready for <day>?" before each session: well, unwell (an absence with a
  make-up credit) or immunised (watch and practise on a doll).
- makeup_readiness: the same for a make-up visit, where unwell cancels the make-up.
- access: who may read health answers (the class's instructor, the centre's staff).

Health answers are special-category data: nothing here writes them to an email, a
feed, the API's lists or a log line.
"""
