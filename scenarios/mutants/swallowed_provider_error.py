"""The provider's failure is swallowed: the worker treats an unavailable provider as "still
creating", so attempts are never counted, the error never recorded, the server never fails —
a customer waits forever and nobody is told."""

from harness.mutants import Mutant, Replace

MUTANT = Mutant(
    id="swallowed-provider-error",
    title="provider errors swallowed by the provisioning worker",
    description=__doc__ or "",
    patches=[
        Replace(
            "app/services/provisioning.py",
            anchor="""    except ProviderUnavailable as exc:
        return exc
""",
            replacement="""    except ProviderUnavailable:
        log.info("provisioning.provider_busy", server_id=server.id)
        return Instance(id=f"pending-{server.id}", status="pending")
""",
        )
    ],
    gates=["scenarios"],
    scenarios=["provider-outage-then-recovery", "provider-down-for-good"],
    expect_killed_by=["scenarios"],
)
