"""Column names beyond the core schema: dimensions, the packet and level changes."""

# Escalation dimensions that pages group and filter by.
TEAM = "team"
OWNER = "owner"
RAISED_VIA = "raised_via"

# The five packet answers on an escalation.
EVIDENCE = "evidence"
DECISION_NEEDED = "decision_needed"
NEXT_OWNER = "next_owner"
CONSEQUENCE_IF_UNCHANGED = "consequence_if_unchanged"
EXIT_EVIDENCE = "exit_evidence"

# The level_change frame; each structural thing adds "<thing>_before" and
# "<thing>_after".
ESCALATION_ID = "escalation_id"
AT = "at"
FROM_LEVEL = "from_level"
TO_LEVEL = "to_level"
BEFORE_SUFFIX = "_before"
AFTER_SUFFIX = "_after"
CHANGED_SUFFIX = "_changed"

# Columns added by the metrics in this package's newer modules.
PACKET_ANSWERS = "packet_answers"
PACKET_COMPLETE = "packet_complete"
CHANGES_ANYTHING = "changes_anything"
IS_NOISE = "is_noise"
RESOLUTION_HOURS = "resolution_hours"
AGE_HOURS = "age_hours"
