"""The notification-failure watcher: Quay disables a notification after 3 failures and tells no one."""
