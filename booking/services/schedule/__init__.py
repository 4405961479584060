"""Publishing the schedule: workshops and their sessions, by hand, by API or from a CSV.

- create: add_workshop, create_workshop (a course or single class with its sessions).
- edit: edit_workshop (details, capacity and status in one transaction),
  update_workshop, publish_workshop, unpublish_workshop, cancel_workshop.
- sessions: add_session, move_session, cancel_session (sessions numbered by time).
- copy: copy_workshop, copy_term ("Run again": a workshop or a term on new dates, as
  drafts).
- imports: parse_schedule, import_schedule (a term from a CSV, all or nothing);
  import_rows judges its rows.
- decisions: run_decisions (minimum numbers decided, waiting lists closed),
  confirm_run.
- topic_tags: set_workshop_topics, set_instructor_topics.
- fields: the rule for each field, shared by the staff pages, the API and the CSV;
  payment_fields: those of how a workshop is paid (mode, deposit, cancellation fee),
  and payment_input: changing them once families have booked.
- workshop_input: whole-workshop checks for creating (check_workshop) and editing
  (clean_workshop_changes).
- queries: a workshop's sessions, booked and waiting counts, topics.
"""
