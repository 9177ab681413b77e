from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Figure(BaseModel):
    """A number, or null and `suppressed` when drawn from too few customers to publish."""

    value: int | None
    suppressed: bool


class ContractCounts(BaseModel):
    active: Figure = Field(description="Contracts with at least one service day in the month.")
    new: Figure = Field(description="Contracts whose service started in the month.")
    ended: Figure = Field(description="Contracts whose termination took effect in the month.")


class PlanCounts(ContractCounts):
    plan: str


class OptionCounts(ContractCounts):
    option: Literal["soc", "reserved_ip", "ad_integration"]


class Contracts(BaseModel):
    total: ContractCounts
    by_plan: list[PlanCounts]
    by_option: list[OptionCounts]


class ItemAmount(BaseModel):
    item: str
    tax_category: Literal["taxable", "non_taxable"]
    amount: Figure


class Invoiced(BaseModel):
    by_item: list[ItemAmount] = Field(
        description="Line amounts of the month's invoices (void ones excluded), before tax."
    )
    tax: Figure


class Received(BaseModel):
    count: Figure
    amount: Figure


class Overdue(BaseModel):
    count: Figure
    balance: Figure = Field(description="What those invoices still owe.")


class MonthlyStats(BaseModel):
    """Aggregates that identify no customer (Art. 32.1(4)): no id, name or address, and
    every figure drawn from fewer than `min_customers` customers suppressed."""

    month: str
    min_customers: int
    contracts: Contracts
    license_ids: Figure = Field(description="Licence IDs of the month's active contracts.")
    invoiced: Invoiced
    payments_received: Received = Field(description="Payments dated in the month.")
    invoices_overdue: Overdue = Field(
        description="The month's invoices past their due date and still unpaid today."
    )
