"""From class to home: what each week teaches, the sheet families take home after it, and
whether the course helped.

- templates: the product's library of plan templates (a 5-week course, a 4-week course,
  a colic single session, a premature-baby course), each week's title, what it covers
  and its home practice, in the product's own words.
- apply: copying a template into a workshop's sessions, and editing one session's plan.
- practice: after each session ends, every family booked on it (absent ones too, and
  those who made that week up elsewhere) gets the week's home-practice sheet, once.
- evaluations: at the end of a course (not a single class) each family is asked, once,
  how confident they felt before and after; results per course and instructor, and
  consented quotes.
- families: which babies a family's sheet or request names (all of them, for twins).
"""
