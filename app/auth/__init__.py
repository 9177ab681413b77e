"""API keys, roles and the dependency every /v1 route uses to say who may call it."""
