"""Demo data for trying the product (`flask --app wsgi seed-demo`), idempotent.

- data: the centres, people, a term of classes and the families booked on them.
- seed: seed_demo (create whatever is missing, in one transaction; refused in
  production) and the `seed-demo` command.
- courses: courses as they really run: an absence made up in another course, an
  immunisation week, a class below its minimum at its decision time.
- health: the demo parent's health answers (given once, with consent): none for Leo,
  and hip dysplasia in treatment for Ivy, born early, so her booking needs clearance.
"""
