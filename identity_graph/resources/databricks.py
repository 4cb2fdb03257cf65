"""The databricks target: dagster-databricks' step launcher, configured from the environment.

Everything Databricks-specific about *running* lives here. Each asset (and each asset
check that reads tables) names the ``step_launcher`` resource: on the databricks target it
is dagster-databricks' ``databricks_pyspark_step_launcher``, which ships the step to a
cluster; on the local target it is ``None`` and the step runs in the local process.
"""

from typing import Optional

import dagster as dg

#: The resource key every Spark step requires, so that the step launcher can claim it.
STEP_LAUNCHER = "step_launcher"

#: The type of the ``step_launcher`` parameter of assets and checks (``None`` locally).
StepLauncherParam = dg.ResourceParam[Optional[dg.StepLauncher]]
