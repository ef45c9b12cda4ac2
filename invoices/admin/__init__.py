"""The invoices admin: invoices and their lines, billing runs, and the running period on the
catalog's customer and subscription pages."""

from invoices.admin import (  # noqa: F401 - registers the admins
    coupons,
    customer_coupons,
    invoices,
    running,
    runs,
)
