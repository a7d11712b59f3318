"""quaybot: chat-ops for Red Hat Quay in Slack."""

__version__ = "0.1.0"
