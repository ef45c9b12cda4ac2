"""The printable invoice: one rendering for the admin's print page and the e-mail attachment."""

from typing import Any

from django.template.loader import render_to_string

from invoices.display import line_arithmetic, money_text
from invoices.models import Invoice


def invoice_print_context(invoice: Invoice) -> dict[str, Any]:
    lines = [
        {
            "line": line,
            "amount": money_text(line.amount, invoice.currency),
            "steps": line_arithmetic(line, invoice.currency),
        }
        for line in invoice.lines.order_by("position", "id")
    ]
    return {
        "invoice": invoice,
        "lines": lines,
        "total": money_text(invoice.total, invoice.currency),
        "title": str(invoice),
    }


def invoice_print_html(invoice: Invoice) -> str:
    return render_to_string("invoices/invoice_print.html", invoice_print_context(invoice))
