"""Small seeded value pools built on the driver; rows pick from them by hash.

Faker is only ever called here, a few thousand times per run — never per row —
and always through an instance seeded with the run's seed, so the pools (and
therefore the tables) are the same in every process.
"""

from __future__ import annotations

from functools import lru_cache

from faker import Faker
from pyspark.sql import DataFrame, SparkSession

#: Real US cities: (city, state, population in thousands ~2020, 3-digit ZIP prefixes
#: served). Households pick a city weighted by population and a ZIP from its
#: prefixes, so the (city, state, zip) triple is consistent and real-looking.
US_CITIES: tuple[tuple[str, str, int, tuple[str, ...]], ...] = (
    ("New York", "NY", 8336, ("100", "101", "102", "103", "104", "112", "113", "114")),
    ("Los Angeles", "CA", 3979, ("900", "910", "913")),
    ("Chicago", "IL", 2694, ("606", "607", "608")),
    ("Houston", "TX", 2320, ("770", "772")),
    ("Phoenix", "AZ", 1680, ("850",)),
    ("Philadelphia", "PA", 1584, ("190", "191")),
    ("San Antonio", "TX", 1547, ("782",)),
    ("San Diego", "CA", 1424, ("919", "921")),
    ("Dallas", "TX", 1343, ("752", "753")),
    ("San Jose", "CA", 1022, ("950", "951")),
    ("Austin", "TX", 978, ("786", "787")),
    ("Jacksonville", "FL", 911, ("320", "322")),
    ("Fort Worth", "TX", 909, ("760", "761")),
    ("Columbus", "OH", 898, ("430", "432")),
    ("Charlotte", "NC", 885, ("280", "282")),
    ("San Francisco", "CA", 881, ("941",)),
    ("Indianapolis", "IN", 876, ("460", "462")),
    ("Seattle", "WA", 753, ("980", "981")),
    ("Denver", "CO", 727, ("800", "802")),
    ("Washington", "DC", 705, ("200", "203", "204", "205")),
    ("Boston", "MA", 692, ("021", "022")),
    ("Nashville", "TN", 670, ("370", "372")),
    ("El Paso", "TX", 681, ("798", "799")),
    ("Detroit", "MI", 670, ("481", "482")),
    ("Oklahoma City", "OK", 655, ("730", "731")),
    ("Portland", "OR", 654, ("970", "972")),
    ("Las Vegas", "NV", 651, ("889", "891")),
    ("Memphis", "TN", 651, ("380", "381")),
    ("Louisville", "KY", 617, ("400", "402")),
    ("Baltimore", "MD", 593, ("210", "212")),
    ("Milwaukee", "WI", 590, ("530", "532")),
    ("Albuquerque", "NM", 560, ("870", "871")),
    ("Tucson", "AZ", 548, ("856", "857")),
    ("Fresno", "CA", 531, ("936", "937")),
    ("Sacramento", "CA", 513, ("956", "958")),
    ("Kansas City", "MO", 495, ("640", "641")),
    ("Atlanta", "GA", 498, ("300", "303")),
    ("Omaha", "NE", 478, ("680", "681")),
    ("Raleigh", "NC", 474, ("275", "276")),
    ("Miami", "FL", 467, ("330", "331")),
    ("Minneapolis", "MN", 429, ("553", "554")),
    ("Tulsa", "OK", 401, ("740", "741")),
    ("Cleveland", "OH", 381, ("440", "441")),
    ("Wichita", "KS", 389, ("670", "672")),
    ("New Orleans", "LA", 390, ("700", "701")),
    ("Tampa", "FL", 399, ("335", "336")),
    ("Pittsburgh", "PA", 300, ("150", "152")),
    ("Cincinnati", "OH", 303, ("450", "452")),
    ("St. Louis", "MO", 301, ("630", "631")),
    ("Salt Lake City", "UT", 200, ("840", "841")),
    ("Richmond", "VA", 226, ("230", "232")),
    ("Boise", "ID", 235, ("836", "837")),
    ("Des Moines", "IA", 214, ("500", "503")),
    ("Birmingham", "AL", 200, ("350", "352")),
    ("Anchorage", "AK", 291, ("995",)),
    ("Honolulu", "HI", 350, ("967", "968")),
    ("Providence", "RI", 190, ("028", "029")),
    ("Hartford", "CT", 121, ("060", "061")),
    ("Newark", "NJ", 311, ("070", "071")),
    ("Columbia", "SC", 137, ("290", "292")),
    ("Jackson", "MS", 154, ("390", "392")),
    ("Little Rock", "AR", 202, ("720", "722")),
    ("Sioux Falls", "SD", 192, ("570", "571")),
    ("Fargo", "ND", 125, ("580", "581")),
    ("Billings", "MT", 117, ("590", "591")),
    ("Cheyenne", "WY", 65, ("820",)),
    ("Burlington", "VT", 45, ("054",)),
    ("Portland", "ME", 68, ("040", "041")),
    ("Manchester", "NH", 115, ("030", "031")),
    ("Wilmington", "DE", 71, ("197", "198")),
    ("Charleston", "WV", 48, ("250", "253")),
)

#: Slots in the weighted city pool; a city gets slots in proportion to population.
CITY_SLOTS = 4096


def city_pool(spark: SparkSession) -> DataFrame:
    """(city_slot, location_city, location_state, zip_prefixes) with ``CITY_SLOTS`` rows, population-weighted."""
    total = sum(pop for _, _, pop, _ in US_CITIES)
    rows: list[tuple[int, str, str, list[str]]] = []
    cumulative = 0
    for city, state, pop, prefixes in US_CITIES:
        cumulative += pop
        while len(rows) < round(CITY_SLOTS * cumulative / total):
            rows.append((len(rows), city, state, list(prefixes)))
    return spark.createDataFrame(
        rows, "city_slot INT, location_city STRING, location_state STRING, zip_prefixes ARRAY<STRING>"
    )


#: Names per pool: enough variety that name collisions look like real life, not a bug.
NAMES_PER_POOL = 800


@lru_cache(maxsize=8)
def name_lists(seed: int) -> dict[str, tuple[str, ...]]:
    """Seeded, de-duplicated Faker name lists: first names per gender pool, and last names."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    makers = {
        "male": fake.first_name_male,
        "female": fake.first_name_female,
        "nonbinary": fake.first_name_nonbinary,
        "last": fake.last_name,
    }
    lists: dict[str, tuple[str, ...]] = {}
    for pool, make in makers.items():
        seen: dict[str, None] = {}
        # Faker's en_US lists are finite; stop after enough tries rather than loop forever.
        for _ in range(NAMES_PER_POOL * 20):
            seen.setdefault(make(), None)
            if len(seen) == NAMES_PER_POOL:
                break
        lists[pool] = tuple(seen)
    return lists


def name_pool(spark: SparkSession, seed: int) -> DataFrame:
    """(name_pool, name_index, name, pool_size) rows for every name list of :func:`name_lists`."""
    rows = [(pool, i, name, len(names)) for pool, names in name_lists(seed).items() for i, name in enumerate(names)]
    return spark.createDataFrame(rows, "name_pool STRING, name_index INT, name STRING, pool_size INT")
