"""The API keys resource: admins issue, list and revoke the keys integrations use."""
