"""Built-in analyzers. Importing this package registers each module with the default registry."""

from callscope.analyze.modules import (  # noqa: F401
    actions,
    insights,
    lead_insights,
    lead,
    objections,
    performance,
    quality,
    sales,
    sentiment,
    summary,
    tools,
)
