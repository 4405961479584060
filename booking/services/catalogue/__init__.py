"""Finding classes: search, centres, instructors and topic pages.

- search: search_workshops, scope_for, get_workshop, find_workshop, upcoming, list_centres,
  get_centre, get_instructor, offered_topics (the public catalogue's reads).
- params: parse_search (the search form and API query, checked).
- scope: Scope (where a search looks: point, radius, text, country, message).
- geocode: find_place (postcodes and place names to a point, cached), and
  country_from_languages.
- filters: distance and word conditions of a search.
- dates: local-date and age conditions of a search, in SQL.
- topic_pages: topic_page (what a class for this need is like, and who teaches it).
- centres: create_centre, update_centre, managed_centres (centres kept by admins and
  staff).
"""
