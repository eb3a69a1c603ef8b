"""The public site: the HTML pages (search, call, funder and programme pages, calendar,
statistics, embeddable lists), its feeds, sitemaps and template tags; it reads `calls.reading`."""
