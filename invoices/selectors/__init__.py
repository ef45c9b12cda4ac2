"""Reads of invoices: ``from invoices.selectors import invoice_get``."""
