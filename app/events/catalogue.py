"""The event types a client can receive (API.md "Events"), and the ones changes need beyond it.

A type is ``<resource>.<what happened>``, past tense. Types are data the clients code
against: add new ones freely, never rename or remove one.
"""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    CUSTOMER_CREATED = "customer.created"
    CUSTOMER_UPDATED = "customer.updated"
    CONTRACT_APPLIED = "contract.applied"
    CONTRACT_ACCEPTED = "contract.accepted"
    CONTRACT_REJECTED = "contract.rejected"
    CONTRACT_WITHDRAWN = "contract.withdrawn"
    CONTRACT_ONBOARDING_STARTED = "contract.onboarding_started"
    CONTRACT_MILESTONE_DONE = "contract.milestone_done"
    CONTRACT_INSPECTED = "contract.inspected"
    CONTRACT_ACTIVATED = "contract.activated"
    CONTRACT_LICENSE_CHANGED = "contract.license_changed"
    CONTRACT_OPTION_ADDED = "contract.option_added"
    CONTRACT_OPTION_REMOVED = "contract.option_removed"
    CONTRACT_PLAN_CHANGED = "contract.plan_changed"
    CONTRACT_TERMINATION_SCHEDULED = "contract.termination_scheduled"
    CONTRACT_TERMINATED = "contract.terminated"
    CONTRACT_CANCELLED = "contract.cancelled"
    CONTRACT_RENEWED = "contract.renewed"
    CONTRACT_SUSPENDED = "contract.suspended"
    CONTRACT_RESUMED = "contract.resumed"
    CHARGE_RECORDED = "charge.recorded"
    INVOICE_ISSUED = "invoice.issued"
    INVOICE_PAID = "invoice.paid"
    INVOICE_OVERDUE = "invoice.overdue"
    INVOICE_VOIDED = "invoice.voided"
    PAYMENT_RECORDED = "payment.recorded"
    CREDIT_NOTE_ISSUED = "credit_note.issued"
    SOC_REPORT_CREATED = "soc_report.created"
    SOC_REPORT_CRITICAL = "soc_report.critical"
    BILLING_RUN_FINISHED = "billing_run.finished"
    WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint.disabled"
