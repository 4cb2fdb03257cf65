"""Content categories and the audience segments named after them.

An individual's segment_primary is the segment of their highest-affinity content
category; campaigns target these segment names.
"""

DEFAULT_CATEGORY_WEIGHTS = {
    "News": 0.22,
    "Sports": 0.20,
    "Entertainment": 0.30,
    "Education": 0.12,
    "Technology": 0.16,
}

DEFAULT_SEGMENT_BY_CATEGORY = {
    "News": "News Junkies",
    "Sports": "Sports Fans",
    "Entertainment": "Entertainment Seekers",
    "Education": "Lifelong Learners",
    "Technology": "Tech Enthusiasts",
}


def segment_for(category: str, mapping: dict[str, str] | None = None) -> str:
    """The segment name of a content category (``'<Category> Enthusiasts'`` when unmapped)."""
    mapping = DEFAULT_SEGMENT_BY_CATEGORY if mapping is None else mapping
    return mapping.get(category, f"{category} Enthusiasts")
