"""The payment signature is computed but not enforced: a mismatch is logged and the
verification carries on, so anyone who knows a payment id can claim its server."""

from harness.mutants import Mutant, Replace

LOGGED = (
    '        log.warning("payment.signature_invalid", gateway_order_id=gateway_order_id[:64])\n'
)

MUTANT = Mutant(
    id="signature-not-checked",
    title="verify logs a bad signature and carries on",
    description=__doc__ or "",
    patches=[
        Replace(
            "app/services/payments.py",
            anchor=LOGGED + "        raise PaymentSignatureInvalid()\n",
            replacement=LOGGED,
        )
    ],
    gates=["scenarios", "fuzz"],
    scenarios=["forged-signature"],
    expect_killed_by=["scenarios", "fuzz"],
)
