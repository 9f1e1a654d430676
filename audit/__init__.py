"""The audit: what a campaign did and whether it generalizes, from the DuckDB log alone."""

from w2s._lazy import exports

_FROM = {**dict.fromkeys(["AuditError", "audit_campaign", "compare_campaigns"], ".figures"),
         **dict.fromkeys(["write_campaign_report", "write_compare_report"], ".report")}
__all__ = list(_FROM)
__getattr__, __dir__ = exports(__name__, _FROM)
