"""The audit: what a campaign did and whether it generalizes, from the DuckDB log alone."""

from .figures import AuditError, audit_campaign, compare_campaigns
from .report import write_campaign_report, write_compare_report

__all__ = ["AuditError", "audit_campaign", "compare_campaigns", "write_campaign_report",
           "write_compare_report"]
