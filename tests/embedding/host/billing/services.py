"""The shop's domain code: paying an invoice emits invoice.paid in the same transaction."""
from django.db import transaction

import events


def pay_invoice(invoice: int, amount: str) -> str:
    with transaction.atomic():
        # ... mark the invoice paid ...
        event = events.emit("invoice.paid", {"invoice": invoice, "amount": amount}, idempotency_key=f"inv-{invoice}-paid")
    return event.id
