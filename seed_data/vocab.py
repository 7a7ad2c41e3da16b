"""Word lists the demo history is drawn from: people, companies, teams, triggers."""

from dataclasses import dataclass

FIRST_NAMES = (
    "Aisha", "Alejandro", "Amara", "Ana", "Andrei", "Anika", "Arjun", "Astrid",
    "Ben", "Bianca", "Bongani", "Camille", "Carlos", "Chen", "Chiara", "Chloe",
    "Dana", "Daniel", "Deepa", "Diego", "Dmitri", "Elena", "Elif", "Emeka",
    "Emma", "Erik", "Fatima", "Felix", "Fiona", "Gabriel", "Grace", "Hana",
    "Hannah", "Hiroshi", "Ibrahim", "Ines", "Isabel", "Jakub", "James", "Jasmine",
    "Javier", "Joao", "Jonas", "Julia", "Kai", "Kavya", "Keisha", "Kenji",
    "Khalid", "Kofi", "Lars", "Laura", "Leila", "Liam", "Lina", "Lucas",
    "Lucia", "Mai", "Malik", "Marco", "Mariana", "Marta", "Mateo", "Mei",
    "Mohammed", "Naledi", "Nadia", "Nikhil", "Nina", "Noah", "Olga", "Omar",
    "Oskar", "Pablo", "Patrick", "Pooja", "Priya", "Rafael", "Rahul", "Rania",
    "Rebecca", "Ren", "Rosa", "Ruth", "Sakura", "Samuel", "Sara", "Sean",
    "Sebastian", "Shira", "Siddharth", "Sofia", "Sun", "Tariq", "Thabo", "Tomas",
    "Valentina", "Victor", "Wei", "Yara", "Yusuf", "Zainab", "Zoe", "Zoltan",
)  # fmt: skip

LAST_NAMES = (
    "Abara", "Adeyemi", "Alvarez", "Andersson", "Bauer", "Bergstrom", "Bianchi",
    "Brennan", "Castillo", "Chatterjee", "Chen", "Costa", "Dahl", "Delacroix",
    "Dubois", "Eriksen", "Farouk", "Ferreira", "Fischer", "Fitzgerald", "Garcia",
    "Gupta", "Haddad", "Hansen", "Hartmann", "Hoang", "Horvath", "Ibrahim",
    "Iyer", "Jansen", "Jimenez", "Kaplan", "Kim", "Kowalski", "Kruger", "Kumar",
    "Lambert", "Larsen", "Lee", "Lindqvist", "Lopez", "Mahlangu", "Marchetti",
    "Martin", "Mbeki", "Mendes", "Meyer", "Moreau", "Murphy", "Nakamura",
    "Nguyen", "Novak", "Nowak", "Obi", "Okafor", "Olsen", "Ortega", "Osei",
    "Park", "Patel", "Petrov", "Popescu", "Quinn", "Rahman", "Raman", "Reyes",
    "Rossi", "Rousseau", "Sato", "Schmidt", "Schneider", "Shah", "Silva", "Singh",
    "Sokolova", "Suzuki", "Svensson", "Takahashi", "Tanaka", "Torres", "Tran",
    "Van Dijk", "Varga", "Vasquez", "Wagner", "Walsh", "Wang", "Weber",
    "Whitfield", "Wiśniewska", "Yamamoto", "Yilmaz", "Zhang", "Zimmermann",
)  # fmt: skip

COMPANY_HEADS = (
    "Alder", "Amber", "Anchor", "Apex", "Aster", "Atlas", "Aurora", "Beacon",
    "Birch", "Blue Harbor", "Bluefin", "Bramble", "Brightwater", "Cascade",
    "Cedar", "Clearpath", "Cobalt", "Copper", "Coral", "Crescent", "Crown",
    "Driftwood", "Eastgate", "Ember", "Evergreen", "Falcon", "Fernhill",
    "Fjord", "Foxglove", "Granite", "Greenline", "Halcyon", "Harbor Point",
    "Heron", "Highland", "Horizon", "Ironbridge", "Juniper", "Kestrel",
    "Lakeside", "Lantern", "Larkspur", "Linden", "Lumen", "Maple", "Meridian",
    "Millstone", "Northwind", "Oakridge", "Orchard", "Osprey", "Pinecrest",
    "Prairie", "Quarry", "Redwood", "Ridgeway", "Riverbend", "Saffron",
    "Sandstone", "Silverline", "Skyward", "Solstice", "Stonebridge", "Summit",
    "Sunrise", "Tamarack", "Tidewater", "Trailhead", "Vantage", "Westbrook",
    "Willow", "Windmill",
)  # fmt: skip

COMPANY_TRADES = (
    "Analytics", "Bank", "Biotech", "Brewing", "Capital", "Clinics", "Logistics",
    "Credit Union", "Dental Group", "Energy", "Engineering", "Foods", "Freight",
    "Health", "Hotels", "Insurance", "Labs", "Learning", "Manufacturing",
    "Media", "Medical", "Outfitters", "Pharma", "Properties", "Retail",
    "Robotics", "Software", "Solar", "Systems", "Telecom", "Textiles", "Travel",
    "Utilities", "Ventures", "Wholesale", "Works",
)  # fmt: skip

REGIONS = ("North America", "EMEA", "APAC", "LATAM")
REGION_WEIGHTS = (0.45, 0.30, 0.15, 0.10)

# Legal forms differ by region, which is most of what makes a list of invented
# company names read as real ones.
LEGAL_FORMS = {
    "North America": ("Inc.", "LLC", "Corp.", "Co.", "", ""),
    "EMEA": ("Ltd", "GmbH", "B.V.", "SAS", "AB", "plc", "S.p.A.", ""),
    "APAC": ("Pty Ltd", "Pte Ltd", "K.K.", "Limited", ""),
    "LATAM": ("S.A.", "Ltda.", "S.A. de C.V.", ""),
}

SEGMENTS = ("enterprise", "mid-market", "smb", "public-sector")
SEGMENT_WEIGHTS = (0.20, 0.35, 0.35, 0.10)
# Typical annual contract value per segment (median of a log-normal, in USD).
SEGMENT_MEDIAN_VALUE = (420_000.0, 85_000.0, 14_000.0, 160_000.0)
# How much more often an account of each segment escalates than an average one.
SEGMENT_ESCALATION_RATE = (3.0, 1.4, 0.5, 1.2)

TEAMS = (
    "Enterprise East",
    "Enterprise West",
    "Mid-Market",
    "SMB Velocity",
    "Public Sector",
    "International",
)
# Where each team works, for business-hours latency (IANA zone names).
TEAM_TIME_ZONES = (
    "America/New_York",
    "America/Los_Angeles",
    "America/Chicago",
    "America/Denver",
    "America/New_York",
    "Europe/London",
)
# The two teams whose escalation practice is weak: they escalate late more often
# and leave more of the packet unanswered. The demo's drill-down story.
STRUGGLING_TEAMS = ("Mid-Market", "International")

CONTACT_TITLES = (
    "Head of IT", "VP Operations", "IT Director", "CFO", "Procurement Lead",
    "Operations Manager", "CTO", "Project Lead", "COO", "Systems Administrator",
    "Director of Finance", "Head of Customer Operations",
)  # fmt: skip


@dataclass(frozen=True)
class Trigger:
    """A kind of customer risk that can be escalated, and how it tends to behave."""

    code: str
    label: str
    share: float
    # Probabilities of critical, high, medium, low.
    severity: tuple[float, float, float, float]
    late_prone: bool
    subjects: tuple[str, ...]


TRIGGERS = (
    Trigger(
        "outage_impact",
        "outage impact",
        0.10,
        (0.25, 0.40, 0.25, 0.10),
        False,
        (
            "the web app",
            "the EU instance",
            "the login page",
            "the public API",
            "the scheduling service",
            "the customer portal",
        ),
    ),
    Trigger(
        "data_loss_risk",
        "data loss risk",
        0.06,
        (0.30, 0.40, 0.20, 0.10),
        False,
        (
            "last night's import",
            "the archive job",
            "the contact history",
            "the ERP sync",
            "the attachment store",
            "the audit trail",
        ),
    ),
    Trigger(
        "billing_dispute",
        "billing dispute",
        0.12,
        (0.02, 0.18, 0.50, 0.30),
        False,
        (
            "last month's invoice",
            "the overage charge",
            "the seat true-up",
            "the renewal invoice",
            "the usage report behind the invoice",
            "the promised credit note",
        ),
    ),
    Trigger(
        "security_concern",
        "security concern",
        0.07,
        (0.20, 0.40, 0.30, 0.10),
        False,
        (
            "the SSO configuration",
            "the penetration test report",
            "API key rotation",
            "shared admin access",
            "the data residency question",
            "the SOC 2 report",
        ),
    ),
    Trigger(
        "renewal_at_risk",
        "renewal at risk",
        0.11,
        (0.05, 0.30, 0.45, 0.20),
        True,
        (
            "the renewal quote",
            "the price increase",
            "the multi-year proposal",
            "the budget review",
            "the procurement review",
            "the new contract",
        ),
    ),
    Trigger(
        "performance_degradation",
        "performance degradation",
        0.14,
        (0.05, 0.25, 0.45, 0.25),
        False,
        (
            "the reporting dashboard",
            "search",
            "the bulk export",
            "the mobile app",
            "the admin console",
            "the nightly batch",
        ),
    ),
    Trigger(
        "integration_failure",
        "integration failure",
        0.13,
        (0.04, 0.26, 0.45, 0.25),
        True,
        (
            "the Salesforce sync",
            "the NetSuite connector",
            "the Snowflake export",
            "SCIM provisioning",
            "the webhook feed",
            "the Slack integration",
        ),
    ),
    Trigger(
        "sla_breach",
        "SLA breach",
        0.09,
        (0.10, 0.35, 0.40, 0.15),
        False,
        (
            "the P1 response time",
            "the first-response SLA",
            "the restore window",
            "the uptime commitment",
            "the promised callback",
            "weekend support coverage",
        ),
    ),
    Trigger(
        "onboarding_stalled",
        "onboarding stalled",
        0.10,
        (0.01, 0.14, 0.45, 0.40),
        False,
        (
            "the data migration",
            "the SSO rollout",
            "admin training",
            "the pilot group",
            "the go-live plan",
            "user provisioning",
        ),
    ),
    Trigger(
        "feature_gap_blocking_rollout",
        "feature gap blocking rollout",
        0.08,
        (0.01, 0.19, 0.45, 0.35),
        False,
        (
            "an audit export",
            "granular permission control",
            "the German localisation",
            "an on-premise connector",
            "a custom-field report builder",
            "bulk editing",
        ),
    ),
)

# Who owns an escalation at each level, as a role title. Level 1 is the account's
# own customer success manager.
LEVEL_ROLES = (
    "Customer Success Manager",
    "Customer Success Team Lead",
    "Director, Customer Success",
    "VP Customer Experience",
)
MAX_LEVEL = len(LEVEL_ROLES)

# Two variants of each structural thing per level, so that a move can change the
# wording without changing the level and a move back can land on a new variant.
CADENCES = (
    ("weekly account check-in", "fortnightly success review"),
    ("twice-weekly call with the customer", "weekly escalation review"),
    ("daily stand-up with the customer", "daily internal war-room sync"),
    ("daily executive update", "twice-daily executive bridge"),
)
DECISION_RIGHTS = (
    ("CSM may offer up to 5% service credit", "CSM may request engineering triage"),
    (
        "team lead may approve credits up to $25k",
        "team lead may assign a support engineer full-time",
    ),
    (
        "director may reprioritise the engineering backlog",
        "director may approve contract concessions",
    ),
    ("VP may commit roadmap dates", "VP may approve refunds and contract changes"),
)
EVIDENCE_THRESHOLDS = (
    ("customer-reported symptoms", "one reproduced ticket"),
    ("reproduced by support with logs", "impact sized in users and revenue"),
    ("root cause confirmed by engineering", "written incident timeline"),
    ("customer sign-off on the fix", "two clean weeks confirmed by the customer"),
)
COMMUNICATION_PATHS = (
    ("CSM to customer admin by email", "CSM to customer admin in the ticket"),
    (
        "team lead to customer IT lead on a shared Slack channel",
        "team lead to customer IT lead on a weekly call",
    ),
    ("director to customer VP on a bridge call", "director to customer VP by email"),
    (
        "executive sponsor to customer C-level",
        "executive sponsor to customer C-level with a written brief",
    ),
)

GENERIC_TASKS = (
    "add a second admin to our workspace",
    "export last quarter's usage report",
    "change the owner of a shared dashboard",
    "set up SSO for a new subsidiary",
    "bulk import contacts from a spreadsheet",
    "rotate the API keys for our staging environment",
    "schedule a report to go out every Monday",
    "restrict a field so only managers can see it",
    "archive old projects without losing their history",
    "connect a second Salesforce org",
    "change our billing contact",
    "turn on two-factor authentication for everyone",
    "give a contractor read-only access",
    "undo a bulk edit from yesterday",
)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
