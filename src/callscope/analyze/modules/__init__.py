"""Built-in analyzers. Importing this package registers each module with the default registry."""

# Last: it reads every other module's result (registration order breaks ties in the run order).
from callscope.analyze.modules import (  # noqa: F401
    actions,
    executive,
    insights,
    lead,
    lead_insights,
    next_step,
    objections,
    performance,
    quality,
    quality_insights,
    sales,
    sentiment,
    summary,
    tools,
)
