from datetime import datetime

from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "credits"

    def ready(self) -> None:
        from credits.services import allowance_override_errors
        from plans.services import (
            credit_allowance_validator_register,
            subscription_period_listener_register,
        )
        from plans.services.periods import subscription_period_listener_bulk_register

        # The catalog cannot import credits: it tells us when a subscription starts or enters a
        # new period, and we grant what its credit definitions owe (idempotent keys); and it asks
        # us whether a credit-allowance override's value makes sense.
        subscription_period_listener_register(_grant_owed)
        subscription_period_listener_bulk_register(listener=_grant_owed, bulk=_grants_owed_many)
        credit_allowance_validator_register(allowance_override_errors)


def _grant_owed(subscription, at: datetime) -> None:  # noqa: ANN001
    from credits.services import credit_grants_for_subscription_ensure

    credit_grants_for_subscription_ensure(subscription=subscription, at=at)


def _grants_owed_many(opened) -> None:  # noqa: ANN001
    from credits.services.period_grants import credit_grants_for_subscriptions_ensure

    credit_grants_for_subscriptions_ensure(opened)
