"""Finding classes: search, centres, instructors and topic pages.

- search: search_workshops, get_workshop, upcoming, list_centres, get_centre,
  get_instructor, offered_topics (the public catalogue's reads).
- params: parse_search (the search form and API query, checked).
- filters: distance and word conditions of a search.
- dates: local-date and age conditions of a search, in SQL.
- topic_pages: topic_page (what a class for this need is like, and who teaches it).
- centres: create_centre, update_centre, managed_centres (centres kept by admins and
  staff).
"""
