"""The web dashboard: engineering, RevOps and executive views over the warehouse, live."""

from callscope.dashboard.app import create_dashboard_router

__all__ = ["create_dashboard_router"]
