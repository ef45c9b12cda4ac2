"""What the catalog's admin classes share: saving through services, and showing a service's
refusal on the form it came from.

Admin forms check what they can before saving (field types, model constraints, and the pure
property validation), but some rules live only in the services (a member id another customer
took a second ago, two overrides in force at once). When a service refuses, ``ServiceAdmin``
rolls back everything the save did, then renders the same form again with the service's
messages attached to the fields they name, so the operator fixes the input instead of reading
a stack trace or a half-applied change.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from billing_site.core.exceptions import ApplicationError

ServiceErrors = dict[str | None, list[str]]

_ERRORS_ATTR = "_plans_service_errors"


def service_errors(error: ApplicationError | ValidationError) -> ServiceErrors:
    """A service error as ``{field path or None: [messages]}``."""
    if isinstance(error, ApplicationError):
        errors: ServiceErrors = {key: list(value) for key, value in error.fields.items()}
        listed = {message for values in errors.values() for message in values}
        if error.message not in listed:
            errors = {None: [error.message], **errors}
        return errors
    if hasattr(error, "error_dict"):
        return {
            (None if key == "__all__" else key): list(values)
            for key, values in error.message_dict.items()
        }
    return {None: list(error.messages)}


def error_text(error: ApplicationError | ValidationError) -> str:
    """One line for a message: the service's sentence, or its messages joined."""
    if isinstance(error, ApplicationError):
        return error.message
    return " ".join(error.messages)


def add_errors_to_form(form: forms.BaseForm, errors: Mapping[str | None, Iterable[str]]) -> None:
    """Attach ``errors`` to the fields they name; others become non-field errors that keep
    their path (``value.amount: ...``) so the operator knows what they are about."""
    mapper = getattr(form, "add_service_error", None)
    for field, field_messages in errors.items():
        for message in field_messages:
            if mapper is not None and mapper(field, message):
                continue
            if field in form.fields:
                form.add_error(field, message)
            elif field:
                form.add_error(None, f"{field}: {message}")
            else:
                form.add_error(None, message)


class ServiceAdmin(admin.ModelAdmin):
    """A ModelAdmin whose ``save_model``/``save_formset`` call services that may refuse."""

    def _changeform_view(
        self, request: HttpRequest, object_id: str | None, form_url: str, extra_context: Any
    ) -> HttpResponse:
        if request.method != "POST" or hasattr(request, _ERRORS_ATTR):
            return super()._changeform_view(request, object_id, form_url, extra_context)
        try:
            with transaction.atomic():
                return super()._changeform_view(request, object_id, form_url, extra_context)
        except (ApplicationError, ValidationError) as error:
            # The savepoint undid the save; validate the same POST again, this time with the
            # service's verdict on the form, which makes it invalid and shows it.
            setattr(request, _ERRORS_ATTR, service_errors(error))
            return super()._changeform_view(request, object_id, form_url, extra_context)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        form_class = super().get_form(request, obj, change, **kwargs)
        errors = getattr(request, _ERRORS_ATTR, None)
        if not errors:
            return form_class

        class WithServiceErrors(form_class):  # type: ignore[valid-type,misc]
            def _post_clean(self) -> None:
                super()._post_clean()
                add_errors_to_form(self, errors)

        WithServiceErrors.__name__ = form_class.__name__
        return WithServiceErrors

    def fresh(self, obj: Any) -> Any:
        """The row as stored: the admin has already copied the form's values onto ``obj``,
        and services compare old with new to decide what changed (and audit it)."""
        return type(obj)._default_manager.get(pk=obj.pk)

    def adopt(self, obj: Any, created: Any) -> None:
        """Make the admin's unsaved ``obj`` stand for the row a service created."""
        for field in created._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding = False
        obj._state.db = created._state.db


def changed_data(form: forms.ModelForm, fields: Iterable[str]) -> dict[str, Any]:
    """The cleaned values of the ``fields`` the operator changed."""
    return {name: form.cleaned_data[name] for name in fields if name in form.changed_data}


def message_refusal(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    error: ApplicationError | ValidationError,
    prefix: str = "",
) -> None:
    modeladmin.message_user(request, f"{prefix}{error_text(error)}", messages.ERROR)
