"""{% dashboard_panel %}: the dashboard on the admin's landing page (templates/admin/index.html)."""

from typing import Any

from django import template
from django.utils import timezone

from dashboard.panel import dashboard_context

register = template.Library()


@register.inclusion_tag("dashboard/panel.html", takes_context=True)
def dashboard_panel(context: template.Context) -> dict[str, Any]:
    return dashboard_context(user=context["request"].user, at=timezone.now())
