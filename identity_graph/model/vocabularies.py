"""The shared vocabularies: the values categorical columns take, and the facts tied to them.

Config classes validate against these, generation draws from them, checks and docs
name them. A configurable vocabulary (content categories, segments) has its default here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

INCOME_BRACKETS = ("<30K", "30-60K", "60-100K", "100-150K", "150K+")
#: Each bracket's household income range [low, high) in dollars a year (None: no upper bound).
#: A household's bracket holds the sum of its members' incomes.
INCOME_BRACKET_RANGE: Mapping[str, tuple[int, int | None]] = {
    "<30K": (0, 30_000),
    "30-60K": (30_000, 60_000),
    "60-100K": (60_000, 100_000),
    "100-150K": (100_000, 150_000),
    "150K+": (150_000, None),
}
#: A member's place in the household: the head (first member), the head's partner (second), an
#: adult child or a parent of the head (a generation apart), or another adult (a sibling, a flatmate).
HOUSEHOLD_ROLES = ("head", "partner", "child", "parent", "other adult")
#: A partner is at most this many years older or younger than the head ...
PARTNER_MAX_AGE_GAP = 15
#: ... and a child at least this many years younger, a parent at least this many years older.
GENERATION_MIN_AGE_GAP = 16
HOUSING_TYPES = ("house", "apartment", "condo", "other")
GENDERS = ("Male", "Female", "Non-Binary", "Prefer not to say")
EDUCATION_LEVELS = ("High School", "Some College", "Bachelor", "Master", "Doctorate")
EMPLOYMENT_STATUSES = ("Employed", "Self-Employed", "Unemployed", "Student", "Retired")

IdentifierScope = Literal["person", "device", "household"]
#: Each identifier type and what it identifies: a person (hashed PII), one of their devices, or
#: their household (a CTV set and the home network are shared by everyone living there).
IDENTIFIER_SCOPE: Mapping[str, IdentifierScope] = {
    "email_hash": "person",
    "cookie_id": "device",
    "mobile_ad_id": "device",
    "device_id": "device",
    "ctv_id": "household",
    "hashed_phone": "person",
    "ip_address": "household",
}
IDENTIFIER_TYPES = tuple(IDENTIFIER_SCOPE)

ENGAGEMENT_TYPES = ("view", "click", "share", "like", "comment")
DEVICE_TYPES = ("mobile", "desktop", "tablet", "ctv")
#: The identifier an engagement on each device type is observed on: a phone's mobile ad id, a
#: browser's cookie, a tablet's device id, the household's CTV id.
DEVICE_IDENTIFIER: Mapping[str, str] = {
    "mobile": "mobile_ad_id",
    "desktop": "cookie_id",
    "tablet": "device_id",
    "ctv": "ctv_id",
}
TemporalPattern = Literal["uniform", "daily", "weekly"]
TEMPORAL_PATTERNS: tuple[TemporalPattern, ...] = get_args(TemporalPattern)
#: The default content categories and their share of events (content_category is configurable).
DEFAULT_CATEGORY_WEIGHTS: Mapping[str, float] = {
    "News": 0.22,
    "Sports": 0.20,
    "Entertainment": 0.30,
    "Education": 0.12,
    "Technology": 0.16,
}
CONTENT_CATEGORIES = tuple(DEFAULT_CATEGORY_WEIGHTS)
#: The audience segment named after each default content category.
DEFAULT_SEGMENT_BY_CATEGORY: Mapping[str, str] = {
    "News": "News Junkies",
    "Sports": "Sports Fans",
    "Entertainment": "Entertainment Seekers",
    "Education": "Lifelong Learners",
    "Technology": "Tech Enthusiasts",
}
SEGMENTS = tuple(DEFAULT_SEGMENT_BY_CATEGORY.values())
BEHAVIORAL_CLASSES = ("Heavy User", "Moderate User", "Light User", "Churned")

CHANNELS = ("email", "social", "display", "video", "ctv", "audio")
#: The identifier type each channel reaches a person through (streaming audio plays on phones).
CHANNEL_IDENTIFIER: Mapping[str, str] = {
    "email": "email_hash",
    "social": "mobile_ad_id",
    "display": "cookie_id",
    "video": "device_id",
    "ctv": "ctv_id",
    "audio": "mobile_ad_id",
}
#: Channels whose impressions cannot be clicked: a TV screen and an audio stream have nothing to click.
#: Their responses are site visits (and view-through conversions).
NON_CLICKABLE_CHANNELS = ("ctv", "audio")
#: Where an impression runs, per channel.
PLACEMENTS: Mapping[str, tuple[str, ...]] = {
    "email": ("newsletter", "promotional", "triggered"),
    "social": ("feed", "stories", "reels", "sponsored_post"),
    "display": ("leaderboard", "sidebar", "interstitial", "native"),
    "video": ("pre_roll", "mid_roll", "outstream"),
    "ctv": ("pre_roll", "mid_roll", "pause_screen", "home_screen"),
    "audio": ("music_stream", "podcast", "host_read"),
}
#: Published click-through-rate ranges (clicks ÷ impressions) per clickable channel, the defaults of
#: ResponsesConfig.response_rates lie inside: display 0.05–0.5 %, social 0.5–2 %, email 2–5 % of
#: delivered messages (boneyardtools.com, "What is a good click-through rate by channel"); online video
#: 0.05 % (OLV floor, Infinity Direct "Media Channel Performance 101") to 1.03 % (in-stream, MediaMind
#: 2012). CTV and audio have none: their CTR floor is quoted as 0.001 %, or not at all (Infinity Direct).
PUBLISHED_CTR_RANGES: Mapping[str, tuple[float, float]] = {
    "email": (0.02, 0.05),
    "social": (0.005, 0.02),
    "display": (0.0005, 0.005),
    "video": (0.0005, 0.0103),
}
GOALS = ("awareness", "consideration", "conversion")
#: A campaign's eligible audience is randomised into these groups; the holdout is never exposed.
ASSIGNMENT_GROUPS = ("treatment", "holdout")
RESPONSE_TYPES = ("click", "conversion", "engagement", "visit")
#: The responses an exposure draws itself; conversions come from each person's own rate and campaigns' effects.
EXPOSURE_RESPONSE_TYPES = ("click", "engagement", "visit")
#: Default mean probability that an addressable exposure on each channel draws each response (at most
#: one): ResponsesConfig.response_rates. Clicks inside PUBLISHED_CTR_RANGES; none on CTV and audio, whose
#: response is a visit to the advertiser's site (matched by household IP or device graph).
DEFAULT_RESPONSE_RATES: Mapping[str, Mapping[str, float]] = {
    "email": {"click": 0.03, "engagement": 0.004, "visit": 0.004},
    "social": {"click": 0.009, "engagement": 0.012, "visit": 0.002},
    "display": {"click": 0.0012, "engagement": 0.001, "visit": 0.002},
    "video": {"click": 0.004, "engagement": 0.003, "visit": 0.002},
    "ctv": {"click": 0.0, "engagement": 0.0, "visit": 0.004},
    "audio": {"click": 0.0, "engagement": 0.0, "visit": 0.002},
}
#: How strongly an exposure on each channel drives conversions, relative to the campaign's effect.
CHANNEL_CONVERSION_FACTOR = {"email": 1.2, "social": 1.0, "display": 0.7, "video": 0.9, "ctv": 0.8, "audio": 0.6}
#: What a conversion a campaign causes is worth, relative to an organic one, by the campaign's goal: a
#: conversion campaign sells (a purchase at full value), consideration drives trials and first orders,
#: awareness mostly sign-ups and small first baskets.
GOAL_VALUE_FACTOR: Mapping[str, float] = {"awareness": 0.6, "consideration": 0.9, "conversion": 1.4}
#: Why a conversion happened: on the person's own (organic), or caused by a campaign's exposure.
CONVERSION_CAUSES = ("organic", "campaign")
#: Latent personas: each person's is drawn by age band (PERSONA_WEIGHTS_BY_AGE); it scales the
#: person's organic conversion rate by its factor and tilts their content and devices (below).
PERSONA_CONVERSION_FACTOR = {
    "Deal Seeker": 1.8,
    "Brand Loyalist": 1.3,
    "Busy Professional": 1.0,
    "Retired Enthusiast": 0.9,
    "Young Streamer": 0.8,
    "Casual Browser": 0.5,
}
PERSONAS = tuple(PERSONA_CONVERSION_FACTOR)
#: (lowest age of the band, persona weights): the last band whose lowest age a person has reached applies.
PERSONA_WEIGHTS_BY_AGE = (
    (18, {"Young Streamer": 0.35, "Deal Seeker": 0.2, "Casual Browser": 0.2, "Busy Professional": 0.15, "Brand Loyalist": 0.1}),
    (35, {"Busy Professional": 0.3, "Deal Seeker": 0.2, "Brand Loyalist": 0.2, "Casual Browser": 0.2, "Young Streamer": 0.05, "Retired Enthusiast": 0.05}),
    (65, {"Retired Enthusiast": 0.4, "Brand Loyalist": 0.25, "Casual Browser": 0.2, "Deal Seeker": 0.1, "Busy Professional": 0.05}),
)  # fmt: skip
#: How strongly each persona leans to each default content category and device type, relative to a
#: persona-neutral person (1; categories and devices not named are 1). A person's favourite category and
#: primary device are drawn from the configured weights tilted by these and refitted so that, over the
#: personas of the graph, the configured weights still hold (generation.engagement.persona_mix).
PERSONA_CATEGORY_AFFINITY: Mapping[str, Mapping[str, float]] = {
    "Young Streamer": {"Entertainment": 4.0, "Sports": 2.0, "News": 0.3, "Education": 0.5},
    "Deal Seeker": {"Technology": 3.0, "Entertainment": 1.5, "Education": 0.5},
    "Busy Professional": {"News": 3.0, "Technology": 2.5, "Entertainment": 0.4, "Sports": 0.6},
    "Brand Loyalist": {"Sports": 3.5, "News": 1.5, "Education": 0.5},
    "Retired Enthusiast": {"News": 3.0, "Education": 3.0, "Technology": 0.3, "Entertainment": 0.6},
    "Casual Browser": {},
}
PERSONA_DEVICE_AFFINITY: Mapping[str, Mapping[str, float]] = {
    "Young Streamer": {"mobile": 3.0, "ctv": 1.5, "desktop": 0.4},
    "Deal Seeker": {"mobile": 2.0, "desktop": 1.5, "ctv": 0.5},
    "Busy Professional": {"desktop": 3.0, "mobile": 1.5, "ctv": 0.4, "tablet": 0.6},
    "Brand Loyalist": {"ctv": 2.0, "tablet": 1.5},
    "Retired Enthusiast": {"tablet": 3.0, "ctv": 2.5, "mobile": 0.3},
    "Casual Browser": {},
}
ATTRIBUTION_MODELS = ("first_touch", "last_touch", "linear", "time_decay")
CONVERSION_STATUSES = ("converted", "engaged", "no_action")


def segment_for(category: str, mapping: Mapping[str, str] | None = None) -> str:
    """The segment name of a content category (``'<Category> Enthusiasts'`` when unmapped)."""
    mapping = DEFAULT_SEGMENT_BY_CATEGORY if mapping is None else mapping
    return mapping.get(category, f"{category} Enthusiasts")


#: The source systems that hold records about people, and the fields each one captures.
#: A record carries only its source's fields; the rest are NULL.
SOURCE_FIELDS: Mapping[str, tuple[str, ...]] = {
    "crm": ("first_name", "last_name", "email_sha256", "phone_sha256", "postal_code", "city", "state"),
    "web_login": ("email_sha256", "cookie_id", "ip_address", "device_type"),
    "mobile_app": ("first_name", "email_sha256", "maid", "ip_address", "device_type"),
    "ctv_app": ("email_sha256", "ctv_id", "ip_address", "device_type"),
    "data_partner": (
        "first_name",
        "last_name",
        "email_sha256",
        "phone_sha256",
        "maid",
        "postal_code",
        "city",
        "state",
    ),
}
SOURCES = tuple(SOURCE_FIELDS)
#: Every field an observation can carry, in column order.
OBSERVED_FIELDS = (
    "first_name",
    "last_name",
    "email_sha256",
    "phone_sha256",
    "postal_code",
    "city",
    "state",
    "ip_address",
    "cookie_id",
    "maid",
    "ctv_id",
    "device_type",
)
#: What the noise of identity_observations can do to a record; identity_truth lists it per record.
NOISE_TYPES = (
    "name_typo",
    "phonetic",
    "nickname",
    "initial",
    "missing_field",
    "phone_digits",
    "postal_digits",
    "old_address",
    "shared_email",
    "shared_phone",
    "cookie_reset",
    "maid_reset",
    "recycled_phone",
    "duplicate",
)
#: Common English nicknames: a record may carry one instead of the given name.
NICKNAMES: Mapping[str, str] = {
    "Alexander": "Alex",
    "Andrew": "Andy",
    "Anthony": "Tony",
    "Benjamin": "Ben",
    "Charles": "Charlie",
    "Christopher": "Chris",
    "Daniel": "Dan",
    "David": "Dave",
    "Edward": "Ed",
    "Elizabeth": "Liz",
    "Gregory": "Greg",
    "James": "Jim",
    "Jennifer": "Jen",
    "Jessica": "Jess",
    "Jonathan": "Jon",
    "Joseph": "Joe",
    "Joshua": "Josh",
    "Katherine": "Kate",
    "Kathryn": "Kate",
    "Kenneth": "Ken",
    "Margaret": "Maggie",
    "Matthew": "Matt",
    "Michael": "Mike",
    "Nicholas": "Nick",
    "Patricia": "Pat",
    "Patrick": "Pat",
    "Rebecca": "Becky",
    "Richard": "Rick",
    "Robert": "Bob",
    "Ronald": "Ron",
    "Samantha": "Sam",
    "Samuel": "Sam",
    "Stephanie": "Steph",
    "Steven": "Steve",
    "Susan": "Sue",
    "Thomas": "Tom",
    "Timothy": "Tim",
    "Victoria": "Vicky",
    "William": "Bill",
    "Zachary": "Zach",
}
#: Spelling swaps that keep a name's sound (applied once, the first that matches).
PHONETIC_SWAPS: tuple[tuple[str, str], ...] = (
    ("ph", "f"),
    ("ck", "k"),
    ("ie", "y"),
    ("ey", "y"),
    ("ee", "ea"),
    ("y", "i"),
    ("c", "k"),
    ("z", "s"),
    ("ll", "l"),
    ("nn", "n"),
    ("tt", "t"),
    ("ai", "ay"),
    ("ou", "ow"),
    ("i", "y"),
    ("s", "z"),
)
