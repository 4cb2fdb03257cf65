"""The tables of the graph, each declared once, in dependency order: the ten core tables, then
the identity-resolution tables (observed records, their truth, the baseline resolver's answer)."""

from __future__ import annotations

from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    IntegerType,
    LongType,
    MapType,
    StringType,
    TimestampType,
)

from identity_graph.model import vocabularies as V
from identity_graph.model.schema import Column, ForeignKey, Table

BIGINT, INT, DOUBLE, STRING = LongType(), IntegerType(), DoubleType(), StringType()
DATE, TIMESTAMP, BOOLEAN = DateType(), TimestampType(), BooleanType()
STRINGS = ArrayType(STRING)


def _one_of(values: tuple[str, ...]) -> str:
    return "one of " + ", ".join(f"'{v}'" for v in values)


def _col(name: str, type_: DataType, description: str, nullable: bool = False) -> Column:
    return Column(name, type_, description, nullable)


def _key(name: str, what: str) -> Column:
    return Column(name, BIGINT, what)


#: The partition column of every daily event table.
EVENT_DATE = "event_date"
_EVENT_DATE = _col(EVENT_DATE, DATE, "UTC day of the event; the table's daily partition.")

HOUSEHOLDS = Table(
    name="households",
    family="identity",
    description="Households with a consistent real US city, state and ZIP, an income bracket, a size and a housing type.",
    grain="one row per household; exactly num_households rows, keyed 1..N",
    primary_key="household_id",
    clustering=("household_id",),
    columns=(
        _key("household_id", "Household key, 1..num_households."),
        _col("location_city", STRING, "A real US city, picked with probability proportional to its population."),
        _col("location_state", STRING, "Two-letter state code of location_city."),
        _col("location_zip", STRING, "Five-digit ZIP code starting with one of location_city's 3-digit prefixes."),
        _col("income_bracket", STRING, f"Household income bracket, {_one_of(V.INCOME_BRACKETS)}."),
        _col(
            "household_size", INT, "Number of adults in the household, in [1, 10]; individuals holds exactly this many."
        ),
        _col("housing_type", STRING, f"Dwelling, {_one_of(V.HOUSING_TYPES)}."),
        _col("created_at", TIMESTAMP, "When the household entered the graph (synthetic, before the event window)."),
    ),
)

INDIVIDUALS = Table(
    name="individuals",
    family="identity",
    description="Adults with their household role, names, age, gender, education, employment and income; the "
    "members' incomes add up to the household's bracket, partners are close in age, students are young and "
    "retirees old.",
    grain="one row per adult; household_size rows per household",
    primary_key="individual_id",
    foreign_keys=(ForeignKey("household_id", "households", "household_id"),),
    clustering=("household_id",),
    columns=(
        _key("individual_id", "Individual key, 1..Σ household_size, numbered household by household."),
        _key("household_id", "The household the person lives in."),
        _col(
            "household_role",
            STRING,
            f"Place in the household, {_one_of(V.HOUSEHOLD_ROLES)}: the first member is the head, the second "
            "the head's partner (within 15 years of the head's age); a child is at least 16 years younger than the "
            "head, a parent at least 16 years older.",
        ),
        _col("first_name", STRING, "Given name (from a seeded pool per gender)."),
        _col(
            "last_name",
            STRING,
            "Family name: the head's is the household's; partners, children and parents mostly share it, other "
            "adults (siblings or flatmates) half as often.",
        ),
        _col("age", INT, "Age in years, in [18, 100]; partners are close in age, children a generation younger."),
        _col("gender", STRING, f"Gender, {_one_of(V.GENDERS)}."),
        _col("education_level", STRING, f"Highest education, {_one_of(V.EDUCATION_LEVELS)}."),
        _col("employment_status", STRING, f"Employment, {_one_of(V.EMPLOYMENT_STATUSES)}."),
        _col(
            "income_individual",
            DecimalType(10, 2),
            "Yearly income; NULL when not disclosed, and always NULL for the unemployed. The members' incomes "
            "(the unemployed counting 0) add up to an amount inside the household's income_bracket.",
            nullable=True,
        ),
        _col("created_at", TIMESTAMP, "When the person joined the household's record (synthetic)."),
    ),
)

IDENTITY_MAPPINGS = Table(
    name="identity_mappings",
    family="identity",
    description="The identifiers each person is known by across devices and channels: hashed emails and phones, "
    "cookie, mobile-ad and device ids, and their household's CTV id and home IP, with when each was first and "
    "last seen.",
    grain="one row per (person, identifier); min_per_individual..max_per_individual per individual. A household "
    "identifier (ctv_id, ip_address) has one row per member, all with the same identifier_value",
    primary_key="mapping_id",
    foreign_keys=(ForeignKey("individual_id", "individuals", "individual_id"),),
    clustering=("individual_id",),
    columns=(
        _key("mapping_id", "Identifier key, 1..N."),
        _key("individual_id", "The person the identifier belongs to."),
        _col("identifier_type", STRING, f"Kind of identifier, {_one_of(V.IDENTIFIER_TYPES)}."),
        _col(
            "identifier_value",
            STRING,
            "Hashed PII as SHA-256 hex of a normalised synthetic value; ad, device and CTV ids as UUID-shaped "
            "strings; a home IP as dotted IPv4. Unique per type, except that a household identifier repeats on "
            "each member's row.",
        ),
        _col("first_seen", TIMESTAMP, "First time the identifier was observed for this person; ≤ last_seen."),
        _col("last_seen", TIMESTAMP, "Last time the identifier was observed for this person."),
        _col("active", BOOLEAN, "Whether last_seen falls within active_window_days of the window's end."),
    ),
)

CONTENT_ENGAGEMENTS = Table(
    name="content_engagements",
    family="engagement",
    description="Views, clicks, shares, likes and comments on content, with heavy-tailed activity per person "
    "and the configured time-of-day and day-of-week pattern.",
    grain="one row per engagement event",
    primary_key="event_id",
    foreign_keys=(
        ForeignKey("individual_id", "individuals", "individual_id"),
        ForeignKey("mapping_id", "identity_mappings", "mapping_id"),
    ),
    partition_column=EVENT_DATE,
    clustering=("individual_id",),
    columns=(
        _key("event_id", "Event key: days since 1970-01-01 × 10^10 + the event's number within its day."),
        _key("individual_id", "Who engaged."),
        _key(
            "mapping_id",
            "The identifier the event was observed on: the person's identifier of the device's type "
            f"({', '.join(f'{d} → {t}' for d, t in V.DEVICE_IDENTIFIER.items())}), live at event_ts "
            "(first_seen ≤ event_ts ≤ last_seen).",
        ),
        _col("content_id", BIGINT, "The content item: category number × 10^6 + the item's popularity rank."),
        _col(
            "content_category",
            STRING,
            f"Category of the content (configurable; by default {_one_of(V.CONTENT_CATEGORIES)}).",
        ),
        _col("engagement_type", STRING, f"Kind of engagement, {_one_of(V.ENGAGEMENT_TYPES)}."),
        _col("event_ts", TIMESTAMP, "When it happened (UTC); falls on event_date."),
        _EVENT_DATE,
        _col("duration_seconds", INT, "Seconds watched, ≥ 0, for a 'view'; NULL for every other type.", nullable=True),
        _col(
            "device_type",
            STRING,
            f"Device of the session, {_one_of(V.DEVICE_TYPES)}: the type of the identifier it was observed on.",
        ),
        _col("session_id", STRING, "16 hex digits naming the session the event belongs to."),
    ),
)

VIEWERSHIP_PATTERNS = Table(
    name="viewership_patterns",
    family="engagement",
    description="Each person's viewing summarised over the window: volume, daily frequency, recency, favourite "
    "categories, preferred device and peak hour.",
    grain="one row per individual with at least one engagement in the window",
    primary_key="individual_id",
    foreign_keys=(ForeignKey("individual_id", "individuals", "individual_id"),),
    clustering=("individual_id",),
    columns=(
        _key("individual_id", "The person summarised."),
        _col("total_engagements", BIGINT, "Engagements in the window."),
        _col("frequency_daily_avg", DOUBLE, "total_engagements divided by the window's days."),
        _col("recency_last_engagement", TIMESTAMP, "The latest event_ts in the window."),
        _col("preferred_categories", STRINGS, "Up to three categories with the most engagements (ties by name)."),
        _col("preferred_device", STRING, "The device_type with the most engagements."),
        _col("peak_hour", INT, "UTC hour (0–23) with the most engagements (ties: the earliest)."),
        _col("category_counts", MapType(STRING, BIGINT), "Engagements per content_category."),
        _col("computed_at", TIMESTAMP, "The end of the window (synthetic, not the wall clock)."),
    ),
)

AUDIENCE_ATTRIBUTES = Table(
    name="audience_attributes",
    family="engagement",
    description="Segments, affinities, behavioural class, propensity to convert and lifetime value, derived "
    "from each person's viewership and demographics.",
    grain="one row per individual in viewership_patterns",
    primary_key="individual_id",
    foreign_keys=(ForeignKey("individual_id", "individuals", "individual_id"),),
    clustering=("segment_primary",),
    columns=(
        _key("individual_id", "The person described."),
        _col(
            "segment_primary", STRING, f"Segment of the highest-affinity category (by default {_one_of(V.SEGMENTS)})."
        ),
        _col(
            "segment_secondary",
            STRINGS,
            "Segments of the other categories with affinity ≥ secondary_affinity_threshold.",
        ),
        _col(
            "affinity_scores",
            MapType(STRING, DOUBLE),
            "Share of engagements per category: values in [0, 1] summing to 1.",
        ),
        _col("behavioral_classification", STRING, f"Activity class, {_one_of(V.BEHAVIORAL_CLASSES)}."),
        _col(
            "propensity_to_convert", DOUBLE, "Probability-like score in [0, 1] from frequency, recency, income and age."
        ),
        _col("lifetime_value_estimate", DOUBLE, "Expected spend over 24 months: propensity × monthly spend × 24."),
        _col("computed_at", TIMESTAMP, "The end of the window (synthetic)."),
    ),
)

CAMPAIGNS = Table(
    name="campaigns",
    family="campaigns",
    description="Advertisers' campaigns: flight dates overlapping the window, target segments, channels, goal, "
    "and the reach, frequency, CPM and pacing their exposures follow (budgets: campaign_delivery).",
    grain="one row per campaign; exactly num_campaigns rows, keyed 1..N",
    primary_key="campaign_id",
    clustering=("campaign_id",),
    columns=(
        _key("campaign_id", "Campaign key, 1..num_campaigns."),
        _col("campaign_name", STRING, "Advertiser, theme and start month."),
        _col("advertiser", STRING, "The advertiser (from a seeded pool; repeats across campaigns)."),
        _col("start_date", DATE, "First day of the flight."),
        _col("end_date", DATE, "Last day of the flight (inclusive); ≥ start_date."),
        _col("target_segment", STRINGS, "Audience segments targeted (segment_primary values)."),
        _col("channels", STRINGS, f"Channels the campaign runs on, a subset of {_one_of(V.CHANNELS)}."),
        _col("goal", STRING, f"Campaign goal, {_one_of(V.GOALS)}."),
        _col("target_reach", DOUBLE, "Share of the campaign's treatment group it reaches, in [0, 1]."),
        _col("frequency_cap", INT, "Most exposures per reached person."),
        _col("frequency_mean", DOUBLE, "Mean exposures per reached person before the cap."),
        _col(
            "holdout_share",
            DOUBLE,
            "Planned share of the eligible audience held out (never exposed), in [0, 1); campaign_assignments "
            "draws each person's group at it.",
        ),
        _col("cpm", DecimalType(8, 2), "Cost per thousand impressions."),
        _col(
            "pacing_share",
            DOUBLE,
            "Least share of its pro-rated budget the campaign spends in the window, in [0, 1] "
            "(campaign_delivery holds the budget and the spend).",
        ),
        _col("created_at", TIMESTAMP, "When the campaign was set up: 1–60 days before its flight."),
    ),
)

CAMPAIGN_ASSIGNMENTS = Table(
    name="campaign_assignments",
    family="campaigns",
    description="Each campaign's eligible audience (people whose segment_primary it targets) randomised into a "
    "treatment group, which the campaign may reach, and a holdout group, which it never exposes: the experiment a "
    "lift study compares.",
    grain="one row per (campaign, eligible individual)",
    primary_key="assignment_id",
    foreign_keys=(
        ForeignKey("campaign_id", "campaigns", "campaign_id"),
        ForeignKey("individual_id", "individuals", "individual_id"),
    ),
    clustering=("campaign_id",),
    columns=(
        _key("assignment_id", "Assignment key: campaign_id × 2^37 + individual_id."),
        _key("campaign_id", "The campaign."),
        _key("individual_id", "The eligible person: their segment_primary is one of the campaign's target_segment."),
        _col(
            "group",
            STRING,
            f"{_one_of(V.ASSIGNMENT_GROUPS)}: a hashed draw per (campaign, person) puts a holdout_share of the "
            "eligible audience in the holdout, independently for each campaign.",
        ),
        _col("assigned_at", TIMESTAMP, "When the person was assigned: the start of the campaign's flight (00:00 UTC)."),
    ),
)

CAMPAIGN_EXPOSURES = Table(
    name="campaign_exposures",
    family="campaigns",
    description="Impressions of each campaign on people of its treatment group (never its holdout), inside its "
    "flight and channels, capped in frequency and costed by CPM.",
    grain="one row per impression",
    primary_key="exposure_id",
    foreign_keys=(
        ForeignKey("campaign_id", "campaigns", "campaign_id"),
        ForeignKey("individual_id", "individuals", "individual_id"),
        ForeignKey("mapping_id", "identity_mappings", "mapping_id"),
    ),
    partition_column=EVENT_DATE,
    clustering=("campaign_id", "individual_id"),
    columns=(
        _key("exposure_id", "Exposure key: days since 1970-01-01 × 10^10 + the exposure's number within its day."),
        _key("campaign_id", "The campaign shown."),
        _key("individual_id", "The person reached: in the campaign's treatment group."),
        _col(
            "mapping_id",
            BIGINT,
            "The identifier the channel reached the person through, live at exposure_ts (first_seen ≤ "
            "exposure_ts ≤ last_seen); NULL exactly when the exposure is not addressable.",
            nullable=True,
        ),
        _col(
            "addressable",
            BOOLEAN,
            "Whether the person held a live identifier of one of the campaign's channels at exposure_ts; an "
            "exposure that is not addressable (contextual) carries no mapping_id.",
        ),
        _col("exposure_ts", TIMESTAMP, "When the impression was served (UTC), inside the campaign's flight."),
        _EVENT_DATE,
        _col("channel", STRING, "The channel, one of the campaign's channels."),
        _col("frequency", INT, "The impression's ordinal for this person and campaign, in [1, frequency_cap]."),
        _col("placement", STRING, "Where the impression ran (newsletter, feed, pre_roll, … per channel)."),
        _col("cost", DecimalType(12, 6), "What the impression cost: cpm / 1000 within ±30 %."),
    ),
)

RESPONSE_EVENTS = Table(
    name="response_events",
    family="campaigns",
    description="Clicks, engagements and visits following an addressable exposure within the attribution "
    "window, more likely the higher the person's propensity to convert; and conversions, made on the person's own "
    "or caused by a campaign (conversion_truth says which), each linked as an ad server would to the last exposure "
    "on the identifier it was observed on within the attribution window, if any.",
    grain="one row per response: at most one click, engagement or visit per exposure; conversions per person",
    primary_key="response_id",
    foreign_keys=(
        ForeignKey("exposure_id", "campaign_exposures", "exposure_id"),
        ForeignKey("campaign_id", "campaigns", "campaign_id"),
        ForeignKey("individual_id", "individuals", "individual_id"),
        ForeignKey("mapping_id", "identity_mappings", "mapping_id"),
    ),
    partition_column=EVENT_DATE,
    clustering=("campaign_id", "individual_id"),
    columns=(
        _key("response_id", "Response key: days since 1970-01-01 × 10^10 + the response's number within its day."),
        _col(
            "exposure_id",
            BIGINT,
            "The exposure responded to; for a conversion, the last exposure on the same identifier (mapping_id) "
            "within the attribution window before it, whatever caused it — NULL when there is none.",
            nullable=True,
        ),
        _col("campaign_id", BIGINT, "The exposure's campaign (NULL exactly when exposure_id is).", nullable=True),
        _key("individual_id", "Who responded."),
        _key(
            "mapping_id",
            "The identifier the response was observed on, the person's own, live at response_ts: for a click, "
            "engagement or visit its exposure's (only addressable exposures draw them); for a conversion one of "
            "the person's identifiers live then.",
        ),
        _col("response_type", STRING, f"Kind of response, {_one_of(V.RESPONSE_TYPES)}."),
        _col("response_ts", TIMESTAMP, "When the response happened (UTC); ≥ exposure_ts."),
        _col("exposure_ts", TIMESTAMP, "The exposure's exposure_ts (NULL exactly when exposure_id is).", nullable=True),
        _col(
            "time_to_conversion_hours",
            DOUBLE,
            "(response_ts − exposure_ts) in hours (NULL exactly when exposure_id is).",
            nullable=True,
        ),
        _col("value", DecimalType(12, 2), "Value of a conversion (≥ 0); NULL for other responses.", nullable=True),
        _EVENT_DATE,
    ),
)

OUTCOME_METRICS = Table(
    name="outcome_metrics",
    family="campaigns",
    description="Each conversion in the window credited to its touches — the person's exposures to every "
    "campaign within the attribution window before it — under first-touch, last-touch, linear and time-decay "
    "attribution, with revenue and an engagement score per touch.",
    grain="one row per (conversion, attributed touch, attribution model)",
    primary_key="outcome_id",
    foreign_keys=(
        ForeignKey("response_id", "response_events", "response_id"),
        ForeignKey("exposure_id", "campaign_exposures", "exposure_id"),
        ForeignKey("campaign_id", "campaigns", "campaign_id"),
        ForeignKey("individual_id", "individuals", "individual_id"),
    ),
    clustering=("campaign_id",),
    columns=(
        _key("outcome_id", "Outcome key, 1..N."),
        _key("response_id", "The conversion credited."),
        _key("exposure_id", "The touch credited."),
        _key("campaign_id", "The touch's campaign."),
        _key("individual_id", "The converting person."),
        _col("attribution_model", STRING, f"Attribution model, {_one_of(V.ATTRIBUTION_MODELS)}."),
        _col(
            "attribution_weight",
            DOUBLE,
            "The touch's credit in [0, 1]; sums to 1 per (response_id, attribution_model).",
        ),
        _col(
            "conversion_status",
            STRING,
            f"What the touch led to, {_one_of(V.CONVERSION_STATUSES)}: 'converted' for the exposure that converted, "
            "'engaged' for a touch with a response of its own.",
        ),
        _col(
            "revenue",
            DecimalType(12, 2),
            "The conversion's value on the converting touch; NULL on the others.",
            nullable=True,
        ),
        _col("attributed_revenue", DecimalType(14, 4), "The conversion's value × attribution_weight."),
        _col("engagement_score", DOUBLE, "Half the touch's status level plus half its recency, in [0, 1]."),
        _col("computed_at", TIMESTAMP, "The end of the window (synthetic)."),
    ),
)

CAMPAIGN_DELIVERY = Table(
    name="campaign_delivery",
    family="campaigns",
    description="Each campaign's budget and its delivery over its flight inside the window: the impressions it "
    "served and what they cost, against its budget pro-rated to those days. Budgets are planned impressions × CPM, "
    "scaled to the audience the graph has; spend never exceeds the pro-rated budget and reaches the campaign's "
    "pacing_share of it.",
    grain="one row per campaign whose flight overlaps the window; exactly num_campaigns rows when generated with "
    "the campaigns",
    primary_key="campaign_id",
    foreign_keys=(ForeignKey("campaign_id", "campaigns", "campaign_id"),),
    clustering=("campaign_id",),
    columns=(
        _key("campaign_id", "The campaign."),
        _col("period_start", DATE, "First day of the period: the flight's first day inside the window."),
        _col("period_end", DATE, "Last day of the period: the flight's last day inside the window."),
        _col(
            "planned_impressions",
            BIGINT,
            "Impressions the budget buys over the whole flight at the campaign's CPM: budget × 1000 ÷ cpm, rounded.",
        ),
        _col("budget", DecimalType(14, 2), "The flight's budget, ≥ 0: planned_impressions × cpm ÷ 1000, to the cent."),
        _col(
            "period_budget",
            DecimalType(14, 2),
            "The budget pro-rated to the period: budget × period days ÷ flight days, rounded down to the cent.",
        ),
        _col("impressions", BIGINT, "Exposures of the campaign in the period (campaign_exposures)."),
        _col(
            "spend",
            DecimalType(18, 6),
            "What those exposures cost (Σ campaign_exposures.cost): at most period_budget, and at least pacing_share "
            "of it (or short of it by less than a cent).",
        ),
        _col("pacing", DOUBLE, "spend ÷ period_budget; 0 when the period_budget is 0."),
    ),
)

AUDIENCE_TRUTH = Table(
    name="audience_truth",
    family="measurement",
    description="What each person really is, never observed: their latent persona (which tilts the content and "
    "devices they engage with), the daily rate at which they convert on their own, and whether they churn. Score "
    "segmentations, churn and conversion models against it; never give it to them.",
    grain="one row per individual",
    primary_key="individual_id",
    foreign_keys=(ForeignKey("individual_id", "individuals", "individual_id"),),
    clustering=("individual_id",),
    columns=(
        _key("individual_id", "The person."),
        _col("persona", STRING, f"Latent persona, {_one_of(V.PERSONAS)}; drawn with weights by age band."),
        _col(
            "daily_conversion_rate",
            DOUBLE,
            "Probability that the person converts on their own on any one day, exposed or not: organic_daily_rate × "
            "the persona's factor × a log-normal individual factor of mean 1 (at most 0.5).",
        ),
        _col(
            "churned_at",
            TIMESTAMP,
            "When the person stopped engaging with content for good (00:00 UTC of a day early enough in the window "
            "that their last engagement is classed 'Churned'); NULL for the people who never churn.",
            nullable=True,
        ),
    ),
)

CONVERSION_TRUTH = Table(
    name="conversion_truth",
    family="measurement",
    description="Why each conversion in response_events happened: on the person's own (organic) or caused by a "
    "campaign's exposure — the answer an attribution model is scored against.",
    grain="one row per response_events row of response_type 'conversion'",
    primary_key="response_id",
    foreign_keys=(
        ForeignKey("response_id", "response_events", "response_id"),
        ForeignKey("cause_campaign_id", "campaigns", "campaign_id"),
        ForeignKey("cause_exposure_id", "campaign_exposures", "exposure_id"),
    ),
    partition_column=EVENT_DATE,
    clustering=("cause_campaign_id",),
    columns=(
        _key("response_id", "The conversion."),
        _col("cause", STRING, f"{_one_of(V.CONVERSION_CAUSES)}."),
        _col("cause_campaign_id", BIGINT, "The campaign that caused it; NULL when organic.", nullable=True),
        _col("cause_exposure_id", BIGINT, "The exposure that caused it; NULL when organic.", nullable=True),
        _EVENT_DATE,
    ),
)

CAMPAIGN_TRUTH = Table(
    name="campaign_truth",
    family="measurement",
    description="Each campaign's true effect over its flight inside the window: its audience's baseline "
    "conversion rate, the true absolute and relative lift of assignment to treatment (intent to treat), and the "
    "conversions it really caused. A lift study's estimate is scored against it.",
    grain="one row per campaign whose flight overlaps the window; exactly num_campaigns rows",
    primary_key="campaign_id",
    foreign_keys=(ForeignKey("campaign_id", "campaigns", "campaign_id"),),
    clustering=("campaign_id",),
    columns=(
        _key("campaign_id", "The campaign."),
        _col("period_start", DATE, "First day of the measurement period: the flight's first day inside the window."),
        _col("period_end", DATE, "Last day of the measurement period: the flight's last day inside the window."),
        _col("treatment_size", BIGINT, "People assigned to treatment (campaign_assignments)."),
        _col("holdout_size", BIGINT, "People assigned to the holdout."),
        _col(
            "effect",
            DOUBLE,
            "The campaign's latent effect: incremental conversions expected of a treated person saturated with "
            "exposures on a channel of factor 1; 0 for a zero-effect campaign.",
        ),
        _col(
            "baseline_conversion_rate",
            DOUBLE,
            "Organic conversions expected per person of its eligible audience over the period: the mean of "
            "daily_conversion_rate × the period's days (before observation: a conversion made while the person "
            "holds no live identifier is never seen).",
        ),
        _col(
            "true_absolute_lift",
            DOUBLE,
            "Observed conversions per treatment-group person that the campaign is expected to cause in the period "
            "(intent to treat: over everyone assigned to treatment, reached or not). The expected difference of "
            "conversions per person between treatment and holdout.",
        ),
        _col("true_relative_lift", DOUBLE, "true_absolute_lift ÷ baseline_conversion_rate (0 when the baseline is 0)."),
        _col(
            "true_incremental_conversions",
            BIGINT,
            "Conversions in the period that the campaign really caused (conversion_truth), as realised.",
        ),
    ),
)

IDENTITY_OBSERVATIONS = Table(
    name="identity_observations",
    family="resolution",
    description="What source systems hold about people — CRM sign-ups, web logins, app and CTV-app accounts, "
    "data-partner files — each with its own fields and realistic noise (typos, nicknames, old addresses, shared "
    "and recycled identifiers, duplicates). No true key: hand it to an identity resolver.",
    grain="one row per record a source holds; records_per_person_mean per person on average",
    primary_key="observation_id",
    clustering=("source",),
    columns=(
        _key("observation_id", "Record key, 1..N, numbered person by person (the number says nothing about who)."),
        _col("source", STRING, f"The source system, {_one_of(V.SOURCES)}."),
        _col(
            "observed_at",
            TIMESTAMP,
            "When the source captured the record: after the person joined, before the window's end.",
        ),
        _col("first_name", STRING, "Given name as the source spelled it (typos, nicknames, initials).", nullable=True),
        _col("last_name", STRING, "Family name as the source spelled it.", nullable=True),
        _col("email_sha256", STRING, "SHA-256 hex of the email the record carries.", nullable=True),
        _col(
            "phone_sha256",
            STRING,
            "SHA-256 hex of the phone number (+1 and ten digits) the record carries.",
            nullable=True,
        ),
        _col("postal_code", STRING, "Five-digit ZIP code of the address the record carries.", nullable=True),
        _col("city", STRING, "City of that address.", nullable=True),
        _col("state", STRING, "Two-letter state code of that address.", nullable=True),
        _col(
            "ip_address",
            STRING,
            "IPv4 address the record was captured from (home IPs are per household).",
            nullable=True,
        ),
        _col("cookie_id", STRING, "Browser cookie id (UUID-shaped).", nullable=True),
        _col("maid", STRING, "Mobile advertising id (upper-case UUID).", nullable=True),
        _col("ctv_id", STRING, "CTV device id (UUID-shaped), one per household.", nullable=True),
        _col("device_type", STRING, f"Device of the capture, {_one_of(V.DEVICE_TYPES)}.", nullable=True),
    ),
)

IDENTITY_TRUTH = Table(
    name="identity_truth",
    family="resolution",
    description="The answer key of identity_observations: whose each record really is, and which noise it "
    "carries. Score a resolver's clusters against it; never give it to the resolver.",
    grain="one row per identity_observations row",
    primary_key="observation_id",
    foreign_keys=(
        ForeignKey("observation_id", "identity_observations", "observation_id"),
        ForeignKey("individual_id", "individuals", "individual_id"),
        ForeignKey("household_id", "households", "household_id"),
    ),
    clustering=("individual_id",),
    columns=(
        _key("observation_id", "The record."),
        _key("individual_id", "The person the record is about."),
        _key("household_id", "That person's household."),
        _col("noise", STRINGS, f"The noise applied to the record, each {_one_of(V.NOISE_TYPES)}; empty when clean."),
    ),
)

RESOLUTION_BASELINE = Table(
    name="resolution_baseline",
    family="resolution",
    description="A reference identity resolver's answer: identity_observations linked by exact hashed email, "
    "hashed phone or MAID, then connected components. Its precision, recall and F1 against identity_truth are "
    "on the asset's materialisation: the bar a resolver should clear.",
    grain="one row per identity_observations row",
    primary_key="observation_id",
    foreign_keys=(ForeignKey("observation_id", "identity_observations", "observation_id"),),
    clustering=("cluster_id",),
    columns=(
        _key("observation_id", "The record."),
        _key("cluster_id", "The resolved identity: the smallest observation_id in the record's component."),
    ),
)

#: Every table, in dependency order (a table comes after the tables it references).
TABLES: tuple[Table, ...] = (
    HOUSEHOLDS,
    INDIVIDUALS,
    IDENTITY_MAPPINGS,
    CONTENT_ENGAGEMENTS,
    VIEWERSHIP_PATTERNS,
    AUDIENCE_ATTRIBUTES,
    CAMPAIGNS,
    CAMPAIGN_ASSIGNMENTS,
    CAMPAIGN_EXPOSURES,
    RESPONSE_EVENTS,
    OUTCOME_METRICS,
    CAMPAIGN_DELIVERY,
    AUDIENCE_TRUTH,
    CONVERSION_TRUTH,
    CAMPAIGN_TRUTH,
    IDENTITY_OBSERVATIONS,
    IDENTITY_TRUTH,
    RESOLUTION_BASELINE,
)
