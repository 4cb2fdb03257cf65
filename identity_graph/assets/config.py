"""The run config the assets take: each table's plain config (:mod:`identity_graph.config`) as ``dagster.Config``.

Each class adds Dagster's base and nothing else — fields, defaults, descriptions, bounds
and rules all come from the plain class, and generation takes an instance as the plain
class it is. Dagster shows a config class's own docstring as the op config's description
in the launchpad, and a docstring is not inherited, so each class repeats its base's.
Run config is keyed by op (asset) name, so the class names do not appear in it.
"""

import dagster as dg

from identity_graph import config as plain


class HouseholdsConfig(dg.Config, plain.HouseholdsConfig):
    __doc__ = plain.HouseholdsConfig.__doc__


class DemographicsConfig(dg.Config, plain.DemographicsConfig):
    __doc__ = plain.DemographicsConfig.__doc__


class IdentifiersConfig(dg.Config, plain.IdentifiersConfig):
    __doc__ = plain.IdentifiersConfig.__doc__


class EngagementConfig(dg.Config, plain.EngagementConfig):
    __doc__ = plain.EngagementConfig.__doc__


class AudienceConfig(dg.Config, plain.AudienceConfig):
    __doc__ = plain.AudienceConfig.__doc__


class CampaignsConfig(dg.Config, plain.CampaignsConfig):
    __doc__ = plain.CampaignsConfig.__doc__


class ResponsesConfig(dg.Config, plain.ResponsesConfig):
    __doc__ = plain.ResponsesConfig.__doc__


class AudienceTruthConfig(dg.Config, plain.AudienceTruthConfig):
    __doc__ = plain.AudienceTruthConfig.__doc__


class OutcomesConfig(dg.Config, plain.OutcomesConfig):
    __doc__ = plain.OutcomesConfig.__doc__


class ObservationsConfig(dg.Config, plain.ObservationsConfig):
    __doc__ = plain.ObservationsConfig.__doc__
