"""Profiles of the stored tables: the small markdown tables each table's ``profile`` check shows.

Each profile is a pure function of Spark DataFrames read from the stored tables (the
table itself first, then the tables its :data:`PROFILES` entry ``needs``) returning a
markdown string. Each runs exactly one Spark action (a ``collect``) on an aggregate of
at most a few hundred rows, because it runs with every check of the table. A profile covers the
whole stored table — for a daily-partitioned table every stored day, not only the
days just written — and says which days that is.

No Dagster here: each table's ``profile`` asset check (WARN) renders it from the stored tables.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from identity_graph.generation.common import hour_of
from identity_graph.markdown import table as markdown_table
from identity_graph.model import tables as M
from identity_graph.model.vocabularies import (
    BEHAVIORAL_CLASSES,
    CHANNELS,
    CONVERSION_CAUSES,
    DEVICE_TYPES,
    ENGAGEMENT_TYPES,
    GENDERS,
    GOALS,
    IDENTIFIER_TYPES,
    INCOME_BRACKETS,
    NOISE_TYPES,
    NON_CLICKABLE_CHANNELS,
    OBSERVED_FIELDS,
    PERSONAS,
    PUBLISHED_CTR_RANGES,
    SOURCES,
)

#: Lower bounds of the age bands of the individuals profile; the last band is open.
AGE_BANDS = (18, 25, 35, 45, 55, 65)
#: Longest tables shown: the most recent days of campaign_exposures, the first campaigns by id.
MAX_DAYS_SHOWN = 31
MAX_CAMPAIGNS_SHOWN = 25
BAR_WIDTH = 20


def _pct(part: float | None, whole: float | None, digits: int = 1) -> str | None:
    """``part / whole`` as a percentage, None when undefined."""
    ratio = _ratio(part, whole)
    return None if ratio is None else f"{100 * ratio:.{digits}f} %"


def _ratio(part: float | Decimal | None, whole: float | Decimal | None) -> float | None:
    """``part / whole``, None when either is missing or ``whole`` is 0."""
    if part is None or not whole:
        return None
    return float(part) / float(whole)


def _num(value: float | Decimal | None, digits: int = 2) -> str | None:
    """A number with thousands separators and ``digits`` decimals, None when missing."""
    return None if value is None else f"{float(value):,.{digits}f}"


def _bar(value: float, largest: float) -> str:
    """A text bar of up to :data:`BAR_WIDTH` blocks, proportional to ``value / largest``."""
    return "█" * round(BAR_WIDTH * value / largest) if largest else ""


def _ordered(values: Iterable[Any], order: Sequence[Any]) -> list[Any]:
    """``values`` in the contract's ``order``, then any others sorted (NULL last)."""
    present = set(values)
    known = [v for v in order if v in present]
    others = sorted((v for v in present if v not in order and v is not None), key=str)
    return known + others + ([None] if None in present else [])


def _label(value: Any) -> str:
    """A category as shown: NULL spelled out."""
    return "NULL" if value is None else str(value)


def _days(first: dt.date | None, last: dt.date | None) -> str:
    """The stored days ``first … last`` as shown in a heading."""
    return "no stored day" if first is None else f"{first.isoformat()} … {last.isoformat()}"


def _ones(condition: Column) -> Column:
    """Rows where ``condition`` holds, as a sum."""
    return F.sum(F.when(condition, F.lit(1)).otherwise(F.lit(0)))


# -- identity --------------------------------------------------------------------------------


def profile_households(households: DataFrame) -> str:
    """Income bracket mix (households, share, mean household_size per bracket) and the household_size distribution."""
    rows = households.groupBy("income_bracket", "household_size").agg(F.count(F.lit(1)).alias("n")).collect()
    total = sum(r.n for r in rows)
    by_bracket: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    by_size: dict[Any, int] = defaultdict(int)
    for r in rows:
        by_bracket[r.income_bracket][0] += r.n
        by_bracket[r.income_bracket][1] += r.n * (r.household_size or 0)
        by_size[r.household_size] += r.n
    mix = markdown_table(
        ["income_bracket", "households", "share", "mean household_size"],
        [
            [
                _label(b),
                by_bracket[b][0],
                _pct(by_bracket[b][0], total),
                _num(_ratio(by_bracket[b][1], by_bracket[b][0])),
            ]
            for b in _ordered(by_bracket, INCOME_BRACKETS)
        ]
        + [["**all**", total, _pct(total, total), _num(_ratio(sum(v[1] for v in by_bracket.values()), total))]],
    )
    sizes = _ordered(by_size, sorted(s for s in by_size if s is not None))
    size_table = markdown_table(
        ["household_size", *[_label(s) for s in sizes]],
        [["households", *[by_size[s] for s in sizes]], ["share", *[_pct(by_size[s], total) for s in sizes]]],
    )
    return f"**Income bracket mix** — {total:,} households\n\n{mix}\n\n**Household size**\n\n{size_table}\n"


def _age_band(age: Column) -> Column:
    """The lower bound of the age's band in :data:`AGE_BANDS` (ages below the first fall in the first)."""
    band = F.lit(AGE_BANDS[0])
    for low in AGE_BANDS[1:]:
        band = F.when(age >= F.lit(low), F.lit(low)).otherwise(band)
    return band


def _band_label(low: int | None) -> str:
    """'25–34', or '65+' for the open last band."""
    if low is None:
        return "NULL"
    i = AGE_BANDS.index(low)
    return f"{low}+" if i == len(AGE_BANDS) - 1 else f"{low}–{AGE_BANDS[i + 1] - 1}"


def profile_individuals(individuals: DataFrame) -> str:
    """Age band × gender counts, with each band's share, share disclosing income and mean income_individual."""
    rows = (
        individuals.groupBy(F.when(F.col("age").isNotNull(), _age_band(F.col("age"))).alias("band"), "gender")
        .agg(
            F.count(F.lit(1)).alias("n"),
            F.count("income_individual").alias("with_income"),
            F.sum("income_individual").alias("income"),
        )
        .collect()
    )
    total = sum(r.n for r in rows)
    genders = _ordered({r.gender for r in rows}, GENDERS)
    cells: dict[tuple[Any, Any], int] = {(r.band, r.gender): r.n for r in rows}
    bands = _ordered({r.band for r in rows}, AGE_BANDS)

    def line(label: str, selected: list[Any]) -> list[Any]:
        """The table row of the age bands ``selected``."""
        chosen = [r for r in rows if r.band in selected]
        n = sum(r.n for r in chosen)
        with_income = sum(r.with_income for r in chosen)
        income = sum((r.income for r in chosen if r.income is not None), Decimal(0))
        per_gender = [sum(cells.get((b, g), 0) for b in selected) for g in genders]
        return [label, *per_gender, n, _pct(n, total), _pct(with_income, n), _num(_ratio(income, with_income), 0)]

    table = markdown_table(
        ["age", *[_label(g) for g in genders], "individuals", "share", "income disclosed", "mean income_individual"],
        [line(_band_label(b), [b]) for b in bands] + [line("**all**", bands)],
    )
    return f"**Age band × gender** — {total:,} individuals\n\n{table}\n"


def profile_identity_mappings(mappings: DataFrame) -> str:
    """Identifiers per identifier_type: how many, how many individuals hold one, identifiers per holder, share active."""
    rows = (
        mappings.rollup("identifier_type")
        .agg(
            F.grouping("identifier_type").alias("all"),
            F.count(F.lit(1)).alias("n"),
            F.countDistinct("individual_id").alias("people"),
            _ones(F.col("active")).alias("active"),
        )
        .collect()
    )
    total = next(r for r in rows if r["all"])
    per_type = {r.identifier_type: r for r in rows if not r["all"]}

    def line(label: str, r: Any) -> list[Any]:
        """The table row of one identifier type's aggregate (or the total)."""
        return [label, r.n, r.people, _pct(r.people, total.people), _num(_ratio(r.n, r.people)), _pct(r.active, r.n)]

    table = markdown_table(
        ["identifier_type", "identifiers", "individuals holding", "share of individuals", "per holder", "active"],
        [line(_label(t), per_type[t]) for t in _ordered(per_type, IDENTIFIER_TYPES)] + [line("**all**", total)],
    )
    return (
        f"**Identifiers per type** — {total.n:,} identifiers of {total.people:,} individuals "
        f"(share of individuals: of those holding any identifier)\n\n{table}\n"
    )


# -- engagement ------------------------------------------------------------------------------


def profile_content_engagements(engagements: DataFrame) -> str:
    """Events by hour of day (UTC) and engagement_type over every stored day, with a text bar per hour."""
    rows = (
        engagements.groupBy(hour_of(F.col("event_ts")).alias("hour"), "engagement_type")
        .agg(F.count(F.lit(1)).alias("n"), F.min("event_date").alias("first"), F.max("event_date").alias("last"))
        .collect()
    )
    total = sum(r.n for r in rows)
    types = _ordered({r.engagement_type for r in rows}, ENGAGEMENT_TYPES)
    cells = {(r.hour, r.engagement_type): r.n for r in rows}
    per_hour = {h: sum(cells.get((h, t), 0) for t in types) for h in range(24)}
    per_type = {t: sum(cells.get((h, t), 0) for h in range(24)) for t in types}
    largest = max(per_hour.values(), default=0)
    table = markdown_table(
        ["hour (UTC)", "events", "% of events", *[_label(t) for t in types], ""],
        [
            [
                f"{h:02d}",
                per_hour[h],
                _pct(per_hour[h], total),
                *[cells.get((h, t), 0) for t in types],
                _bar(per_hour[h], largest),
            ]
            for h in range(24)
        ]
        + [["**all**", total, _pct(total, total), *[per_type[t] for t in types], ""]]
        + [["% of events", None, None, *[_pct(per_type[t], total) for t in types], ""]],
    )
    first = min((r.first for r in rows if r.first), default=None)
    last = max((r.last for r in rows if r.last), default=None)
    return f"**Events by hour of day and engagement_type** — {total:,} events, {_days(first, last)}\n\n{table}\n"


def _crosstab(
    rows: Sequence[Any],
    line_by: tuple[str, str],
    column_by: tuple[str, Sequence[Any]],
    means: Sequence[tuple[str, str, int]],
    counts_first: bool,
) -> tuple[int, str]:
    """People in grouped aggregates ``rows`` (each with ``n`` and the summed fields of ``means``) as a
    markdown table: one line per ``line_by`` value, largest first, then an **all** line; each line has
    people, share, a count per ``column_by`` value (in its order) and each mean (sum / people).
    Returns the total and the table."""
    line_field, line_header = line_by
    column_field, column_order = column_by
    total = sum(r.n for r in rows)
    columns = _ordered({r[column_field] for r in rows}, column_order)
    groups: dict[Any, list[Any]] = defaultdict(list)
    for r in rows:
        groups[r[line_field]].append(r)

    def line(label: str, chosen: list[Any]) -> list[Any]:
        n = sum(r.n for r in chosen)
        counts = [sum(r.n for r in chosen if r[column_field] == c) for c in columns]
        averages = [_num(_ratio(sum(float(r[field] or 0) for r in chosen), n), digits) for field, _, digits in means]
        return [label, n, _pct(n, total), *(counts + averages if counts_first else averages + counts)]

    count_headers = [_label(c) for c in columns]
    mean_headers = [header for _, header, _ in means]
    ordered = sorted(groups, key=lambda g: (-sum(r.n for r in groups[g]), _label(g)))
    table = markdown_table(
        [
            line_header,
            "people",
            "share",
            *(count_headers + mean_headers if counts_first else mean_headers + count_headers),
        ],
        [line(_label(g), groups[g]) for g in ordered] + [line("**all**", list(rows))],
    )
    return total, table


def profile_viewership_patterns(patterns: DataFrame) -> str:
    """People by their top preferred category and preferred_device, with mean total_engagements and frequency_daily_avg."""
    rows = (
        patterns.groupBy(F.element_at("preferred_categories", 1).alias("category"), "preferred_device")
        .agg(
            F.count(F.lit(1)).alias("n"),
            F.sum("total_engagements").alias("events"),
            F.sum("frequency_daily_avg").alias("frequency"),
        )
        .collect()
    )
    total, table = _crosstab(
        rows,
        ("category", "top preferred category"),
        ("preferred_device", DEVICE_TYPES),
        means=[("events", "mean total_engagements", 1), ("frequency", "mean frequency_daily_avg", 2)],
        counts_first=False,
    )
    return f"**Top preferred category × preferred_device** — {total:,} people\n\n{table}\n"


def profile_audience_attributes(audience: DataFrame) -> str:
    """Segments by size: behavioural classes, mean propensity_to_convert and mean lifetime_value_estimate per segment_primary."""
    rows = (
        audience.groupBy("segment_primary", "behavioral_classification")
        .agg(
            F.count(F.lit(1)).alias("n"),
            F.sum("propensity_to_convert").alias("propensity"),
            F.sum("lifetime_value_estimate").alias("value"),
        )
        .collect()
    )
    total, table = _crosstab(
        rows,
        ("segment_primary", "segment_primary"),
        ("behavioral_classification", BEHAVIORAL_CLASSES),
        means=[("propensity", "mean propensity_to_convert", 3), ("value", "mean lifetime_value_estimate", 2)],
        counts_first=True,
    )
    return f"**Segments** — {total:,} people, largest segment first\n\n{table}\n"


# -- campaigns -------------------------------------------------------------------------------


def profile_campaigns(campaigns: DataFrame) -> str:
    """Campaigns per goal: flight length, CPM and how many run on each channel."""
    known = F.array(*[F.lit(c) for c in CHANNELS])
    rows = (
        campaigns.groupBy("goal")
        .agg(
            F.count(F.lit(1)).alias("n"),
            F.sum(F.datediff("end_date", "start_date") + F.lit(1)).alias("flight_days"),
            F.sum("cpm").alias("cpm"),
            F.min("start_date").alias("first"),
            F.max("end_date").alias("last"),
            *[_ones(F.array_contains("channels", c)).alias(f"on_{c}") for c in CHANNELS],
            _ones(F.size(F.array_except("channels", known)) > 0).alias("on_other"),
        )
        .collect()
    )
    total = sum(r.n for r in rows)
    other = any(r.on_other for r in rows)

    def line(label: str, chosen: list[Any]) -> list[Any]:
        """The table row of the goal aggregates ``chosen``."""
        n = sum(r.n for r in chosen)
        days = sum(r.flight_days or 0 for r in chosen)
        cpm = sum((r.cpm for r in chosen if r.cpm is not None), Decimal(0))
        channels = [sum(r[f"on_{c}"] for r in chosen) for c in CHANNELS] + (
            [sum(r.on_other for r in chosen)] if other else []
        )
        return [label, n, _num(_ratio(days, n), 1), _num(_ratio(cpm, n)), *channels]

    by_goal = {r.goal: r for r in rows}
    table = markdown_table(
        ["goal", "campaigns", "mean flight days", "mean CPM", *CHANNELS, *(["other channel"] if other else [])],
        [line(_label(g), [by_goal[g]]) for g in _ordered(by_goal, GOALS)] + [line("**all**", rows)],
    )
    first = min((r.first for r in rows if r.first), default=None)
    last = max((r.last for r in rows if r.last), default=None)
    return (
        f"**Campaigns by goal and channel** — {total:,} campaigns, flights {_days(first, last)}; "
        f"a channel column counts the campaigns running on it\n\n{table}\n"
    )


def profile_campaign_delivery(delivery: DataFrame) -> str:
    """Per campaign (the first :data:`MAX_CAMPAIGNS_SHOWN` by id): its budget and planned impressions,
    and over its period the pro-rated budget, the impressions served, their spend and the pacing."""
    rows = delivery.orderBy("campaign_id").collect()
    shown = rows[:MAX_CAMPAIGNS_SHOWN]
    table = markdown_table(
        [
            "campaign", "period", "budget", "planned impressions", "period budget", "impressions", "spend",
            "pacing",
        ],
        [
            [
                r.campaign_id, _days(r.period_start, r.period_end), _num(r.budget), r.planned_impressions,
                _num(r.period_budget), r.impressions, _num(r.spend), _pct(r.pacing, 1),
            ]
            for r in shown
        ],
    )  # fmt: skip
    budget = sum((r.period_budget for r in rows), Decimal(0))
    spend = sum((r.spend for r in rows), Decimal(0))
    pacings = sorted(r.pacing for r in rows if r.period_budget > 0)
    spread = f"pacing {_pct(pacings[0], 1)} to {_pct(pacings[-1], 1)}" if pacings else "no budget in the window"
    more = f"; the first {len(shown)} of {len(rows):,} shown" if len(shown) < len(rows) else ""
    return (
        f"**Budget and delivery per campaign** — {len(rows):,} campaigns spent {_num(spend)} of the "
        f"{_num(budget)} their budgets allot to the window ({_pct(_ratio(spend, budget), 1)}; {spread}){more}\n\n"
        f"{table}\n"
    )


def profile_campaign_assignments(assignments: DataFrame) -> str:
    """Per campaign (the first :data:`MAX_CAMPAIGNS_SHOWN` by id): its eligible audience, the
    treatment and holdout groups and the realised holdout share; then all campaigns."""
    rows = (
        assignments.groupBy("campaign_id")
        .agg(
            F.count(F.lit(1)).alias("eligible"),
            _ones(F.col("group") == "treatment").alias("treatment"),
            _ones(F.col("group") == "holdout").alias("holdout"),
        )
        .orderBy("campaign_id")
        .collect()
    )

    def line(label: str, eligible: int, treatment: int, holdout: int) -> list[Any]:
        return [label, eligible, treatment, holdout, _pct(holdout, eligible)]

    shown = [line(str(r.campaign_id), r.eligible, r.treatment, r.holdout) for r in rows[:MAX_CAMPAIGNS_SHOWN]]
    everyone = line(
        "**all**", sum(r.eligible for r in rows), sum(r.treatment for r in rows), sum(r.holdout for r in rows)
    )
    smallest = min((r.holdout for r in rows), default=0)
    table = markdown_table(["campaign", "eligible", "treatment", "holdout", "holdout share"], [*shown, everyone])
    more = f"; the first {MAX_CAMPAIGNS_SHOWN} of {len(rows):,} shown" if len(rows) > MAX_CAMPAIGNS_SHOWN else ""
    return (
        f"**Treatment and holdout per campaign** — {len(rows):,} campaigns with an eligible audience{more}; "
        f"the smallest holdout has {smallest:,} people\n\n{table}\n"
    )


def profile_campaign_exposures(exposures: DataFrame) -> str:
    """Impressions per channel per day (the most recent :data:`MAX_DAYS_SHOWN` stored days), with the
    share addressable and spend (Σ cost) per day."""
    rows = (
        exposures.groupBy("event_date", "channel")
        .agg(
            F.count(F.lit(1)).alias("n"), _ones(F.col("addressable")).alias("addressable"), F.sum("cost").alias("cost")
        )
        .collect()
    )
    channels = _ordered({r.channel for r in rows}, CHANNELS)
    days = sorted({r.event_date for r in rows if r.event_date is not None})
    cells = {(r.event_date, r.channel): r for r in rows}

    def line(label: str, selected: Sequence[dt.date]) -> list[Any]:
        """The table row of the days ``selected``."""
        chosen = [r for r in rows if r.event_date in selected]
        per_channel = [sum(cells[(d, c)].n for d in selected if (d, c) in cells) for c in channels]
        spend = sum((r.cost for r in chosen if r.cost is not None), Decimal(0))
        impressions = sum(r.n for r in chosen)
        return [label, *per_channel, impressions, _pct(sum(r.addressable for r in chosen), impressions), _num(spend)]

    shown = days[-MAX_DAYS_SHOWN:]
    total = sum(r.n for r in rows)
    table = markdown_table(
        ["event_date", *[_label(c) for c in channels], "impressions", "addressable", "spend"],
        [line(d.isoformat(), [d]) for d in shown] + [line(f"**all {len(days)} days**", days)],
    )
    scope = f"the last {len(shown)} of {len(days)} stored days shown" if len(shown) < len(days) else "every stored day"
    return (
        f"**Impressions per channel per day** — {total:,} impressions, "
        f"{_days(days[0] if days else None, days[-1] if days else None)} ({scope}); addressable is the share served "
        f"on an identifier of the channel, spend is Σ cost\n\n{table}\n"
    )


def _by_propensity_decile(responses: DataFrame, exposures: DataFrame, audience: DataFrame) -> DataFrame:
    """The aggregate :func:`responses_by_propensity_decile` collects."""
    # One union and one grouping by person rather than joins: a single Spark job without broadcasts.
    sides = [
        audience.select("individual_id", "propensity_to_convert", F.lit(1).alias("in_audience")),
        exposures.select("individual_id", F.lit(1).alias("exposed"), F.col("event_date").alias("exposed_on")),
        responses.select(
            "individual_id",
            F.when(F.col("response_type") != "conversion", F.lit(1)).alias("responded"),
            F.when(F.col("response_type") == "click", F.lit(1)).alias("clicked"),
            F.when(F.col("response_type") == "conversion", F.lit(1)).alias("converted"),
            F.col("event_date").alias("responded_on"),
        ),
    ]
    union = sides[0].unionByName(sides[1], allowMissingColumns=True).unionByName(sides[2], allowMissingColumns=True)
    people = union.groupBy("individual_id").agg(
        F.max("propensity_to_convert").alias("propensity_to_convert"),
        F.max("in_audience").alias("in_audience"),
        *[F.sum(c).alias(c) for c in ("exposed", "responded", "clicked", "converted")],
        *[F.min(c).alias(f"first_{c}") for c in ("exposed_on", "responded_on")],
        *[F.max(c).alias(f"last_{c}") for c in ("exposed_on", "responded_on")],
    )
    ranked = Window.partitionBy("in_audience").orderBy("propensity_to_convert", "individual_id")
    return (
        people.withColumn("decile", F.when(F.col("in_audience") == 1, F.ntile(10).over(ranked)))
        .where((F.col("in_audience") == 1) | (F.col("exposed") > 0))
        .groupBy("decile")
        .agg(
            F.min("propensity_to_convert").alias("low"),
            F.max("propensity_to_convert").alias("high"),
            *[F.coalesce(F.sum(c), F.lit(0)).alias(c) for c in ("exposed", "responded", "clicked", "converted")],
            *[F.min(f"first_{c}").alias(f"first_{c}") for c in ("exposed_on", "responded_on")],
            *[F.max(f"last_{c}").alias(f"last_{c}") for c in ("exposed_on", "responded_on")],
        )
    )


def responses_by_propensity_decile(responses: DataFrame, exposures: DataFrame, audience: DataFrame) -> list[Any]:
    """Exposures and responses of the people of each propensity decile: one row per decile (``decile``
    1–10, None for people exposed but missing from audience_attributes) with its propensity range
    (``low``, ``high``), ``exposed``, ``responded``, ``clicked``, ``converted`` and the first and
    last stored days of exposures and responses. One Spark job.

    Deciles rank the people of audience_attributes by (propensity_to_convert, individual_id)
    into ten groups of equal size (``ntile(10)``: exact, not approximate, quantiles). Each
    click, engagement or visit (``responded``) answers one exposure of the same person and an
    exposure draws at most one, so ``responded / exposed`` is the share of the decile's exposures
    that drew one. Conversions (``converted``) are the person's own process and count apart.
    """
    return _by_propensity_decile(responses, exposures, audience).collect()


def _by_channel(responses: DataFrame, exposures: DataFrame) -> DataFrame:
    """Per channel: its exposures (``exposed``), the addressable ones, and the clicks, engagements and
    visits answering them."""
    answered = responses.where(F.col("response_type") != "conversion").select("exposure_id", "response_type")
    return (
        exposures.select("exposure_id", "channel", "addressable")
        .join(answered, "exposure_id", "left")
        .groupBy("channel")
        .agg(
            F.count(F.lit(1)).alias("exposed"),
            _ones(F.col("addressable")).alias("addressable"),
            *[_ones(F.col("response_type") == t).alias(t) for t in ("click", "engagement", "visit")],
        )
    )


def profile_response_events(responses: DataFrame, exposures: DataFrame, audience: DataFrame) -> str:
    """Response rate by propensity decile (:func:`responses_by_propensity_decile`): a decile's rate is the
    stored clicks, engagements and visits of its people divided by their stored campaign_exposures, over
    every stored day; beside it, the decile's conversions."""
    both = (
        _by_propensity_decile(responses, exposures, audience)
        .withColumn("_part", F.lit("decile"))
        .unionByName(_by_channel(responses, exposures).withColumn("_part", F.lit("channel")), allowMissingColumns=True)
        .collect()
    )
    rows = [r for r in both if r._part == "decile"]
    by_decile = {r.decile: r for r in rows}
    largest = max((_ratio(r.responded, r.exposed) or 0.0 for r in rows), default=0.0)

    def line(label: str, r: Any) -> list[Any]:
        """The table row of one decile's aggregate."""
        rate = _ratio(r.responded, r.exposed)
        span = None if r.low is None else f"{r.low:.3f} – {r.high:.3f}"
        return [
            label,
            span,
            r.exposed,
            r.responded,
            _pct(rate, 1, 2),
            _pct(r.clicked, r.exposed, 2),
            r.converted,
            _bar(rate or 0.0, largest),
        ]

    table = markdown_table(
        [
            "propensity decile",
            "propensity_to_convert",
            "exposures",
            "responses",
            "response rate",
            "click rate",
            "conversions",
            "",
        ],
        [
            line(str(d) if d is not None else "not in audience_attributes", by_decile[d])
            for d in _ordered(by_decile, range(1, 11))
        ],
    )
    exposed, responded = sum(r.exposed for r in rows), sum(r.responded for r in rows)
    top, bottom = by_decile.get(10), by_decile.get(1)
    lift = (
        _ratio(_ratio(top.responded, top.exposed), _ratio(bottom.responded, bottom.exposed)) if top and bottom else None
    )

    def span(column: str) -> str:
        """The stored days of the dates in ``column`` ('exposed_on' or 'responded_on')."""
        return _days(
            min((r[f"first_{column}"] for r in rows if r[f"first_{column}"]), default=None),
            max((r[f"last_{column}"] for r in rows if r[f"last_{column}"]), default=None),
        )

    return (
        f"**Response rate by propensity decile** — {responded:,} responses to {exposed:,} exposures "
        f"({_pct(responded, exposed, 2) or '–'}); top decile ÷ bottom decile: {'–' if lift is None else f'{lift:.1f}×'}\n\n"
        f"{table}\n\n"
        "Deciles: the people of audience_attributes ranked by propensity_to_convert (ties by individual_id), "
        "ten groups of equal size. Responses: the decile's stored clicks, engagements and visits; response rate: "
        f"those ÷ its stored campaign_exposures (exposures {span('exposed_on')}, responses {span('responded_on')}); "
        "each answers one exposure and an exposure draws at most one, so this is the share of exposures that drew "
        "one. Conversions: the decile's stored conversions, exposed or not (people convert at their own latent "
        "rate, and campaigns add to it). Exposures of the last stored days can still draw responses on days not "
        "generated yet.\n\n"
        f"{_channel_table([r for r in both if r._part == 'channel'])}"
    )


def _channel_table(rows: Sequence[Any]) -> str:
    """The per-channel table of the response_events profile: rates over addressable exposures (only
    those draw clicks, engagements and visits), beside each channel's published CTR range."""
    by_channel = {r.channel: r for r in rows}

    def published(channel: str) -> str:
        if channel in NON_CLICKABLE_CHANNELS:
            return "none (not clickable)"
        low, high = PUBLISHED_CTR_RANGES.get(channel, (None, None))
        return "–" if low is None else f"{low * 100:g} – {high * 100:g} %"

    table = markdown_table(
        ["channel", "exposures", "addressable", "clicks", "CTR", "published CTR", "engagement rate", "visit rate"],
        [
            [
                _label(c),
                r.exposed,
                r.addressable,
                r.click,
                _pct(r.click, r.addressable, 3),
                published(c),
                _pct(r.engagement, r.addressable, 3),
                _pct(r.visit, r.addressable, 3),
            ]
            for c in _ordered(by_channel, CHANNELS)
            for r in [by_channel[c]]
        ],
    )
    return f"**Responses per channel** — rates are over addressable exposures (only those are answered)\n\n{table}\n"


def profile_outcome_metrics(
    outcomes: DataFrame, campaigns: DataFrame, exposures: DataFrame, responses: DataFrame
) -> str:
    """Campaign KPIs per campaign and over all campaigns, from every stored exposure and response.

    impressions = campaign_exposures rows; reach = distinct individual_id exposed;
    frequency = impressions / reach; clicks = response_events with response_type 'click'
    and CTR = clicks / impressions; conversions = response_events with response_type
    'conversion' and revenue = Σ their value; spend = Σ cost; ROAS = revenue / spend.
    From outcome_metrics itself: the conversions it attributes (distinct response_id)
    and the mean touches credited per conversion (rows ÷ attribution models ÷ conversions).
    """
    # The four aggregates travel in one union (a row per campaign and source) and are merged
    # here: a single Spark job, where joins would add a broadcast job per side.
    parts = [
        campaigns.select(F.lit("campaigns").alias("source"), F.col("campaign_id").cast("bigint"), "campaign_name"),
        # rollup: the grand total row (all_campaigns = 1) carries the reach over all campaigns.
        exposures.rollup("campaign_id").agg(
            F.lit("exposures").alias("source"),
            F.grouping("campaign_id").alias("all_campaigns"),
            F.count(F.lit(1)).alias("impressions"),
            F.countDistinct("individual_id").alias("reach"),
            F.sum("cost").cast("decimal(38,6)").alias("spend"),
            F.min("event_date").alias("first"),
            F.max("event_date").alias("last"),
        ),
        # A conversion linked to no exposure is no campaign's (the ad server saw no touch before it).
        responses.where(F.col("campaign_id").isNotNull())
        .groupBy("campaign_id")
        .agg(
            F.lit("responses").alias("source"),
            _ones(F.col("response_type") == "click").alias("clicks"),
            _ones(F.col("response_type") == "conversion").alias("conversions"),
            F.sum(F.when(F.col("response_type") == "conversion", F.col("value")))
            .cast("decimal(38,6)")
            .alias("revenue"),
        ),
        # A conversion credits touches of several campaigns: its total row counts it once.
        outcomes.rollup("campaign_id").agg(
            F.lit("outcomes").alias("source"),
            F.grouping("campaign_id").alias("all_campaigns"),
            F.countDistinct("response_id").alias("attributed"),
            F.count(F.lit(1)).alias("credits"),
            F.countDistinct("attribution_model").alias("models"),
        ),
    ]
    union = parts[0]
    for part in parts[1:]:
        union = union.unionByName(
            part.withColumn("campaign_id", F.col("campaign_id").cast("bigint")), allowMissingColumns=True
        )
    merged: dict[Any, dict[str, Any]] = defaultdict(dict)
    total: dict[str, Any] = {}
    for r in union.collect():
        values = {
            k: v for k, v in r.asDict().items() if v is not None and k not in ("source", "campaign_id", "all_campaigns")
        }
        (total if r.all_campaigns == 1 else merged[r.campaign_id]).update(values)
    for part in merged.values():
        for key in ("clicks", "conversions", "revenue"):
            total[key] = total.get(key, 0) + part.get(key, 0)

    def line(label: str, k: dict[str, Any]) -> list[Any]:
        """The KPI row of one campaign's merged aggregates (or of all campaigns)."""
        impressions, reach, clicks = k.get("impressions", 0), k.get("reach", 0), k.get("clicks", 0)
        spend, revenue = k.get("spend", Decimal(0)), k.get("revenue", Decimal(0))
        roas = _ratio(revenue, spend)
        touches = _ratio(_ratio(k.get("credits"), k.get("models")), k.get("attributed"))
        return [
            label,
            impressions,
            reach,
            _num(_ratio(impressions, reach)),
            clicks,
            _pct(clicks, impressions, 2),
            k.get("conversions", 0),
            _num(spend),
            _num(revenue),
            None if roas is None else f"{roas:.2f}×",
            k.get("attributed", 0),
            _num(touches),
        ]

    ids = sorted(merged, key=lambda c: (c is None, c if c is not None else 0))
    shown = ids[:MAX_CAMPAIGNS_SHOWN]
    table = markdown_table(
        [
            "campaign",
            "impressions",
            "reach",
            "frequency",
            "clicks",
            "CTR",
            "conversions",
            "spend",
            "revenue",
            "ROAS",
            "attributed conversions",
            "touches per conversion",
        ],
        [line(f"{_label(c)} {merged[c].get('campaign_name', '(not in campaigns)')}", merged[c]) for c in shown]
        + [line(f"**all {len(ids)} campaigns**", total)],
    )
    more = f"; the first {len(shown)} campaigns by id shown" if len(shown) < len(ids) else ""
    return (
        f"**Campaign KPIs** — exposures {_days(total.get('first'), total.get('last'))}{more}\n\n{table}\n\n"
        "impressions: campaign_exposures rows; reach: distinct individuals exposed; frequency: impressions ÷ reach; "
        "clicks and conversions: response_events of that response_type linked to the campaign's exposures (a "
        "conversion linked to none counts for no campaign); CTR: clicks ÷ impressions; "
        "spend: Σ cost; revenue: Σ value of conversions; ROAS: revenue ÷ spend (every stored day). "
        "attributed conversions (those crediting at least one of the campaign's touches; a conversion credits "
        "every campaign the person saw in the window, so the total counts each once) and touches per conversion "
        "(the campaign's credited exposures per such conversion) come from outcome_metrics, over its own "
        "attribution window.\n"
    )


# -- measurement truth -----------------------------------------------------------------------


def profile_audience_truth(truth: DataFrame) -> str:
    """People per latent persona, with their share, mean daily organic conversion rate and churned share."""
    rows = (
        truth.groupBy("persona")
        .agg(
            F.count(F.lit(1)).alias("n"),
            F.avg("daily_conversion_rate").alias("rate"),
            F.count("churned_at").alias("churned"),
        )
        .collect()
    )
    total = sum(r.n for r in rows)
    by_persona = {r.persona: r for r in rows}
    mean = _ratio(sum(r.rate * r.n for r in rows if r.rate is not None), total)
    table = markdown_table(
        ["persona", "people", "share", "mean daily conversion rate", "churned"],
        [
            [
                _label(p),
                by_persona[p].n,
                _pct(by_persona[p].n, total),
                _num(by_persona[p].rate, 5),
                _pct(by_persona[p].churned, by_persona[p].n),
            ]
            for p in _ordered(by_persona, PERSONAS)
        ]
        + [["**all**", total, _pct(total, total), _num(mean, 5), _pct(sum(r.churned for r in rows), total)]],
    )
    return (
        f"**Latent personas** — {total:,} people; never observed: score segmentations and churn models against it; "
        f"churned: the share who stop engaging in the window\n\n{table}\n"
    )


def profile_conversion_truth(truth: DataFrame) -> str:
    """Conversions by cause: organic or caused by a campaign, and how many campaigns caused any."""
    rows = (
        truth.groupBy("cause")
        .agg(
            F.count(F.lit(1)).alias("n"),
            F.countDistinct("cause_campaign_id").alias("campaigns"),
            F.min("event_date").alias("first"),
            F.max("event_date").alias("last"),
        )
        .collect()
    )
    total = sum(r.n for r in rows)
    by_cause = {r.cause: r for r in rows}
    table = markdown_table(
        ["cause", "conversions", "share", "campaigns"],
        [
            [_label(c), by_cause[c].n, _pct(by_cause[c].n, total), by_cause[c].campaigns]
            for c in _ordered(by_cause, CONVERSION_CAUSES)
        ]
        + [["**all**", total, _pct(total, total), sum(r.campaigns for r in rows)]],
    )
    first = min((r.first for r in rows if r.first), default=None)
    last = max((r.last for r in rows if r.last), default=None)
    return f"**Why people converted** — conversions of {_days(first, last)}\n\n{table}\n"


def profile_campaign_truth(truth: DataFrame) -> str:
    """Per campaign (the first :data:`MAX_CAMPAIGNS_SHOWN` by id): its latent effect, group sizes,
    baseline rate, true absolute and relative lift, and the conversions it caused."""
    rows = truth.orderBy("campaign_id").collect()
    shown = rows[:MAX_CAMPAIGNS_SHOWN]
    table = markdown_table(
        [
            "campaign", "period", "effect", "treatment", "holdout", "baseline rate", "true absolute lift",
            "true relative lift", "incremental conversions",
        ],
        [
            [
                r.campaign_id, _days(r.period_start, r.period_end), _num(r.effect, 4), r.treatment_size,
                r.holdout_size, _num(r.baseline_conversion_rate, 5), _num(r.true_absolute_lift, 5),
                _pct(r.true_relative_lift, 1), r.true_incremental_conversions,
            ]
            for r in shown
        ],
    )  # fmt: skip
    zero = sum(1 for r in rows if r.effect == 0)
    caused = sum(r.true_incremental_conversions for r in rows)
    more = f"; the first {len(shown)} of {len(rows):,} shown" if len(shown) < len(rows) else ""
    return (
        f"**True effect per campaign** — {len(rows):,} campaigns, {zero:,} with zero effect, {caused:,} conversions "
        f"caused in their periods{more}. Lifts are per treatment-group person over the period (intent to treat): "
        f"what treatment minus holdout conversions per person should estimate\n\n{table}\n"
    )


# -- identity resolution ---------------------------------------------------------------------


def profile_identity_observations(observations: DataFrame) -> str:
    """Records per source and how often each field is filled in."""
    fields = list(OBSERVED_FIELDS)
    rows = (
        observations.rollup("source")
        .agg(
            F.grouping("source").alias("all"),
            F.count(F.lit(1)).alias("n"),
            *[_ones(F.col(f).isNotNull()).alias(f) for f in fields],
        )
        .collect()
    )
    total = next(r for r in rows if r["all"])
    per_source = {r.source: r for r in rows if not r["all"]}

    def line(label: str, r: Any) -> list[Any]:
        """The table row of one source (or the total): records, share, and each field's fill rate."""
        return [label, r.n, _pct(r.n, total.n), *(_pct(r[f], r.n, 0) if r[f] else "–" for f in fields)]

    table = markdown_table(
        ["source", "records", "share", *fields],
        [line(_label(s), per_source[s]) for s in _ordered(per_source, SOURCES)] + [line("**all**", total)],
    )
    return (
        f"**Records per source** — {total.n:,} records; each field's column: the share of the source's records "
        f"that carry it (– never captured by the source)\n\n{table}\n"
    )


def profile_identity_truth(truth: DataFrame) -> str:
    """Records per person and how many records carry each kind of noise."""
    records, people = "__records__", "__people__"
    # NULL: a clean record. The totals ride along as two more rows, so the profile is one action.
    per_noise = (
        truth.select(
            F.explode(F.when(F.size("noise") > 0, F.col("noise")).otherwise(F.array(F.lit(None).cast("string")))).alias(
                "noise"
            )
        )
        .groupBy("noise")
        .agg(F.count(F.lit(1)).alias("n"))
    )
    totals = truth.agg(F.lit(records).alias("noise"), F.count(F.lit(1)).alias("n")).unionByName(
        truth.agg(F.lit(people).alias("noise"), F.countDistinct("individual_id").alias("n"))
    )
    found = {r.noise: r.n for r in per_noise.unionByName(totals).collect()}
    total, persons, clean = found.pop(records, 0), found.pop(people, 0), found.pop(None, 0)
    table = markdown_table(
        ["noise", "records", "share of records"],
        [[n, found[n], _pct(found[n], total)] for n in _ordered(found, NOISE_TYPES)]
        + [["**none**", clean, _pct(clean, total)]],
    )
    return (
        f"**Noise** — {total:,} records of {persons:,} people ({_num(_ratio(total, persons))} per person); "
        f"a record can carry several kinds\n\n{table}\n"
    )


#: Cluster sizes shown by the resolution_baseline profile; the last band is open.
CLUSTER_SIZES = (1, 2, 3, 6, 11)


def profile_resolution_baseline(clusters: DataFrame) -> str:
    """How many clusters the baseline resolver found, by size."""
    sizes = clusters.groupBy("cluster_id").agg(F.count(F.lit(1)).alias("size"))
    band = F.lit(CLUSTER_SIZES[0])
    for low in CLUSTER_SIZES[1:]:
        band = F.when(F.col("size") >= low, F.lit(low)).otherwise(band)
    rows = sizes.groupBy(band.alias("band")).agg(F.count(F.lit(1)).alias("clusters"), F.sum("size").alias("records"))
    found = {r.band: r for r in rows.collect()}
    clusters_total = sum(r.clusters for r in found.values())
    records_total = sum(r.records for r in found.values())

    def label(i: int, low: int) -> str:
        if i + 1 == len(CLUSTER_SIZES):
            return f"{low}+"
        high = CLUSTER_SIZES[i + 1] - 1
        return str(low) if high == low else f"{low}–{high}"

    table = markdown_table(
        ["records per cluster", "clusters", "records", "share of records"],
        [
            [label(i, low), found[low].clusters, found[low].records, _pct(found[low].records, records_total)]
            for i, low in enumerate(CLUSTER_SIZES)
            if low in found
        ],
    )
    return (
        f"**Baseline clusters** — {clusters_total:,} clusters of {records_total:,} records (precision, recall "
        f"and F1 against identity_truth: the materialisation's metadata)\n\n{table}\n"
    )


# -- registry --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """How one table is profiled: ``render(table, *needs)`` with the stored tables named in ``needs``."""

    render: Callable[..., str]
    needs: tuple[str, ...] = ()


#: Table name → its profile. A table missing here has no profile.
PROFILES: dict[str, Profile] = {
    M.HOUSEHOLDS.name: Profile(profile_households),
    M.INDIVIDUALS.name: Profile(profile_individuals),
    M.IDENTITY_MAPPINGS.name: Profile(profile_identity_mappings),
    M.CONTENT_ENGAGEMENTS.name: Profile(profile_content_engagements),
    M.VIEWERSHIP_PATTERNS.name: Profile(profile_viewership_patterns),
    M.AUDIENCE_ATTRIBUTES.name: Profile(profile_audience_attributes),
    M.CAMPAIGNS.name: Profile(profile_campaigns),
    M.CAMPAIGN_ASSIGNMENTS.name: Profile(profile_campaign_assignments),
    M.CAMPAIGN_EXPOSURES.name: Profile(profile_campaign_exposures),
    M.RESPONSE_EVENTS.name: Profile(profile_response_events, (M.CAMPAIGN_EXPOSURES.name, M.AUDIENCE_ATTRIBUTES.name)),
    M.OUTCOME_METRICS.name: Profile(
        profile_outcome_metrics, (M.CAMPAIGNS.name, M.CAMPAIGN_EXPOSURES.name, M.RESPONSE_EVENTS.name)
    ),
    M.CAMPAIGN_DELIVERY.name: Profile(profile_campaign_delivery),
    M.AUDIENCE_TRUTH.name: Profile(profile_audience_truth),
    M.CONVERSION_TRUTH.name: Profile(profile_conversion_truth),
    M.CAMPAIGN_TRUTH.name: Profile(profile_campaign_truth),
    M.IDENTITY_OBSERVATIONS.name: Profile(profile_identity_observations),
    M.IDENTITY_TRUTH.name: Profile(profile_identity_truth),
    M.RESOLUTION_BASELINE.name: Profile(profile_resolution_baseline),
}
