"""Webhook endpoints and the delivery of events to them (Standard Webhooks, at least once)."""
