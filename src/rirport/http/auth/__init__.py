"""Authentication at the HTTP edge: who is asking (bearer token or signed session cookie),
CSRF checks for cookie-authenticated changes, the error answers, and the HTML forms."""
