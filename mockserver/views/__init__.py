"""Domain objects shown as the API's JSON, per API version — the one place where JSON answers are built."""
