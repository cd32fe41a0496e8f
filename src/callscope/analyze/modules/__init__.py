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

# Last: it reads every other module's result (registration order breaks ties in the run order).
from callscope.analyze.modules import executive  # noqa: F401,E402
