"""The Slack side: Bolt app, listeners, HTTP and Socket Mode serving. The only package that knows Slack."""
