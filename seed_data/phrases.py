"""Sentence templates for packets, signals, level changes and fixes.

A template is plain text with ``{slot}`` markers that ``seed_data.text.render``
fills per row. Per-trigger lists are keyed by trigger code; generic lists are
shared by every trigger and mixed in to widen the variety.
"""

RISK_BY_TRIGGER = {
    "outage_impact": (
        "{account} lost access to {subject} for {n} hours, and their operations "
        "team now doubts we can carry their peak season.",
        "Repeated interruptions to {subject} stop {users} of {account}'s users "
        "from working, and their leadership wants a written explanation.",
        "{account} has had {n} unplanned outages of {subject} since "
        "{first_seen}; another one this quarter puts the {arr} contract in play.",
    ),
    "data_loss_risk": (
        "{account} believes {subject} lost records, and until we prove otherwise "
        "they have frozen every change in the platform.",
        "If {subject} really dropped data, {account} faces a reporting breach "
        "of its own, and we are the named cause.",
        "{contact} ({contact_title}) says {subject} is missing about {pct}% of "
        "what they expected, and nobody on our side has confirmed or denied it.",
    ),
    "billing_dispute": (
        "{account} disputes {amount} on {subject} and is holding payment of the "
        "whole invoice until it is settled.",
        "Finance at {account} says {subject} contradicts what sales promised, "
        "and the argument is now souring an otherwise healthy account.",
        "{account} has escalated {subject} to their CFO, who is questioning "
        "whether our pricing can be trusted at renewal.",
    ),
    "security_concern": (
        "{account}'s security team has flagged {subject} and may suspend the "
        "rollout until they get a satisfactory answer.",
        "An open question on {subject} is blocking {account}'s annual vendor "
        "review, which they must close before {due}.",
        "{contact} has told us that without a clear position on {subject} the "
        "platform will be classed as high risk internally.",
    ),
    "renewal_at_risk": (
        "{account} ({arr} a year) renews on {renewal} and has stopped replying "
        "to {subject}.",
        "{contact} hinted that {account} will not sign {subject} without a "
        "discount we have not approved.",
        "Usage at {account} fell {pct}% this quarter, and {subject} arrives "
        "just as their budget is being cut.",
    ),
    "performance_degradation": (
        "{subject_cap} has slowed to the point that {account}'s team works around "
        "it in spreadsheets.",
        "{account} measures {subject} at {n} seconds per request, well past "
        "what their agents will tolerate at month end.",
        "Slowness in {subject} is costing {account} roughly {n} hours a week, and they "
        "have started counting.",
    ),
    "integration_failure": (
        "{subject_cap} at {account} has failed silently for days at a time, so "
        "their downstream reports are wrong without anyone noticing.",
        "{account} cannot close the month while {subject} keeps dropping "
        "records, and support and solutions engineering each think the other "
        "owns it.",
        "Every failure of {subject} means manual re-entry for {users} users at "
        "{account}, and their patience has run out.",
    ),
    "sla_breach": (
        "We missed {subject} for {account} {n} times this month, which gives "
        "them a contractual right to credits and a reason to leave.",
        "{account} has started logging every miss of {subject} and will bring "
        "the list to the renewal on {renewal}.",
        "Breaches of {subject} leave {account} exposed with their own "
        "customers, and they say so in writing.",
    ),
    "onboarding_stalled": (
        "{subject_cap} at {account} has not moved for {n} weeks, and the sponsor "
        "who bought us is losing the internal argument.",
        "{account} paid for {users} seats, but {subject} is stuck and fewer "
        "than a quarter are active.",
        "Without a date for {subject}, {account} will miss its own go-live and "
        "blame the tool.",
    ),
    "feature_gap_blocking_rollout": (
        "{account} will not roll out beyond the pilot until we ship {subject}.",
        "{contact} was told in the sales cycle that {subject} was coming this "
        "quarter; it is not on the roadmap.",
        "Lack of {subject} keeps {account} at {users} seats instead of the "
        "company-wide deal we forecast.",
    ),
}

RISK_TAILS = (
    "",
    "",
    " The account is worth {arr} a year and renews on {renewal}.",
    " Their team has stopped waiting for our updates and is escalating internally.",
    " {contact} ({contact_title}) is now the main voice on their side.",
    " This is the account's first escalation of its kind.",
)

EVIDENCE_BY_TRIGGER = {
    "outage_impact": (
        "Status page shows {n} incidents on {subject} since {first_seen}; "
        "{signals} linked tickets describe the same symptoms.",
        "Monitoring confirms {subject} returned errors for {pct}% of requests "
        "on {escalated}.",
    ),
    "data_loss_risk": (
        "Row counts before and after {subject} differ by about {pct}%; "
        "engineering has not yet said whether anything was deleted.",
        "Customer export from {first_seen} compared with today's shows {n} "
        "hundred records missing.",
    ),
    "billing_dispute": (
        "Signed order form says one thing, {subject} says another: a gap of {amount}.",
        "Three email threads with finance since {first_seen}, none of them "
        "answered with a number.",
    ),
    "security_concern": (
        "Customer questionnaire item on {subject} has been open for {days} "
        "days; our answer so far is a link to a marketing page.",
        "Their scan report lists {n} findings touching {subject}.",
    ),
    "renewal_at_risk": (
        "Active users down {pct}% over ninety days; no reply to {subject} for "
        "{days} days.",
        "Executive sponsor left the account last month and the new one has not met us.",
    ),
    "performance_degradation": (
        "APM traces for {account} show p95 latency on {subject} above {n} "
        "seconds since {first_seen}.",
        "Support reproduced the slowness in {subject} with the customer's "
        "data on {escalated}.",
    ),
    "integration_failure": (
        "Integration logs show {n} failed runs of {subject} in the last week, "
        "each retried by hand.",
        "Two tickets about {subject} were closed as 'cannot reproduce' before "
        "this one was opened.",
    ),
    "sla_breach": (
        "Ticket timestamps show {subject} missed on {n} occasions since {first_seen}.",
        "On-call log has no page for the {escalated} incident until the "
        "customer phoned.",
    ),
    "onboarding_stalled": (
        "Project plan shows {subject} slipping {n} times; {users} of the "
        "licensed users have never logged in.",
        "Kick-off actions from {first_seen} are still open on both sides.",
    ),
    "feature_gap_blocking_rollout": (
        "Sales notes from the deal mention {subject} as a commitment; product "
        "has no ticket for it.",
        "Customer lists {subject} as the only blocker in their rollout plan.",
    ),
}

GENERIC_EVIDENCE = (
    "{signals} tickets, chats and calls since {first_seen} point at "
    "{subject}; the first came {days} days before this escalation.",
    "Call notes from {csm} on {escalated} quote {contact} asking for a date, "
    "not another apology.",
    "{signals} linked signals, the latest on {escalated}, all from the same "
    "team at {account}.",
    "Ticket history and one angry email from {contact} ({contact_title}).",
)

OPTIONS_BY_TRIGGER = {
    "outage_impact": (
        "publish a root-cause report within five working days",
        "move {account} to the dedicated cluster at our cost",
        "offer a {pct}% service credit against the next invoice",
        "put an engineer on a standing daily call until two clean weeks pass",
        "freeze releases that touch {subject} until the fix ships",
    ),
    "data_loss_risk": (
        "restore from the {first_seen} backup and replay changes since",
        "run a full reconciliation of {subject} with their DBA on the call",
        "send a written statement of what was and was not lost",
        "pause the job that touches {subject} until it is verified",
        "bring in the data platform team to own the investigation",
    ),
    "billing_dispute": (
        "issue a credit note for {amount} now and settle the rest later",
        "honour the price in the order form and correct {subject}",
        "walk their finance team through {subject} line by line",
        "hold dunning on the account until the dispute is closed",
        "offer a one-off discount at renewal instead of a credit now",
    ),
    "security_concern": (
        "have our CISO answer {contact} directly",
        "share the full penetration test under NDA",
        "commit a date for fixing {subject} in writing",
        "arrange a security architecture review with their team",
        "grant an exception while the fix is built",
    ),
    "renewal_at_risk": (
        "offer a two-year renewal at this year's price",
        "bring our VP to meet the new sponsor before {renewal}",
        "run a usage recovery plan with the power users",
        "hold the price increase for one year",
        "propose fewer seats at a lower total to keep the logo",
    ),
    "performance_degradation": (
        "move {account} to a larger database tier",
        "ship the query fix ahead of the release train",
        "give them a temporary read replica for reporting",
        "tune {subject} with their admin on a screen share",
        "agree a latency target and report against it weekly",
    ),
    "integration_failure": (
        "assign one named engineer to own {subject} end to end",
        "add alerting so failed runs of {subject} page us, not them",
        "rebuild the mapping for {subject} with their admin",
        "backfill the dropped records and confirm the counts",
        "move them to the new connector ahead of general availability",
    ),
    "sla_breach": (
        "pay the contractual credits without waiting for a claim",
        "add {account} to the priority routing queue",
        "staff weekend coverage for their region",
        "review every missed case with their support lead",
        "rewrite the on-call runbook for their tier",
    ),
    "onboarding_stalled": (
        "assign a dedicated onboarding engineer for {n} weeks",
        "cut the scope of {subject} to a first usable slice",
        "run admin training onsite",
        "agree a new go-live date with their sponsor",
        "run {subject} ourselves at no charge",
    ),
    "feature_gap_blocking_rollout": (
        "commit {subject} to the next quarter's roadmap",
        "build a workaround for {subject} with professional services",
        "offer a pilot of the beta to their team",
        "be honest that {subject} is not planned and adjust the deal",
        "connect their product owner with ours for a design session",
    ),
}

OPTION_FRAMES = (
    "Option 1: {opt_a}. Option 2: {opt_b}.",
    "We can {opt_a}, or we can {opt_b}.",
    "Two ways forward: {opt_a}; or {opt_b}. Doing nothing is not an option "
    "the customer will accept.",
    "Preferred: {opt_a}. Fallback: {opt_b}.",
    "Either {opt_a} (fast, costs us) or {opt_b} (slower, cheaper).",
)

DECISION_FRAMES = (
    "Ask {approver} to decide by {due} whether we {opt_a}.",
    "Approve {amount} in credits for {account} by {due}.",
    "Decide who owns {subject} end to end before {due}; right now nobody does.",
    "Sign-off from {approver} to {opt_a}; without it we cannot give {contact} a date.",
    "Choose between the two options by {due} so we can call {contact} with an answer.",
    "Confirm budget for the fix and tell {account} on {due}.",
)

NEXT_OWNER_FRAMES = (
    "{next_name} ({next_role})",
    "{next_name}",
    "{next_name}, {next_role}",
)

CONSEQUENCE_BY_TRIGGER = {
    "outage_impact": (
        "{account} invokes the exit clause after the next outage.",
        "Their operations lead moves the critical workflows to a competitor "
        "before peak season.",
    ),
    "data_loss_risk": (
        "{account} treats this as a data incident and notifies their "
        "regulator, naming us.",
        "Trust in the platform's data does not come back and usage drops to zero.",
    ),
    "billing_dispute": (
        "{amount} stays unpaid past quarter end and the dispute spills into "
        "the renewal.",
        "Finance at {account} insists on a competitive bid at renewal.",
    ),
    "security_concern": (
        "{account} classes us as high risk and suspends the rollout.",
        "The vendor review fails and procurement blocks the renewal on {renewal}.",
    ),
    "renewal_at_risk": (
        "We lose {arr} of annual revenue on {renewal}.",
        "{account} renews at half the seats and a steep discount.",
    ),
    "performance_degradation": (
        "{account}'s team abandons the tool for spreadsheets and the renewal follows.",
        "Month-end close slips again and their CFO asks for alternatives.",
    ),
    "integration_failure": (
        "{subject_cap} keeps failing quietly and their board reports go out wrong.",
        "{account} builds its own integration and stops relying on ours.",
    ),
    "sla_breach": (
        "{account} claims credits every month and uses the log to negotiate "
        "the renewal down.",
        "The next breach goes to their CEO and then to ours.",
    ),
    "onboarding_stalled": (
        "{account} never goes live and does not renew the {arr} contract.",
        "The sponsor who chose us leaves and the project is cancelled.",
    ),
    "feature_gap_blocking_rollout": (
        "{account} stays at pilot size and we miss the expansion we forecast.",
        "They buy a competitor for the rest of the company.",
    ),
}

GENERIC_CONSEQUENCES = (
    "The same problem comes back within weeks, and next time it arrives "
    "through their executives rather than through us.",
    "{contact} stops engaging and we hear about the decision after it is made.",
    "Another month like this and the renewal on {renewal} is lost.",
)

EXIT_BY_TRIGGER = {
    "outage_impact": (
        "Thirty days without an incident on {subject}, and {contact} confirms "
        "in writing.",
        "Root-cause report accepted by their operations lead.",
    ),
    "data_loss_risk": (
        "Reconciliation of {subject} signed off by their DBA.",
        "Written confirmation of what was restored, accepted by {contact}.",
    ),
    "billing_dispute": (
        "Corrected invoice paid in full.",
        "Credit note for {amount} issued and acknowledged by their finance team.",
    ),
    "security_concern": (
        "Their security team closes the finding on {subject}.",
        "Vendor review passed and filed.",
    ),
    "renewal_at_risk": (
        "Renewal signed for at least the current seat count.",
        "New sponsor attends a business review and agrees a success plan.",
    ),
    "performance_degradation": (
        "p95 latency on {subject} under two seconds for two weeks of month-end load.",
        "{contact} confirms the team has stopped using workarounds.",
    ),
    "integration_failure": (
        "{n} consecutive weeks of clean runs of {subject} with no manual retries.",
        "Record counts match on both sides for a full month.",
    ),
    "sla_breach": (
        "Every P1 for a month answered inside {subject}.",
        "Credits paid and their support lead agrees the routing change works.",
    ),
    "onboarding_stalled": (
        "{subject_cap} complete and {pct}% of licensed users active.",
        "Go-live date met and sponsor signs off.",
    ),
    "feature_gap_blocking_rollout": (
        "{subject_cap} delivered to their tenant and rollout resumed.",
        "Customer agrees in writing to roll out with the workaround.",
    ),
}

GENERIC_EXITS = (
    "No new signals about {subject} for {n} weeks.",
    "{contact} says, unprompted, that the issue is behind them.",
)

# Customer-voice clauses that describe what is going wrong; they are placed inside
# a tone sentence, so they start in lower case and carry no final stop.
ISSUES_BY_TRIGGER = {
    "outage_impact": (
        "{subject} went down again this morning",
        "{subject} has been unreachable for about {n} hours",
        "our users can't get into {subject}",
        "{subject} keeps timing out for the whole office",
    ),
    "data_loss_risk": (
        "records went missing after {subject}",
        "{subject} seems to have overwritten {n} hundred contacts",
        "we can't find anything from {subject} any more",
    ),
    "billing_dispute": (
        "{subject} doesn't match what we agreed",
        "we were charged twice on {subject}",
        "{subject} is about {pct}% higher than our quote",
    ),
    "security_concern": (
        "our security team flagged {subject}",
        "we still have no answer on {subject}",
        "{subject} doesn't meet our internal policy",
    ),
    "renewal_at_risk": (
        "finance is questioning {subject}",
        "nobody has followed up on {subject}",
        "{subject} is well above what we budgeted",
    ),
    "performance_degradation": (
        "{subject} takes over {n} seconds to load",
        "{subject} has been painfully slow since the last update",
        "{subject} stalls whenever more than {n} people use it",
    ),
    "integration_failure": (
        "{subject} stopped syncing on {weekday}",
        "{subject} fails with an authentication error",
        "{subject} dropped {n} records overnight",
    ),
    "sla_breach": (
        "we waited {n} hours for a reply to a P1",
        "the callback we were promised never came",
        "nobody answered over the weekend",
    ),
    "onboarding_stalled": (
        "{subject} has been stuck for {n} weeks",
        "we still don't know who runs {subject} on your side",
        "{subject} keeps slipping",
    ),
    "feature_gap_blocking_rollout": (
        "we can't roll out further without {subject}",
        "{subject} was promised for this quarter and still isn't there",
        "our compliance team needs {subject} before we go further",
    ),
}

# Index order follows seed_data.vocab tones: help seeking, frustrated, exit seeking.
TONE_SENTENCES = (
    (
        "Hi, {issue}. How do I fix this on our side?",
        "Quick question: {issue}. Is there a setting we should change?",
        "Hello team, it looks like {issue}. What do you need from us to investigate?",
        "Could someone take a look? It seems {issue}.",
        "How do I check why {issue}? Happy to share screenshots.",
    ),
    (
        "This is the third time this week: {issue}.",
        "We reported this {days} days ago and {issue}, again.",
        "I'm escalating this because {issue} and nobody has given us an update.",
        "Still waiting on a real fix. Meanwhile {issue}.",
        "Same problem as last month: {issue}. We need someone senior on this.",
        "Honestly we are running out of patience; {issue} and our team has "
        "stopped trusting the numbers.",
    ),
    (
        "Our contract ends on {renewal}. Given that {issue}, we are evaluating "
        "alternatives.",
        "Leadership has asked us to look at other vendors because {issue}.",
        "We appreciate the effort from your team, but since {issue} we will be "
        "reviewing our options before the renewal.",
        "Thank you for your patience with us. We've decided to run a "
        "competitive evaluation this quarter; {issue} was the deciding factor.",
        "Please send us the data export process and the notice period in our "
        "contract; {issue}, and we need a plan B.",
        "We've enjoyed working with you, but we won't be renewing on {renewal} "
        "unless something changes: {issue}.",
    ),
)

GENERIC_HELP = (
    "How do I {task}?",
    "Hi! Is there a way to {task}?",
    "Can you point me to the docs on how to {task}?",
    "We'd like to {task}. What's the best way?",
    "Sorry if this is obvious, but how can we {task}?",
)

# Index order follows db.models.SignalSource: ticket, chat, call, review, renewal.
SOURCE_PREFIXES = (
    ("", "", "[#{ticket}] "),
    ("", "Chat: "),
    ("Call notes ({csm}), customer said: ", "Transcript, {contact}: "),
    ("QBR notes: ", "Account review with {contact}: "),
    ("Renewal call with {contact}: ", "Renewal check-in: "),
)

# Grouped by what the move did: went up, came down, or changed nothing.
LEVEL_NOTES = (
    (
        "Moved to level {to_level}; {owner_now} now leads with the customer.",
        "Raised to level {to_level} after repeated signals about {subject}.",
        "Level {from_level} to {to_level}: {owner_now} to brief {contact} on the "
        "new plan.",
    ),
    (
        "De-escalated to level {to_level} once the workaround held.",
        "Back to level {to_level}; {owner_now} keeps the account close.",
    ),
    (
        "Raised to level {to_level} at the account team's request.",
        "Level {from_level} to {to_level} for visibility.",
        "Bumped to level {to_level} in the weekly review.",
    ),
)

FIX_TITLES_BY_CAUSE = {
    "unclear_trigger": (
        "Write down when {trigger_label} cases must be escalated",
        "Add a clear {trigger_label} trigger to the support playbook",
    ),
    "missing_decision_rights": (
        "Let team leads approve credits on {trigger_label} cases without a VP",
        "Give level-2 owners the right to pull engineers onto {trigger_label} cases",
    ),
    "evidence_gap": (
        "Require impact numbers in every {trigger_label} packet",
        "Attach logs and a timeline to {trigger_label} escalations",
    ),
    "ownership_handoff": (
        "One named owner for {trigger_label} cases from first ticket to close",
        "Stop handing {trigger_label} cases between support and solutions",
    ),
    "review_cadence": (
        "Review open {trigger_label} cases in the weekly account meeting",
        "Daily check on {trigger_label} tickets older than two days",
    ),
    "tooling": (
        "Alert the CSM automatically when {trigger_label} tickets repeat",
        "Dashboard of accounts with repeated {trigger_label} signals",
    ),
    "policy": (
        "Update the {trigger_label} policy so credits need no finance review",
        "Make the {trigger_label} runbook mandatory for tier-1 accounts",
    ),
    "other": (
        "Pilot an office hour on {trigger_label} with top accounts",
        "Quarterly training on spotting {trigger_label} cases early",
    ),
}

FIX_EFFECTS = (
    "Fewer {trigger_label} escalations: we expect weekly volume to fall by about "
    "{pct}% within two months of shipping.",
    "Catch {trigger_label} cases earlier, so fewer of them need escalating at all.",
    "Stop repeat {trigger_label} escalations on the same accounts within ninety days.",
    "Cut {trigger_label} escalations by {pct}% and halve the late ones.",
)
