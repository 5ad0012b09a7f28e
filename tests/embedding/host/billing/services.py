"""The shop's domain code: paying an invoice emits invoice.paid in the same transaction."""

from django.db import transaction

import events
from events.models import Organisation


def pay_invoice(invoice: int, amount: str, *, tenant: str = "shop") -> str:
    """Returns the event id (the webhook-id receivers see); only the tenant's endpoints receive it."""
    with transaction.atomic():
        # ... mark the invoice paid ...
        event = events.emit(
            "invoice.paid",
            {"invoice": invoice, "amount": amount},
            organisation=Organisation.objects.get(slug=tenant),
            idempotency_key=f"inv-{invoice}-paid",
        )
    return event.id
