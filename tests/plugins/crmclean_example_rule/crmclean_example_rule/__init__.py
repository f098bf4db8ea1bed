"""An example crmclean rule plugin: EXAMPLE001 flags company names that contain "test"."""

from __future__ import annotations

from crmclean.rules import BaseCheck, CheckContext, Example, RuleResult, concat_findings, findings_where


class NoTestCompany(BaseCheck):
    """A company name contains "test": a test record left in the CRM.

    **What it does.** Flags every company-name cell containing "test" in any case ("Test LLC").

    **Why.** Test records inflate counts and end up in mailings; delete them or mark them.
    """

    code = "EXAMPLE001"
    name = "example.no_test_company"
    summary = 'A company name contains "test": probably a test record.'
    severity = "warning"
    roles = ("company",)
    examples = (Example("Company: 'Test Company LLC'", "flagged"), Example("Company: 'Acme'", "not flagged"))

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        parts = []
        for column in self.target_columns(ctx):
            values = ctx.frame.get_column(column)
            mask = values.str.to_lowercase().str.contains("test", literal=True)
            parts.append(
                findings_where(
                    mask,
                    values,
                    column,
                    severity=getattr(self.options, "severity", None) or self.severity,
                    message="company name contains 'test'",
                    hint="delete the test record or mark it",
                )
            )
        return RuleResult(findings=concat_findings(parts))


def rules() -> list[type[BaseCheck]]:
    """The entry point crmclean calls: every rule class this package adds."""
    return [NoTestCompany]
