"""The triggers: which of the helpdesk's events tell whom (filled in below)."""
