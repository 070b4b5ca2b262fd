"""`imdb-leap`, the local toolkit's command line, and what only it needs (review files, push, the test runner)."""
