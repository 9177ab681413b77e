"""The onboarding service, from the start to the service start (R-LC-5, R-LC-6)."""
