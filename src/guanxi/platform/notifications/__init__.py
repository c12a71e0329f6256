"""In-app notifications: the bell in the header. Email and digests arrive with the automation issue."""
