"""Errors named as facts. Each carries its HTTP status and a stable machine-readable code.

One handler (``app.api.errors``) renders every ``AppError`` as ``{"detail": message, "code":
code}``. Routes declare the errors they can raise with ``app.api.responses.error_responses``.

``CommitThenRaise`` marks errors whose state changes must survive: the session dependency
commits the request's transaction and then re-raises them. That is how a paid order whose plan
cannot be found ends up visibly ``failed`` (and committed) instead of being rolled back or
skipped.
"""

from __future__ import annotations

from typing import ClassVar


class AppError(Exception):
    """Base of every error the API renders on purpose."""

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    default_message: ClassVar[str] = "internal error"
    headers: ClassVar[dict[str, str] | None] = None

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)

    @classmethod
    def describe(cls) -> str:
        """One line for the OpenAPI ``responses`` description."""
        doc = (cls.__doc__ or cls.default_message).strip().splitlines()[0]
        return f"{cls.code}: {doc}"


class CommitThenRaise(AppError):
    """An error raised after recording a visible state: the request commits, then answers."""


class BodyNotParsable(AppError):
    """The request body could not be read (e.g. it is not UTF-8)."""

    # Raised by FastAPI itself as an HTTPException(400) and rendered as ``http_400``; declared
    # here so that routes with a body document the status.
    status_code = 400
    code = "http_400"
    default_message = "There was an error parsing the body"


# --- auth -------------------------------------------------------------------------------


class EmailAlreadyRegistered(AppError):
    """A user with this email already exists."""

    status_code = 409
    code = "email_already_registered"
    default_message = "a user with this email already exists"


class InvalidCredentials(AppError):
    """Email or password is wrong."""

    status_code = 401
    code = "invalid_credentials"
    default_message = "invalid email or password"
    headers = {"WWW-Authenticate": "Bearer"}


class NotAuthenticated(AppError):
    """No valid bearer token."""

    status_code = 401
    code = "not_authenticated"
    default_message = "not authenticated"
    headers = {"WWW-Authenticate": "Bearer"}


class AdminRequired(AppError):
    """The caller is not an admin."""

    status_code = 403
    code = "admin_required"
    default_message = "admin privileges required"


# --- catalogue and orders ---------------------------------------------------------------


class PlanNotFound(AppError):
    """No active hosting plan with this id."""

    status_code = 404
    code = "plan_not_found"
    default_message = "hosting plan not found"


class PlanNotFoundAfterPayment(CommitThenRaise, PlanNotFound):
    """The order was paid but its plan is missing: the order is now failed (committed)."""

    status_code = 409
    code = "plan_not_found_after_payment"
    default_message = "the order's hosting plan was not found; the order is marked failed"

    def __init__(self, order_number: str, plan_id: int) -> None:
        super().__init__(
            f"hosting plan {plan_id} of paid order {order_number} was not found; "
            "the payment is recorded and the order is marked failed for recovery"
        )
        self.order_number = order_number
        self.plan_id = plan_id


class OrderNotFound(AppError):
    """No such order for this caller."""

    status_code = 404
    code = "order_not_found"
    default_message = "order not found"


class OrderNotPaid(AppError):
    """The order has not been paid."""

    status_code = 409
    code = "order_not_paid"
    default_message = "order is not paid"


class OrderNotPayable(AppError):
    """The order can no longer be paid (e.g. refunded)."""

    status_code = 409
    code = "order_not_payable"
    default_message = "order can no longer be paid"


class ServerNotFound(AppError):
    """No such server for this caller."""

    status_code = 404
    code = "server_not_found"
    default_message = "server not found"


# --- payments ---------------------------------------------------------------------------


class PaymentSignatureInvalid(AppError):
    """The payment signature does not match."""

    status_code = 400
    code = "payment_signature_invalid"
    default_message = "payment signature is invalid"


class PaymentOrderMismatch(AppError):
    """The gateway's payment belongs to another order."""

    status_code = 400
    code = "payment_order_mismatch"
    default_message = "payment does not belong to this order"


class PaymentNotCaptured(AppError):
    """The gateway has not captured the payment."""

    status_code = 409
    code = "payment_not_captured"
    default_message = "payment is not captured"


class AmountMismatch(AppError):
    """The captured amount differs from the order total."""

    status_code = 409
    code = "amount_mismatch"
    default_message = "payment amount does not match the order total"

    def __init__(self, expected_paise: int, actual_paise: int, *, currency: str = "") -> None:
        suffix = f" ({currency})" if currency else ""
        super().__init__(
            f"payment amount {actual_paise} paise does not match the order total "
            f"{expected_paise} paise{suffix}"
        )
        self.expected_paise = expected_paise
        self.actual_paise = actual_paise


class GatewayUnavailable(AppError):
    """The payment gateway failed or answered badly."""

    status_code = 502
    code = "gateway_unavailable"
    default_message = "payment gateway unavailable"


class GatewayTimeout(AppError):
    """The payment gateway did not answer in time."""

    status_code = 504
    code = "gateway_timeout"
    default_message = "payment gateway timed out"


class ProviderUnavailable(AppError):
    """The cloud provider failed, timed out or answered badly."""

    status_code = 502
    code = "provider_unavailable"
    default_message = "cloud provider unavailable"


# --- webhooks ---------------------------------------------------------------------------


class WebhookSignatureMissing(AppError):
    """The X-Razorpay-Signature header is missing."""

    status_code = 400
    code = "webhook_signature_missing"
    default_message = "missing X-Razorpay-Signature header"


class WebhookSignatureInvalid(AppError):
    """The webhook signature does not match the body."""

    status_code = 401
    code = "webhook_signature_invalid"
    default_message = "webhook signature is invalid"


class WebhookPayloadInvalid(AppError):
    """The signed webhook body or event id is not usable."""

    status_code = 400
    code = "webhook_payload_invalid"
    default_message = "webhook payload is invalid"
