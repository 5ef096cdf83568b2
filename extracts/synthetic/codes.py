"""Public codes the generator writes: SNOMED CT social prescribing concepts, regions, names.

The SNOMED ids and terms are copied from the shared codelist
(reference/snomed_social_prescribing.csv, public); the project loads the codelist itself into
`ref`, the generator only needs the handful of concepts a practice records.
"""

from __future__ import annotations

SCT_OFFERED = "871691000000100"
SCT_REFERRAL = "871731000000106"  # the national referral code
SCT_DECLINED = "871711000000103"
SCT_SIGNPOSTED = "1084281000000109"
SCT_SEEN = "1362931000000106"
SCT_CLOSED = "1362721000000106"
SCT_MENTAL_HEALTH = "515721000000104"

SNOMED_TERMS = {
    SCT_OFFERED: "Social prescribing offered",
    SCT_REFERRAL: "Referral to social prescribing service",
    SCT_DECLINED: "Social prescribing declined",
    SCT_SIGNPOSTED: "Signposting to social prescribing service",
    SCT_SEEN: "Seen by social prescribing link worker",
    SCT_CLOSED: "Social prescribing case closed",
    SCT_MENTAL_HEALTH: "Social prescribing for mental health",
}

# A valid SCTID that is not social prescribing (myocardial infarction): NOT_IN_CODELIST defects.
SCT_NOT_IN_CODELIST = ("22298006", "Myocardial infarction")

# NHS England regions (public ODS codes) and how many of the 42 ICBs each holds.
REGIONS: tuple[tuple[str, str, int], ...] = (
    ("Y56", "London", 5),
    ("Y58", "South West", 7),
    ("Y59", "South East", 6),
    ("Y60", "Midlands", 11),
    ("Y61", "East of England", 6),
    ("Y62", "North West", 3),
    ("Y63", "North East and Yorkshire", 4),
)

# Ofcom numbers reserved for drama: safe, obviously fictional practice telephone numbers.
DRAMA_PHONE_PREFIXES = (
    "0113 496", "0114 496", "0115 496", "0116 496", "0117 496", "0118 496", "0121 496",
    "0131 496", "0141 496", "0151 496", "0161 496", "020 7946", "0191 498", "029 2018",
    "028 9649", "01632 960",
)  # fmt: skip

# Syllables for fictional English place names (no real practice or town is named).
PLACE_HEADS = (
    "Ash", "Brack", "Bram", "Broad", "Brook", "Castle", "Clay", "Cold", "Crow", "Deep",
    "Elm", "Fair", "Fern", "Fox", "Glen", "Gold", "Green", "Hal", "Hart", "Hazel",
    "High", "Holm", "Kings", "Lang", "Lark", "Lea", "Long", "Marl", "Mill", "Moor",
    "Nether", "North", "Oak", "Over", "Pen", "Queens", "Raven", "Red", "Rush", "Salt",
    "Sand", "Shep", "Silver", "Stan", "Stock", "Stone", "Thorn", "Wal", "West", "Whit",
    "Willow", "Wolver", "Wych", "Yar",
)  # fmt: skip
PLACE_TAILS = (
    "borough", "bridge", "brook", "bury", "by", "caster", "combe", "cote", "dale", "den",
    "field", "ford", "gate", "ham", "hampton", "hill", "holme", "hurst", "ington", "leigh",
    "ley", "mere", "minster", "mouth", "ness", "over", "stead", "stow", "thorpe", "ton",
    "wall", "well", "wich", "wick", "wood", "worth",
)  # fmt: skip
STREETS = (
    "High Street", "Church Road", "Station Road", "Mill Lane", "Park Road", "Victoria Road",
    "London Road", "Market Place", "Queen Street", "Green Lane", "School Lane", "North Road",
    "Manor Road", "West Street", "Bridge Street", "Albert Road", "The Avenue", "King Street",
)  # fmt: skip
BUILDINGS = (
    "THE HEALTH CENTRE",
    "THE SURGERY",
    "MEDICAL CENTRE",
    "PRIMARY CARE CENTRE",
    "HEALTH VILLAGE",
    "COMMUNITY HEALTH HUB",
)
SURNAMES = (
    "Ahmed", "Allen", "Begum", "Brown", "Campbell", "Clarke", "Davies", "Evans", "Green",
    "Hall", "Hughes", "Jones", "Khan", "Lewis", "Martin", "Okafor", "Patel", "Roberts",
    "Shah", "Singh", "Taylor", "Thomas", "Walker", "Williams", "Wilson", "Wright",
)  # fmt: skip
PRACTICE_STYLES = (
    "{place} MEDICAL PRACTICE",
    "{place} SURGERY",
    "{place} HEALTH CENTRE",
    "THE {place} PRACTICE",
    "{place} FAMILY PRACTICE",
    "DR {surname} & PARTNERS",
    "{street} SURGERY",
    "{place} GROUP PRACTICE",
)
PCN_STYLES = (
    "{place} PCN",
    "{place} CENTRAL PCN",
    "{place} HEALTH PARTNERSHIP PCN",
    "{place} AND DISTRICT PCN",
    "{place} NORTH PCN",
    "{place} SOUTH PCN",
)
COUNTIES = ("MIDSHIRE", "WESTSHIRE", "NORTHSHIRE", "EASTSHIRE", "SOUTHSHIRE", "VALESHIRE")

# Link-worker provider kinds: code prefix, name pattern.
PROVIDER_KINDS = (
    ("CAB", "Citizens Advice {place}"),
    ("AUK", "Age UK {place}"),
    ("MND", "{place} Mind"),
    ("CVS", "{place} Council for Voluntary Service"),
    ("VAC", "{place} Voluntary Action"),
    ("SPL", "{place} Social Prescribing CIC"),
    ("FED", "{place} GP Federation"),
)

ACTIVITIES: dict[str, tuple[str, ...]] = {
    "arts": ("{place} Arts Collective", "Creative Minds {place}", "{place} Community Choir"),
    "gardening": ("{place} Community Garden", "Grow {place}", "{place} Allotment Society"),
    "volunteering": ("{place} Volunteer Centre", "{place} Food Bank", "{place} Repair Cafe"),
    "befriending": ("{place} Befriending Service", "{place} Good Neighbours", "Silver Line"),
    "sport_exercise": ("{place} Walking Football", "Parkrun {place}", "{place} Leisure Centre"),
    "healthy_eating": ("{place} Cook and Eat", "{place} Community Kitchen"),
    "advice": ("Citizens Advice {place}", "{place} Debt Advice", "{place} Housing Options"),
    "learning": ("{place} Adult Learning", "{place} Library Digital Skills"),
    "peer_support": ("{place} Carers Group", "{place} Bereavement Circle", "Men's Shed {place}"),
    "other": ("{place} Community Hub", "{place} Faith Network"),
}
ACTIVITY_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("arts", 0.12), ("gardening", 0.10), ("volunteering", 0.09), ("befriending", 0.14),
    ("sport_exercise", 0.13), ("healthy_eating", 0.05), ("advice", 0.17), ("learning", 0.06),
    ("peer_support", 0.10), ("other", 0.04),
)  # fmt: skip
