"""A transparent phrase model that reads the tone of a customer signal.

Each signal text is labelled ``help_seeking``, ``frustrated`` or ``exit_seeking``
from weighted English phrases, with a confidence and the phrases that decided it.
It is a lexicon, not a learned model: it knows only the phrases listed here.
"""

import json
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import polars as pl

HELP_SEEKING = "help_seeking"
FRUSTRATED = "frustrated"
EXIT_SEEKING = "exit_seeking"
TONES = (HELP_SEEKING, FRUSTRATED, EXIT_SEEKING)
"""The labels, in the order they lose a tie: a tie goes to the later one."""

HARD_CASES = ("sarcasm", "negation", "polite_exit", "mixed")
LABELLED_SET = "labelled_signals.jsonl"
"""The tuning set: written together with the lexicon, so its figures are in-sample."""
HELD_OUT_SET = "held_out_signals.jsonl"
"""Written after the lexicon and never used to tune it: the out-of-sample figure."""
OVERALL = "overall"

PRIOR = 0.5
"""Pseudo-weight added to every tone, so a single weak phrase is not certain."""

INTENSIFIER_STEP = 0.25
INTENSIFIER_CAP = 2
NEGATED_EXIT_WEIGHT = 0.5


@dataclass(frozen=True)
class Cue:
    """A phrase pattern (a regex over lower-cased text) and what it adds to a tone."""

    tone: str
    weight: float
    pattern: str
    negatable: bool = False


def _cues(
    tone: str, weight: float, *patterns: str, negatable: bool = False
) -> list[Cue]:
    return [Cue(tone, weight, pattern, negatable) for pattern in patterns]


# A negation binds to an exit phrase only across a few linking words, so that
# "not looking to leave" is negated but "if this is not fixed we will leave" is not.
NEGATION = r"\b(?:not|no|never|nor|without)\b|n't\b|\bnothing\b"
NEGATION_LINK = (
    r"(?:\s+(?:looking|planning|plans?|going|gonna|intending|intention|intend|"
    r"thinking|considering|considered|want|wanting|wish|trying|seeking|actively|"
    r"currently|ever|at|all|any|time|soon|yet|about|to|of|on|in|be|been|"
    r"interested|desire|reason|need|needing|rush|hurry|immediate|talk|talking|"
    r"threaten|threatening|switching|switch|moving|move|migrating|changing|a|an|the|"
    r"way|we|we're|i|i'm|are|is|am|will|would|have|had|do)){0,4}\s+"
)

CUES: tuple[Cue, ...] = (
    # Asking for something: questions, requests, how-to.
    *_cues(
        HELP_SEEKING,
        1.5,
        r"\bhow (?:do|can|should|would) (?:i|we|you|one)\b",
        r"\bis there (?:a|any) way\b",
        r"\b(?:can|could|would) (?:you|someone|somebody|anyone) (?:please )?"
        r"(?:help|show|explain|check|confirm|walk|point|send|share|advise|look)",
        r"\bwalk (?:me|us) through\b",
        r"\bneed (?:some |a little |your )?(?:help|guidance|advice|assistance)\b",
        r"\bwhere (?:can|do|should) (?:i|we) (?:find|see|get|set|change)\b",
        r"\bnot sure how\b",
        r"\bwhat(?:'s| is) the best way\b",
        r"\bany (?:tips|guidance|advice|pointers|docs|documentation)\b",
        r"\bhow to\b|\bhw (?:to|do)\b",
        r"\b(?:please|pls|plz) advise\b",
    ),
    *_cues(
        HELP_SEEKING,
        1.0,
        r"\bhelp\b",
        r"\bquestions?\b",
        r"\bguidance\b|\bexamples?\b",
        r"\bcan (?:i|we)\b|\bis there\b|\bwhat (?:does|do) \w+",
        r"\basked (?:us )?(?:how|whether|if|about|to (?:clarify|explain|show))\b",
        r"\bwondering\b",
        r"\btrying to (?:set up|configure|connect|add|get|find|understand|figure)",
        r"\bset(?:ting)? up\b",
        r"\bconfigur\w*",
        r"\bonboard(?:ing)?\b",
        r"\bdocumentation\b",
        r"\btraining\b",
        r"\bbest practice",
        r"\bclarif\w+",
        r"\bexplain\b",
        r"\bwould (?:like|love) to (?:know|learn|understand|add|enable|expand)",
        r"\bis it possible\b",
        r"\bdoes (?:it|the|this|your)\b.*\bsupport\b",
        r"\bexpand\w*\b|\badd(?:ing)? (?:more )?(?:seats|users|licen[cs]es)",
    ),
    *_cues(
        HELP_SEEKING,
        0.5,
        r"\?",
        r"\b(?:please|pls|plz)\b",
        r"\bthanks?\b|\bthank you\b",
    ),
    # Frustration: anger, repetition, waiting, things broken again.
    *_cues(
        FRUSTRATED,
        2.0,
        r"\bunacceptable\b",
        r"\bridiculous\b",
        r"\bfrustrat\w*",
        r"\bfed up\b",
        r"\bsick (?:and tired )?of\b",
        r"\bfurious\b|\bangry\b|\blivid\b|\bannoyed\b|\bannoying\b",
        r"\b(?:third|fourth|fifth|\d+(?:st|nd|rd|th)) time\b",
        r"\bhow many (?:more )?times\b",
        r"\bstill (?:not|no|waiting|broken|down|failing|haven't|hasn't|have not|"
        r"has not|nothing|unresolved|seeing|getting|happening)",
        r"\b(?:no ?one|nobody)\b|\b(?:no|zero) (?:response|reply|replies|answers?|"
        r"updates?|callback|call back)\b",
        r"\bnot (?:acceptable|fixed|resolved|working)\b|\bisn't (?:fixed|resolved)",
        r"\bwhat is going on\b|\bwhat's going on\b",
        r"\b(?:broken|down|failing|waiting|stuck|open|unresolved) for (?:over |more "
        r"than |almost )?(?:\w+ )?(?:days|weeks|months)\b",
        r"\blosing (?:orders|money|customers|data|revenue|sales|business)\b",
        r"\b(?:waiting|waited|wait) (?:for )?(?:over |more than |almost )?"
        r"(?:\w+ )?(?:days|weeks|hours|minutes|a week|a month)\b",
        r"\bwaste(?:d)? (?:of )?(?:my |our )?(?:time|money|hours|days|a day)",
        r"\buseless\b|\bterrible\b|\bawful\b|\bhorrible\b|\bworst\b|\bpathetic\b",
        r"\bdisappoint\w*",
        r"\b(?:is|this is|what) a joke\b",
        r"\bspeak to (?:a|your|the) (?:manager|supervisor)\b",
        r"\bcan't believe\b|\bcannot believe\b",
        r"\bunusable\b",
        r"\bkeeps? (?:on )?(?:asking|crashing|failing|breaking|dropping|timing out|"
        r"happening|losing|logging)",
        r"\b(?:broken|down|failing|failed|crashed|happening|wrong) again\b",
        r"\bnot good enough\b",
        r"\bpatience\b|\bexasperat\w*|\bexhausted\b|\ba mess\b|\bcome on\b",
        r"\b(?:three|four|five|six|several|multiple|many|\d+) times\b|\brepeated\w*",
        r"\bnot helpful\b|\bunhelpful\b|\bnobody (?:seems to )?cares?\b",
        r"\bnothing (?:has )?(?:changed|happened|improved)\b|\bon hold\b",
        r"\bcost (?:us|me)\b|\bsomeone senior\b",
    ),
    *_cues(
        FRUSTRATED,
        1.0,
        r"\bagain\b",
        r"\bstill\b",
        r"\boutages?\b",
        r"\bescalat(?:e|ed|ing) (?:this|it|again)\b",
        r"\bsame (?:error|issue|bug|problem|question|logs|thing)\b",
        r"\bseriously\b",
        r"\bevery (?:single )?(?:time|day|week)\b",
        r"\bweeks?\b.*\bno\b|\bno fix\b",
        r"\burgent\w*\b|\basap\b",
        r"\bupset\b|\bunhappy\b|\bnot happy\b",
        r"\bbroken\b|\bcrash\w*",
        r"\blost (?:all )?(?:our |my )?(?:data|work|orders|records)",
        r"\bimpacting\b|\bblocking\b|\bblocked\b",
        r"\bslow\b|\bsluggish\b|\bforever\b",
        r"\b(?:goes|went|is|was|are) down\b|\bcan(?:'t|not) (?:log ?in|access|use)",
        r"\bfailures?\b|\bcharged twice\b|\bdouble charged\b|\bduplicate charges\b",
        r"\b(?:were|was|been) (?:told|promised)\b|\bpromised\b",
        r"\bwhy (?:is|does|do|are|on earth|the hell)\b",
        r"\bexpect(?:ed)? better\b",
    ),
    *_cues(FRUSTRATED, 0.5, r"!", r"\balready\b"),
    # Sarcasm: praise wrapped around a failure reads as frustration.
    *_cues(
        FRUSTRATED,
        2.5,
        r"\b(?:oh )?(?:great|fantastic|wonderful|brilliant|perfect|awesome|lovely|"
        r"superb|amazing|terrific|excellent|nice)\W+(?:just )?(?:another|more|"
        r"again|yet another|one more|the same|same|exactly what)\b",
        r"\b(?:love|loving|enjoy|enjoying|adore) (?:waiting|being (?:ignored|told|"
        r"left|on hold|bounced)|having to|paying|getting (?:the same|no)|it when|"
        r"how|the part where|explaining|chasing|refreshing)",
        r"\bthanks for nothing\b|\bthanks a lot\b",
        r"\b(?:amazing|funny|love|great|incredible|impressive) how\b",
        r"\b(?:so|very|really|super) helpful\b(?:\W+(?:as always|not|thanks|really))",
        r"\bas always\b|\bas usual\b|\bclassic\b",
        r"\bjust what (?:i|we) needed\b",
        r"\bwhat a (?:surprise|shock|treat)\b|\bshocking\b",
        r"\bgood job\W+(?:team|guys|everyone)?\W*(?:really|another|again)",
        r"\bkeep up the (?:good|great) work\b",
        r"\bwho needs\b",
        r"\bnever gets? old\b",
    ),
    # Leaving: not renewing or continuing, where the negation is the signal.
    *_cues(
        EXIT_SEEKING,
        3.0,
        r"\b(?:not|won't|will not|don't|do not|aren't|are not|isn't|unlikely to|"
        r"can't justify|cannot justify|not going to|won't be|will not be|no longer)"
        r" (?:be )?renew\w*",
        r"\b(?:not sure|unsure|undecided|doubt(?:ful)?|question whether) "
        r"(?:if |whether )?(?:we(?:'ll| will| are going to)? )?renew",
        r"(?:\bnot|n't|\bno longer) (?:be )?continu\w*",
    ),
    # Leaving: cancelling, switching, exporting to go elsewhere.
    *_cues(
        EXIT_SEEKING,
        3.0,
        r"\bcancel\w* (?:(?:our|my|the|this) )?(?:whole )?(?:subscription|contract|"
        r"account|plan|service|licen[cs]es?|seats|agreement)",
        r"\btermina\w+",
        r"\bchurn\w*",
        r"\bswitch\w* (?:over )?(?:to|vendors?|providers?|platforms?)\b",
        r"\bmov\w+ (?:over )?(?:to|off) (?:a |another |an? other |the )?"
        r"(?:competitor|vendor|provider|platform|solution|tool|system)",
        r"\b(?:competitor|competition|(?:another|other|different|new) "
        r"(?:vendor|supplier|provider)s?|alternative "
        r"(?:vendors?|providers?|solutions?|platforms?|tools?))\b",
        r"\balternatives\b",
        r"\b(?:review|reviewing|evaluat\w+|assess\w*|explor\w+|weigh\w*|consider\w*)"
        r" (?:all )?(?:our|other|the) (?:options|alternatives|market)",
        r"\b(?:evaluat\w+|look\w* at|trial\w*|pilot\w*|demo\w*) (?:other|"
        r"alternative|competing|different) (?:vendors?|providers?|tools?|"
        r"solutions?|platforms?|products?)",
        r"\bexport (?:of )?(?:all )?(?:of )?(?:our|the|my) (?:full )?(?:data|"
        r"records|history)|\b(?:full )?data export\b",
        r"\boffboard\w*",
        r"\b(?:end|ending|exit|exiting|close|closing|wind down|winding down) "
        r"(?:of )?(?:our|the|this|my) (?:contract|account|relationship|agreement|"
        r"partnership|subscription)",
        r"\bnotice period\b|\bexit clause\b|\bnotice to (?:cancel|terminate)",
        r"\blooking elsewhere\b|\bgo(?:ing)? elsewhere\b|\btake our business\b",
        r"\brfp\b|\brequest for proposals?\b",
        r"\bpull(?:ing)? the plug\b|\bwalk(?:ing)? away\b|\bdone with (?:you|this)",
        r"\bdecommission\w*|\bsunset\w*",
        r"\bmigrat\w+ (?:off|away)\b",
        r"\b(?:transition\w*|mov\w+|switch\w*|migrat\w+|bring\w*) (?:[a-z'-]+ ){0,3}to "
        r"(?:an? |the )?(?:in-house|internal|homegrown|different|another|new|other) "
        r"(?:platform|vendor|provider|tool|system|solution|product)",
        r"\bcompeting (?:products?|vendors?|tools?|solutions?|platforms?|offers?)",
        negatable=True,
    ),
    *_cues(
        EXIT_SEEKING,
        2.0,
        r"\bcancel\w*",
        r"\b(?:will|to|we'll|'ll|we're|are|must|might|may|could) leave\b|\bleaving\b",
        r"\bquit\w*\b",
        r"\brefund\b",
        r"\bdowngrad\w*",
        r"\bbudget (?:cuts?|freeze|review)\b|\bcut(?:ting)? (?:costs|vendors|spend)",
        r"\bcontract (?:ends|expires|is up)\b",
        r"\bprocurement\b|\blegal team\b",
        r"\bother options\b",
        r"\bexit (?:process|costs?|plan|terms|fees?)\b|\bwind(?:ing)? down\b",
        r"\bvendor (?:review|selection|comparison)\b|\b(?:another|a different) "
        r"direction\b",
        r"\bremove (?:all )?(?:our|my|their) data\b|\bdelete (?:all )?(?:our|my) "
        r"(?:data|account)",
        r"\blast (?:month|quarter|year|renewal|invoice) with\b",
        r"\bstop using\b|\bphas\w+ "
        r"(?:\w+ )?out\b|\boutgrown\b|\bmoving on\b|\bgive (?:formal )?notice\b",
        r"\b(?:let|allow) (?:the |our |their )?(?:contract|licen[cs]es|subscription|"
        r"plan|seats)s? (?:lapse|expire|run out)",
        r"\b(?:stop|turn off|disable|cancel|switch off) (?:the |our )?auto-?renew",
        r"\bshut\w* (?:our|the|this|my) (?:account|workspace|instance|subscription)",
        r"\breplace\w* (?:tool|vendor|product|system|platform|solution|supplier)",
        r"\b(?:scal\w+|cut\w*) back\b|\bline item\b",
        negatable=True,
    ),
    *_cues(
        EXIT_SEEKING,
        1.0,
        r"\b(?:after|end of) (?:the|our|this) (?:current )?term\b",
        r"\bconsolidat\w+|\bstandardi[sz]\w+",
        r"\breassess\w*|\breconsider\w*",
        r"\bjustify\w*|\bworth it\b|\bvalue for money\b",
        negatable=True,
    ),
)
"""The lexicon. Weights: 3 decisive, 2 strong, 1 supporting, 0.5 weak."""

INTENSIFIERS = (
    r"\b(?:very|really|extremely|absolutely|completely|totally|utterly|"
    r"incredibly|beyond|so|truly|seriously)\b|!{2,}|\?{2,}"
)


@dataclass(frozen=True)
class ToneResult:
    """The tone of one signal, the confidence in it, and the phrases behind it."""

    tone: str
    score: float
    phrases: list[str]


NEGATED_MARK = "no_"
"""Glued onto the word after a negation, so that no word-bounded phrase matches it."""


@dataclass(frozen=True)
class _CueGroup:
    """All cues of one tone and weight, matched in one pass as an alternation."""

    name: str
    tone: str
    weight: float
    pattern: str
    negatable: bool


def _cue_groups() -> list[_CueGroup]:
    grouped: dict[tuple[str, float, bool], list[str]] = {}
    for cue in CUES:
        grouped.setdefault((cue.tone, cue.weight, cue.negatable), []).append(
            cue.pattern
        )
    return [
        _CueGroup(
            name=f"cues_{index}",
            tone=tone,
            weight=weight,
            pattern="|".join(f"(?:{pattern})" for pattern in patterns),
            negatable=negatable,
        )
        for index, ((tone, weight, negatable), patterns) in enumerate(grouped.items())
    ]


CUE_GROUPS = _cue_groups()
NEGATED_EXIT = (
    f"(?:{NEGATION}){NEGATION_LINK}(?:"
    + "|".join(group.pattern for group in CUE_GROUPS if group.negatable)
    + ")"
)


def score_tone(texts: pl.Series) -> pl.DataFrame:
    """Label each text with a tone, a 0–1 confidence, and the phrases that drove it.

    A tone's weight is the sum over its distinct matched phrases, and frustration
    is raised by intensifiers ("really", "!!"). An exit phrase right after a
    negation ("no plans to cancel") does not count as exit and adds a little to
    help seeking. The highest weight wins; a tie goes to exit seeking, then
    frustrated, since missing those costs more. A text with no phrase at all is
    help seeking. The score is ``(winner + 0.5) / (total + 1.5)``: 1/3 when
    nothing matched.

    Examples
    --------
    >>> scored = score_tone(pl.Series(["Great, another outage. Third time."]))
    >>> scored.row(0)
    ('frustrated', 0.857, ['third time', 'outage', 'great, another'])
    """
    text = "__text"
    marked = "__marked"
    negated = "__negated"
    matches = [
        pl.col(marked if group.negatable else text)
        .str.extract_all(group.pattern)
        .list.unique(maintain_order=True)
        .alias(group.name)
        for group in CUE_GROUPS
    ]
    named: dict[str, list[tuple[str, float]]] = {tone: [] for tone in TONES}
    for group in CUE_GROUPS:
        named[group.tone].append((group.name, group.weight))
    named[HELP_SEEKING].append((negated, NEGATED_EXIT_WEIGHT))

    intensity = 1.0 + INTENSIFIER_STEP * pl.col(text).str.count_matches(
        INTENSIFIERS
    ).clip(0, INTENSIFIER_CAP)
    weights = {
        tone: pl.sum_horizontal(
            pl.col(name).list.len().cast(pl.Float64) * weight for name, weight in pairs
        )
        for tone, pairs in named.items()
    }
    weights[FRUSTRATED] = weights[FRUSTRATED] * intensity
    phrases = {
        tone: pl.concat_list(pl.col(name) for name, _ in pairs).list.unique(
            maintain_order=True
        )
        for tone, pairs in named.items()
    }
    best = pl.max_horizontal(*(pl.col(tone) for tone in TONES))
    tone = (
        pl.when(best == 0)
        .then(pl.lit(HELP_SEEKING))
        .when(pl.col(EXIT_SEEKING) == best)
        .then(pl.lit(EXIT_SEEKING))
        .when(pl.col(FRUSTRATED) == best)
        .then(pl.lit(FRUSTRATED))
        .otherwise(pl.lit(HELP_SEEKING))
    )
    total = pl.sum_horizontal(*(pl.col(name) for name in TONES))

    return (
        pl.DataFrame({text: texts.cast(pl.String).fill_null("")})
        .with_columns(
            pl.col(text).str.to_lowercase().str.replace_all(r"[\u2018\u2019`]", "'")
        )
        .with_columns(
            pl.col(text)
            .str.replace_all(f"(?:{NEGATION}){NEGATION_LINK}", NEGATED_MARK)
            .alias(marked),
            pl.col(text)
            .str.extract_all(NEGATED_EXIT)
            .list.unique(maintain_order=True)
            .alias(negated),
        )
        .with_columns(matches)
        .with_columns(**weights)
        .with_columns(
            tone=tone,
            score=((best + PRIOR) / (total + PRIOR * len(TONES))).round(3),
        )
        .with_columns(
            phrases=pl.when(pl.col("tone") == EXIT_SEEKING)
            .then(phrases[EXIT_SEEKING])
            .when(pl.col("tone") == FRUSTRATED)
            .then(phrases[FRUSTRATED])
            .otherwise(phrases[HELP_SEEKING])
        )
        .select("tone", "score", "phrases")
    )


def label_signals(signals: pl.DataFrame, *, keep_phrases: bool = False) -> pl.DataFrame:
    """The signals with the model's ``tone`` and ``score`` in place of their text.

    Each distinct text is scored once: tickets repeat, and a large history
    holds far fewer distinct texts than signals. The frame's own ``tone``
    column, if any, is replaced: the model's label is what an early warning
    reads. ``text`` is dropped (it is the bulk of the memory) unless
    ``keep_phrases`` asks for the phrases, which then come with it.

    Examples
    --------
    >>> texts = ["We will cancel.", "We will cancel."]
    >>> frame = pl.DataFrame({"id": [1, 2], "text": texts})
    >>> label_signals(frame).select("id", "tone").rows()
    [(1, 'exit_seeking'), (2, 'exit_seeking')]
    """
    if "text" not in signals.columns:
        message = (
            f"label_signals needs a 'text' column, but the frame has {signals.columns}"
        )
        raise ValueError(message)
    texts = signals.get_column("text").fill_null("").unique()
    scored = pl.concat(
        [texts.to_frame("__text"), score_tone(texts)], how="horizontal"
    ).with_columns(pl.col("score").cast(pl.Float32))
    if not keep_phrases:
        scored = scored.drop("phrases")
    labelled = signals.drop("tone", strict=False).join(
        scored,
        left_on=pl.col("text").fill_null(""),
        right_on="__text",
        how="left",
        maintain_order="left",
    )
    return (
        labelled.drop("__text", strict=False)
        if keep_phrases
        else labelled.drop("text", "__text", strict=False)
    )


def classify(text: str) -> ToneResult:
    """The tone of one text; for many texts ``score_tone`` is much faster."""
    tone, score, phrases = score_tone(pl.Series([text])).row(0)
    return ToneResult(tone=tone, score=score, phrases=list(phrases))


SIGNAL_SCHEMA = {
    "text": pl.String,
    "tone": pl.String,
    "source": pl.String,
    "hard_case": pl.String,
}


def _signal_row(line: str, where: str) -> dict[str, str | None]:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        message = f"{where} is not valid JSON: {error.msg}"
        raise ValueError(message) from None
    if not isinstance(row, dict):
        message = f"{where} must be a JSON object, got {type(row).__name__}"
        raise ValueError(message)
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        message = f"{where} needs a non-empty string 'text'"
        raise ValueError(message)
    tone = row.get("tone")
    if tone not in TONES:
        message = f"{where} has tone {tone!r}; the tones are {TONES}"
        raise ValueError(message)
    source = row.get("source")
    if source is not None and not isinstance(source, str):
        message = f"{where} has a 'source' that is not a string: {source!r}"
        raise ValueError(message)
    hard_case = row.get("hard_case")
    if hard_case is not None and hard_case not in HARD_CASES:
        message = (
            f"{where} has hard_case {hard_case!r}; use null or one of {HARD_CASES}"
        )
        raise ValueError(message)
    return {"text": text, "tone": tone, "source": source, "hard_case": hard_case}


def read_signals(path: Path | Traversable) -> pl.DataFrame:
    """Labelled signals from a JSON Lines file; a bad file or line is a ValueError."""
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        message = f"cannot read the labelled signals {path}: {error}"
        raise ValueError(message) from None
    rows = [
        _signal_row(line, f"{path} line {number}")
        for number, line in enumerate(content.splitlines(), start=1)
        if line.strip()
    ]
    return pl.DataFrame(rows, schema=SIGNAL_SCHEMA)


def _shipped(name: str) -> Traversable:
    return resources.files("metrics").joinpath("tone_data", name)


def load_labelled_set() -> pl.DataFrame:
    """The tuning set shipped with the package (text, tone, source, hard_case)."""
    return read_signals(_shipped(LABELLED_SET))


def load_held_out_set() -> pl.DataFrame:
    """The held-out set shipped with the package, never used to tune the lexicon."""
    return read_signals(_shipped(HELD_OUT_SET))


def _predictions(labelled: pl.DataFrame) -> pl.DataFrame:
    if "tone" not in labelled.columns:
        message = (
            f"evaluate needs a 'tone' column, but the frame has {labelled.columns}"
        )
        raise ValueError(message)
    if "predicted" in labelled.columns:
        return labelled
    if "text" not in labelled.columns:
        message = (
            "evaluate needs a 'text' or a 'predicted' column, but the frame has "
            f"{labelled.columns}"
        )
        raise ValueError(message)
    return labelled.with_columns(
        predicted=score_tone(labelled.get_column("text")).get_column("tone")
    )


def _ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    return pl.when(denominator > 0).then(numerator / denominator)


def evaluate(labelled: pl.DataFrame) -> pl.DataFrame:
    """Precision, recall, F1 and support per tone, then an overall row.

    ``labelled`` holds the true ``tone`` and either ``predicted`` or the ``text``
    to score. The overall row carries the macro averages of precision, recall
    and F1 and the accuracy; a ratio with nothing to divide by is null.
    """
    predicted = _predictions(labelled)
    unknown = set(predicted.get_column("tone").unique().to_list()) - set(TONES)
    if unknown:
        message = f"evaluate only knows the tones {TONES}, got {sorted(unknown)}"
        raise ValueError(message)

    truth = pl.col("tone")
    guess = pl.col("predicted")
    per_tone = pl.DataFrame({"tone": TONES}).join(
        predicted.select(
            [
                pl.struct(
                    correct=((truth == name) & (guess == name)).sum(),
                    support=(truth == name).sum(),
                    predicted=(guess == name).sum(),
                ).alias(name)
                for name in TONES
            ]
        )
        .unpivot(variable_name="tone")
        .unnest("value"),
        on="tone",
    )
    per_tone = per_tone.with_columns(
        precision=_ratio(pl.col("correct"), pl.col("predicted")),
        recall=_ratio(pl.col("correct"), pl.col("support")),
    ).with_columns(
        f1=_ratio(
            2 * pl.col("precision") * pl.col("recall"),
            pl.col("precision") + pl.col("recall"),
        ).fill_null(pl.when(pl.col("precision").is_not_null()).then(0.0)),
        accuracy=pl.lit(None, dtype=pl.Float64),
    )

    overall = per_tone.select(
        tone=pl.lit(OVERALL),
        correct=pl.col("correct").sum(),
        support=pl.col("support").sum(),
        predicted=pl.col("predicted").sum(),
        precision=pl.col("precision").mean(),
        recall=pl.col("recall").mean(),
        f1=pl.col("f1").mean(),
        accuracy=_ratio(pl.col("correct").sum(), pl.col("support").sum()),
    )
    return pl.concat([per_tone, overall]).select(
        "tone", "precision", "recall", "f1", "support", "accuracy"
    )


def accuracy_by_hard_case(labelled: pl.DataFrame) -> pl.DataFrame:
    """How many signals of each hard-case type there are and how many are right."""
    predicted = _predictions(labelled)
    return (
        predicted.filter(pl.col("hard_case").is_not_null())
        .group_by("hard_case")
        .agg(
            count=pl.len(),
            accuracy=(pl.col("tone") == pl.col("predicted")).mean(),
        )
        .sort("hard_case")
    )
