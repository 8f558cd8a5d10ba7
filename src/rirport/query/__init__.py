"""The read side every edge uses (CLI, HTTP API, RDAP, pages): parse the input
(:mod:`~rirport.query.parse`), get a view (:mod:`~rirport.query.view`, or a server's
:mod:`~rirport.query.live` generation), ask (:mod:`~rirport.query.lookup`,
:mod:`~rirport.query.search`, :mod:`~rirport.query.bulk`, :mod:`~rirport.query.history`), and
render. Each fact shown to a reader is computed here once: transfer dates
(:mod:`~rirport.query.transfers`), holder identity (:mod:`~rirport.query.holders`), IANA's
blocks (:mod:`~rirport.query.iana`), counts (:mod:`~rirport.query.stats`) and the integrity
check (:mod:`~rirport.query.integrity`). No Click, FastAPI or SQL text here."""
