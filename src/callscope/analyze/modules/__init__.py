"""Built-in analyzers. Importing this package registers each module with the default registry."""

from callscope.analyze.modules import (  # noqa: F401
    actions,
    insights,
    lead_insights,
    next_step,
    lead,
    objections,
    performance,
    quality,
    quality_insights,
    sales,
    sentiment,
    summary,
    tools,
)
