"""The invoices admin: invoices and their lines, billing runs, the add-on catalog and one-off
invoices, and the running period on the catalog's customer and subscription pages."""

from invoices.admin import (  # noqa: F401 - registers the admins
    add_ons,
    coupons,
    customer_coupons,
    invoices,
    running,
    runs,
)
