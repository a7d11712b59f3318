"""`quaybot setup`: the first run. A page on 127.0.0.1 (or the same steps in the terminal) that checks
Quay, maps channels to namespaces, creates the Slack app from its manifest, checks its tokens, and
writes `.env` and `access.yml`."""
