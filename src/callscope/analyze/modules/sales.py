"""Sales intelligence: the qualification signals a caller states, with their evidence.

Only the caller's words count. The agent's turns are read for one thing: what it just asked,
so a bare "eight." is a team size after "how many people would use it?" and a volume after
"how many go out a month?", and a caller's "yes, exactly" confirms the value the agent put in
its question. The vocabulary (synonyms for every id) comes from the profile; this module
holds only language structure: negation, tense, self-correction, who approves what.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from callscope.analyze.registry import registry
from callscope.analyze.text.normalize import (
    NUMBERISH as _NUMBERISH,
)
from callscope.analyze.text.normalize import (
    clause_bounds,
    join_letters,
    next_clause,
    normalize,
    to_digits,
)
from callscope.analyze.text.numbers import (
    PEOPLE,
    pick_team,
    team_candidates,
    volume_candidates,
)
from callscope.analyze.text.phrases import Hit, PhraseMatcher
from callscope.analyze.text.timeline import calendar_timeline
from callscope.analyze.view import CallView
from callscope.profile.model import Profile

VERSION = "1.0.0"

# --- what the agent just asked -------------------------------------------------------------
_HOW_MANY = re.compile(r"\bhow many\s+((?:[a-z'-]+\s+){0,4})")
_PEOPLE_WORD = re.compile(rf"\b{PEOPLE}\b")
_Q_TEAM = re.compile(
    r"\bwho (?:(?:on|in|at) [\w ]{1,20}? )?(?:would|will|is going to) (?:be )?"
    r"(?:us|send|build|work|handl|creat)"
    r"|\bjust you\b|\bwider team\b|\bteam size\b|\bhow big is\b|\bothers too\b"
    r"|\bhow many of you\b|\bwhole (?:\w+ )?team\b"
)
# The agent's own guess put as a question ("so about ten people?"); a recap in an earlier
# sentence ("Got it, three users. And how many letters?") asks nothing about the team.
_GUESS_TEAM = re.compile(rf"\b\d+\s+(?:[a-z'-]+\s+)?{PEOPLE}\b[^?.!]*\?")
_Q_VOLUME_HINT = re.compile(r"\bvolume\b|\bhow often\b")
_Q_TOOL = re.compile(
    r"\b(?:what|how) (?:are|do|were|did) you (?:currently )?(?:using|use|sending|send|handling|"
    r"handle|building|build|doing|do)\b|\bwhat do you use\b|\bused an? [\w -]{0,25}(?:tool|"
    r"software|app)\b|\bprocess look like\b|\bdo you use anything\b|\bcurrent (?:tool|process|"
    r"setup|solution)\b|\busing (?:anything|something) (?:today|now)\b"
    r"|\bwhat (?:[a-z]+ ){1,2}(?:are|do) you (?:currently )?(?:use|using)\b"
    r"|\bwhat's your (?:current |existing )?(?:process|setup|workflow)\b"
)
# "Are you looking at other vendors?": the brands in the answer are candidates, not in use.
_Q_ALTERNATIVES = re.compile(
    r"\bother (?:vendors|tools|options|solutions|products|platforms)\b|\balternatives\b"
    r"|\b(?:looking at|evaluating|considering|comparing) (?:any|other|anyone|anything)\b"
)
# Nothing in place yet, said to "what do you use today?": "we don't really do it at all yet".
_NOTHING_YET = re.compile(
    r"\b(?:don't|do not|haven't|have not)\s+(?:really\s+)?(?:do|done|use|used|have)\s+"
    r"(?:it|that|this|anything|any)\b(?:[^.?!]{0,12}\b(?:at all|yet)\b)"
)
_Q_CRM = re.compile(
    r"\bcrm\b|\bconnect\w*\b|\bintegrat\w*\b|\bsystems?\b|\bsoftware we\b|"
    r"\bapplicant tracking\b|\bpractice management\b|\bfile storage\b|\blike "
    r"(?:salesforce|hubspot)\b"
)
_Q_DECISION = re.compile(
    r"\bdecision\b|\bdecid\w*\b|\bsign(?:s)? off\b|\bfinal (?:call|say)\b|"
    r"\bwho (?:else )?(?:is|would be) involved\b|\bthe one who\b|"
    r"\bwho makes\b|\bmake the call\b|\bapprove\w*\b|\bspend money\b|\bbudget\b"
)
_Q_TIMELINE = re.compile(
    r"\btimeline\b|\btime ?frame\b|\btiming\b|\bwhen (?:would|are|do|will)"
    r" you\b|\bhow soon\b|\bby when\b|\bin place\b|\bgo live\b|"
    r"\bbefore switching\b|\bwait for\b|"
    # "so you'd switch when it ends?": a follow-up asking when the move happens.
    r"\byou(?:'d| would| will|'ll)? (?:switch|move|start|roll (?:it |this )?out|go live|launch|"
    r"make the (?:switch|move)|change over|cut over)\b[^?.]{0,30}\bwhen\b"
)
_Q_MEETING = re.compile(
    r"\bwhat (?:day|time)\b|\bwhich (?:day|time)s?\b|\bworks? for you\b|"
    r"\bdoes [\w .:]{0,30} work\b|\bbook\b|\bschedule\b|\bcalendar\b|"
    r"\bslot\b|\binvite\b|\bwould [\w .:]{0,25} work\b"
)
_Q_USE = re.compile(
    r"\buse (?:pandadoc|it|us) for\b|\bhoping\b|\bwhat made you\b|"
    r"\bwhat kinds? of documents\b|\bwhich documents\b|\bmain(?:ly)? (?:use|thing|"
    r"goal)\b|\bworking on\b|\blooking to use\b|\bwhat are you evaluating\b|"
    r"\btake over\b|\bhandle\?"
)
_WEEK = re.compile(
    r"\b(?:a|per|each|every|in a|typical) (?:typical |normal |given )?week\b|\bweekly\b"
)
_DAY = re.compile(
    r"\b(?:a|per|each|every|in a|typical) (?:typical |normal |given )?day\b|\bdaily\b"
)
_YEAR = re.compile(r"\b(?:a|per|each|every|in a) year\b|\bannually\b")

_AFFIRM = re.compile(
    r"^\W*(?:yes|yeah|yep|yup|ya|exactly|correct|right|that's right|that is right|"
    r"that's correct|sure|uh[- ]huh|mhm|absolutely|definitely|indeed|you got it|"
    r"spot on|bingo)\b"
)

# --- tense and negation around a mention ---------------------------------------------------
_NEG_BEFORE = re.compile(
    r"\b(?:not|no|never|don't|do not|didn't|did not|haven't|have not|without|instead of|"
    r"rather than|got rid of|get rid of|dropped|ditched|cancel(?:l)?ed|used to|moved off|"
    r"moved away from|switched from|switched away from|stopped using|quit|left|was on|were on|"
    r"had|tried|trialed|trialled|ask if|asks if|asked if|wondering if|whether|previously|"
    r"formerly|no longer|isn't|aren't|wasn't|weren't|neither|nor|(?:we|i|they) used)\b"
)
_NEG_AFTER = re.compile(
    r"\b(?:ago|last year|before that|years back|in the past|back then|"
    r"previously|anymore|any more|before)\b"
)
_NEG_NEXT = re.compile(
    r"^\s*(?:and |so |but |then )?(?:we|i|they)\s+(?:\w+\s+)?(?:dropped|ditched|cancel(?:l)?ed|"
    r"got rid of|stopped using|left|switched away from|moved off|quit)\b|\bnever (?:have|used "
    r"it|did)\b|^\s*(?:no,? )?never\b|\bdon't need (?:that|it|those|them)\b|"
    r"\bhandled\b.*\bseparately\b"
)
_PRESENT = re.compile(
    r"\b(?:we use|we're using|we are using|i use|i'm using|using|we're on|we are on|i'm on|"
    r"we've been on|we have been on|been using|right now|currently|at the moment|today|came "
    r"with|we pay|we're paying|our \S+ (?:plan|contract|account|subscription|license)|"
    r"everything's in|everything is in|live in|we have|we've got|is what we use|still on|"
    r"still using|we send|we do|we run|through|via|replacing|already (?:have|use|using|on|pay for)|"
    # leaving a tool now means being on it now: "we're moving our proposals off Qwilr"
    r"(?:moving|switching|migrating|getting) (?:[\w']+ ){0,3}?(?:off|away from))\b"
)
_MAKER_ONE = re.compile(r"^\s+(?:one|version|product)\b")
# "nicer proposals instead of my Word template": what the caller replaces is what they use.
_INSTEAD_OF_MINE = re.compile(
    r"\b(?:instead of|rather than|replace|replacing) (?:my|our) (?:[\w-]+ )?$"
)
_EVALUATING = re.compile(
    r"\b(?:also|too|shortlist|short list|front ?runner|finalists?|leaning|evaluating|evaluate|"
    r"trialing|trialling|testing|looking at|"
    r"considering|compar\w*|likes?|liked|loves?|quote|mentioned|heard|"
    r"recommended|bake[- ]?off|next)\b"
)
_VERB_BEFORE = re.compile(
    r"\b(?:to|can|could|will|'ll|please|should|must|want|and|i|we|you|they"
    r"|gonna)\s*$"
)
_DET_BEFORE = re.compile(r"\b(?:our|the|my|whole|entire|your|their)\s*$")
_COMMON_WORDS = frozenset(
    [
        "sales",
        "force",
        "sign",
        "now",
        "one",
        "flow",
        "get",
        "accept",
        "iron",
        "clad",
        "better",
        "hello",
        "drop",
        "box",
        "pipe",
        "drive",
        "quick",
        "books",
        "hub",
        "spot",
        "echo",
        "zap",
        "year",
    ]
)
_VERB_FIRST = frozenset({"sign", "get"})  # "we can sign now", "to get accept..." read as verbs
_PAST_CLAUSE = re.compile(
    r"\b(?:ago|last|was|were|did|had|went|got|took|moved|cancel\w*|dropped|"
    r"hired|started|switched|since|used to|back in|left|came)\b|"
    # a past verb, but not "need" or "feed"
    r"\b(?:we|i|they|she|he|you|y'all)\s+(?:\w+\s+)?\w*[^e\W]ed\b|"
    # a perfect tense: "y'all have emailed me six times this week"
    r"\b(?:have|has|'ve)\s+(?:already\s+)?\w*[^e\W]ed\b"
)
_CONTRACT_CLAUSE = re.compile(
    r"\b(?:contract|renew\w*|locked|stuck|tied (?:in|into)|runs? (?:through|until|till)|expires?|"
    r"plan ends?)\b"
)
_TERM_WORDS = re.compile(
    r"\b(?:contract|agreement|deal|term|subscription|licen[cs]e|renew\w*|year|years|months?|"
    r"until|till|through|thru|expires?|ends?|paid|prepaid|annual|vendor)\b"
)
_LOCKED = re.compile(r"\b(?:locked|stuck|tied (?:in|into)|paying for it)\b")
_SENTENCE_OR_BUT = re.compile(r"(?<=[.?!])\s+|\bbut\b")
_DEADLINE_MARK = re.compile(r"\b(?:at the latest|no later than|latest by)\b")
_CALENDAR_HINT = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|spring|summer|fall|autumn|winter|"
    r"christmas|holiday|year|new year|q[1-4]|quarter|month|weeks?|days?|\d+|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)day|first|second|third|[a-z]+(?:fth|xth|nth|hth|"
    r"lfth|ieth|enth)\b)"
)
# A wish about the future makes a past-looking verb a plan: "I'd like us switched over by".
_WISH = re.compile(
    r"\b(?:'d like|would like|want|wants|need|needs|will|'ll|going to|gonna|hoping|hope to|"
    r"plan to|have to|has to)\b"
)
_DURATION_OF = re.compile(r"\b(?:takes?|took|taking|lasts?|lasted)\s+(?:[\w-]+\s+){0,2}$")
# A negator in the sentence before ("it's no. maybe next year") does not reach the phrase.
_NEGATOR_NEAR = re.compile(
    r"\b(?:not|no|isn't|wasn't|aren't|never|n't|hardly)[^\w.?!]+(?:\w+[^\w.?!]+){0,2}$"
)

# --- objections ----------------------------------------------------------------------------
_WAIVE = re.compile(
    r"\b(?:not (?:a|any|an|too much of a|much of a|really a) (?:deal[- ]?breaker|concern|problem|"
    r"big deal|issue|worry|priority|hurdle|blocker)|isn't (?:a|an|really a) (?:concern|problem|"
    r"issue|worry|big deal|deal[- ]?breaker)|no problem|not worried|not concerned|that's fine|"
    r"it's fine|"
    r"just a formality|a formality|we can live without|can live with|live without|doesn't matter|"
    r"not an issue|not important|don't care about|no concerns?|not a concern at all)\b"
)
_HURDLE = re.compile(
    r"\b(?:deal[- ]?breaker|hard sell|big gap|a gap|gap for us|must[- ]have|"
    r"(?:it's|that's|is) (?:a |an )?(?:real |big |huge |major )?problem|bummer|show[- ]?stopper|"
    # the caller saying the product is worthless to them without the missing piece
    r"(?:we|i) gain nothing|(?:is|it's|that's) (?:not going to|never going to|gonna not) work|"
    r"(?:it's|is) useless (?:for|to) (?:me|us)|(?:the )?main thing (?:i|we) need|"
    r"can't live without|need that|needs to have|would be a problem|"
    r"(?:a|big|real) issue for us|won't work for us|doesn't work for us|no[- ]go|"
    r"non[- ]?starter|(?:we|i) (?:can't|cannot|couldn't) (?:use|buy|go with) "
    r"(?:it|this|that|you)|(?:a|real|big|the) hurdle|(?:it's|that's|is) a must|not for (?:me|us)|"
    r"no point|not worth it|doesn't help much|ridiculous|not paying(?! attention))\b"
)
# "if the quote can't write the line items back...": any subject the condition names.
_LACK_USER = re.compile(
    r"\bif (?:[\w'-]+ ){1,4}?(?:can't|cannot|doesn't|does not|"
    r"won't|isn't able|is not able|don't|do not)\b|\b(?:it|you) (?:can't|doesn't|"
    r"don't) (?:do|have|support)\b"
    # "so it won't print booklets": any capability the caller found missing in the trial
    r"|\b(?:so|then|and) (?:it|you|pandadoc) (?:can't|cannot|won't|doesn't|does not) [a-z]{3,}\b"
)
_LACK_AGENT = re.compile(
    r"\b(?:don't see|do not see|not seeing|not finding|couldn't find|"
    r"can't find|don't have|do not have|doesn't (?:have|support)|no native|"
    r"not (?:able|available|supported)|unfortunately|isn't (?:available|"
    r"supported)|can't confirm|not sure we)\b"
)
_INTEGRATION_TALK = re.compile(
    r"\b(?:integrat\w*|connect\w*|talks? to|sync\w*|pull\w*|push\w*|"
    r"mapping|map|crm|ats|lms|ehr|erp|plug[- ]?ins?|native|api|"
    r"zapier)\b"
)
_APPROVAL_NOUN = re.compile(
    r"^\s*(?:workflows?|rules?|process(?:es)?|flows?|steps?|chains?|"
    r"features?|routing|settings?)\b"
)
_USE_NEG = re.compile(r"\b(?:don't|do not|doesn't|does not|won't) need\b|\bnot\b")
# The caller wants signatures on documents that already exist: "we just need the client's
# signature on them", "our loan system already generates them, we need borrowers to sign them".
_SIGN_WORD = r"(?:sign|signs|signed|signing|signature|signatures|e-?sign\w*)"
_ESIGN_JUST = re.compile(
    r"\b(?:just|only|simply|literally|all (?:we|i))\s+(?:really\s+)?(?:need|want|getting|get|"
    r"needs?|have to get|looking (?:to get|for))\b(?:\s+[\w']+){0,4}?\s+"
    rf"(?:to\s+)?{_SIGN_WORD}\b"
)
_ALREADY_HAVE = re.compile(
    r"\b(?:already (?:have|has|got|drafted|written|generates?|generated|creates?|created|makes?|"
    r"made|exist)|(?:are|is) already (?:drafted|written|done|made)|(?:we|i) already have)\b|"
    r"\b(?:don't|do not|doesn't) (?:create|build|make|draft|write) (?:anything|documents|them|"
    r"the documents)\b"
)
# "mainly I want to send invoices": a job stated as what the caller wants to send.
_SEND_WISH = re.compile(
    r"\b(?:i|we)(?:'d)? (?:mainly |mostly |really |just )?(?:want|need|like|would like|are looking|"
    r"'re looking|am looking|'m looking|hope|hoping) to send\b(?! (?:it|them|that|this)\b)"
)
_USE_FOR = re.compile(r"\buse (?:it|pandadoc|this|you)\b[^.?!]{0,25}?\bfor\b")
_SIGN_RE = re.compile(rf"\b{_SIGN_WORD}\b")
_EMPHASIS = re.compile(
    r"\b(?:main|mainly|mostly|primarily|big one|bulk|main thing|the thing|biggest)\b"
)
_EXPLICIT_ESIGN = re.compile(r"^(?:e-?sign\w*|electronic|sign (?:them )?electronically)")
_LEARN_MORE = re.compile(r"^\s*more\b")
# "too much back and forth", "too much paperwork": a burden of work, not of money.
_TOO_MUCH_WORK = re.compile(
    r"\btoo much (?:back and forth|work|paper\w*|hassle|effort|admin\w*|going on|manual|typing|"
    r"chasing|printing|scanning|time|clicking|stuff|"
    r"for (?:us|me|them) to (?:learn|handle|manage))\b"
)
# "no point paying twice" once a contract is running: the overlap is lock-in, not price.
_DOUBLE_PAY = re.compile(r"\bpay(?:ing)? (?:twice|double|for (?:both|two (?:tools|systems)))\b")
# "it doesn't have integrations, but it works with Zapier": a gap already worked around.
_WORKED_AROUND = re.compile(
    r"\bbut (?:it|that|we|they)(?: still)? (?:works? with|can (?:use|go through)|connects? "
    r"(?:through|via)|gets? around)\b"
    # "isn't on your integrations list, but our IT consultant says he can connect it"
    r"|\bbut\b[^.?!]{0,50}?\b(?:can|could|will) (?:connect|hook|wire|integrate|build|bridge)\b"
)
# "three of us in compliance send those": the department's name, not a requirement.
_DEPARTMENT_BEFORE = re.compile(r"\b(?:in|from|of|run|head|heads|lead|leads)\s+$")
_DEPARTMENT_AFTER = re.compile(r"^\s+(?:team|department|dept|officer|staff|people|folks|group)\b")
_CONDITION = re.compile(r"\bif\b[^.?!,]*$")
# Price said as a judgement of our pricing, or money next to a hurdle.
_PRICE_HIGH = re.compile(
    r"\b(?:price|pricing|cost|costs|it|that|plan|subscription)\s+(?:is|'s|seems|looks|sounds|are)\s+"
    r"(?:[a-z]+\s+){0,3}?(?:high|higher|steep|expensive|a lot|too much)\b"
)
# Cost named next to a burden, in one clause: "money's the problem", "the plan is kind of a
# jump for us", "my bigger concern is cost", "why I'd pay triple".
_COST = (
    r"(?:price|prices|pricing|cost|costs|money|budget|budgets|plan|plans|tier|tiers|subscription|"
    r"spend|pay|paying|fees?|bucks|dollars|a seat|per seat|a user|per user|a license)"
)
_BURDEN = (
    r"(?:jump|stretch|a lot more|too much|steep|tight|problem|concern|worry|justify|triple|"
    r"double|twice|three times|out of reach|hard to swallow|matters|ridiculous|"
    r"crazy|insane|absurd|outrageous|wince|winced|"
    r"(?:has|have|needs?) to (?:come down|drop|go down|be lower)|come down)"
)
_PRICE_BURDEN = re.compile(
    rf"\b{_COST}\b(?:[^\w.,;?!]+[\w']+){{0,6}}?[^\w.,;?!]+{_BURDEN}\b"
    rf"|\b{_BURDEN}\b(?:[^\w.,;?!]+[\w']+){{0,2}}?[^\w.,;?!]+{_COST}\b"
)
# Switching made conditional on our price: "if your pricing is in the same ballpark...".
_PRICE_CONDITION = re.compile(
    r"\bif (?:your|pandadoc's|the pandadoc) (?:[\w-]+ ){0,2}?(?:price|pricing|cost|plan)s?\b"
    # "if you're not close to that price i'm not switching": our price held to a yardstick
    r"|\bif (?:you're|you are|pandadoc is|it's|it is) not (?:close to|near|under|below|around|"
    r"competitive with|in the same ballpark as) (?:that|their|the same|what)\b"
)
# The caller's tool of today named without its brand: "our current tool is getting expensive".
_CURRENT_THING = re.compile(
    r"\b(?:current|existing|old) (?:tool|system|vendor|provider|software|platform|one)\b"
    r"|\bwhat we (?:have|use) (?:now|today)\b"
)
# "I don't see it anywhere": the caller looked in the product on trial, so it is about us.
_SEARCHED = re.compile(r"\b(?:see|find)\b")
# Objections that judge a product: said about a competitor they are the caller's reasons to
# look at us, not hurdles (lock-in and switching costs are about the old tool by nature).
_JUDGED_IDS = frozenset({"price", "complexity", "integration_gap", "feature_gap"})
_DOC_MODIFIER = re.compile(
    r"^\s+(?:agreements?|forms?|clauses?|policy|policies|statements?|waivers?|letters?|"
    r"documents?|acknowledg\w+|training)\b"
)
_NEGATED_SPAN = re.compile(r"\b(?:not|no|never|isn't|aren't|wasn't)\b|n't\b")
# A price the caller judges about us rather than about a tool they name.
_ABOUT_US = re.compile(r"\b(?:you|your|yours|pandadoc|pandadoc's|than)\b")
# "we're in a contract with DocuSign until February".
_IN_CONTRACT = re.compile(
    r"\b(?:in|under|signed|into)\s+(?:a|an|our|the)\s+(?:[\w-]+\s+){0,2}?"
    r"(?:contract|agreement|commitment|deal)\b[^.?!]{0,50}?\b(?:until|till|through|thru|ends?|"
    r"expires?|runs? out|renews?)\b"
)
# A timing word used as a date anchor ("after our busy season") schedules, it does not object.
_TIME_ANCHOR = re.compile(
    r"\b(?:after|once|when|until|following|before)\s+(?:the\s+|our\s+|my\s+)?$"
)
_PAST_STATE = re.compile(r"\b(?:was|were|had been)\s+(?:just\s+|really\s+|a\s+)?$")
_NOT_PRODUCT = re.compile(
    r"\b(?:pricing|price|plans?|billing) (?:page|sheet|table|site)\b|\bwebsite\b"
)
_NO_TIME = re.compile(
    r"\b(?:no|nobody has|no one has|don't have|haven't got|not have) (?:the )?time\s+$"
)
# Without a when ("no time to learn all these settings") the burden is the learning itself.
_WHEN_WORD = re.compile(
    r"\b(?:then|now|right now|this (?:week|month|season|quarter|year|term)|until|till|season|"
    r"peak|busy|during|before|after)\b"
)
# Asked what holds them back, the caller answers with the cost itself: "honestly, price."
_HURDLE_ASKED = re.compile(
    r"\b(?:hold(?:ing)? you back|concerns?|hesitat\w*|worr\w*|blockers?|stop(?:ping)? you|"
    r"hurdles?|in the way|give you pause)\b[^.?!]*\?\s*$"
)
_NAMED_HURDLE = re.compile(
    r"^(?:(?:honestly|well|um|uh|so|probably|mostly|just)[, ]+){0,2}(?:the )?"
    r"(?:price|pricing|cost|money|budget)(?:,? mostly| really)?\s*[.!,;]"
)
# A move the caller plans ("we'd want to migrate this quarter") is no cost they fear.
_PLANNED = re.compile(
    r"\b(?:want|wants|like|plan|planning|ready|hoping|hope|looking|going|gonna|able)\s+to\s+$"
)
_MONEY = re.compile(
    r"\b(?:pay|paying|paid|price|pricing|cost|costs|money|budget|afford|free for us|"
    r"dollars?|bucks)\b"
)

# A burden judged about something priced: "that's a lot for one person", "is a bit steep".
_BIG_JUDGE = re.compile(
    r"\b(?:that's|that is|it's|it is|is|seems|sounds)\s+(?:\w+\s+)?(?:a lot of money|a lot|"
    r"too much|steep|ridiculous|crazy|insane|a stretch)\b(?!\s+(?:of|more|less|\w+er)\b)"
    # refusing to pay is the judgement itself: "we won't pay that"
    r"|\b(?:i|we)(?:'m| am|'re| are)? (?:won't|will not|wouldn't|not going to|not gonna) "
    r"(?P<refuse>pay)\b"
)
# What makes that judgement about a price: money named in the turn, a price the caller states
# ("if it's thirty-something a month"), or a price the agent just quoted.
_PRICE_CONTEXT = re.compile(
    r"\$|\b(?:dollars?|bucks|money|per (?:user|seat|month)|a (?:seat|user|license)|pricing|price|"
    r"cost)\b"
    r"|\b(?:it's|it is|is|at|costs?|pay|for)\s+(?:\w+\s+)?(?:\d+|[a-z]+ty(?:-something)?)\s+"
    r"(?:a|per)\s+(?:month|year|seat|user)\b"
)

_BUSINESS_NOUN = (
    r"(?:company|business|firm|shop|agency|practice|studio|outfit|startup|provider|operation|"
    r"store|distributor|group|chain|franchise|brokerage)"
)
_OWN_BUSINESS = re.compile(
    r"\b(?:we're|we are|i'm|i am|i own|i run|we run|i have|we have|i work (?:for|at))\s+"
    rf"(?:a|an)\s+(?:[\w-]+\s+){{0,3}}?{_BUSINESS_NOUN}\b"
    # "I'm the HR director for a restaurant group"
    rf"|\bi(?:'m| am) (?:the |an? )?[\w -]{{2,30}}? (?:for|at) (?:a|an) (?:[\w-]+\s+){{0,3}}?"
    rf"{_BUSINESS_NOUN}\b"
    # "we run four event venues", "we have six pilates studios"
    r"|\b(?:we|i)\s+(?:run|have|own|operate|manage)\s+(?:\w+\s+){0,3}?(?:studios|venues|locations|"
    r"stores|shops|restaurants|gyms|salons|spas|hotels|offices|clinics|sites|franchises|"
    r"properties|centers|centres|branches|cafes|bakeries|bars)\b"
    # "I'm a wedding photographer": a trade named as the caller's own.
    r"|\bi(?:'m| am) (?:a|an) (?:[\w-]+\s+){0,2}?(?!(?:user|customer|member|beginner|fan|"
    r"computer|subscriber|newcomer|tester|number|reader|believer|manager|director|coordinator|"
    r"administrator|supervisor|officer|partner|owner|founder|co-founder|cofounder|leader|"
    r"controller|assistant|specialist|generalist)s?\b)[a-z]{3,}(?:er|or|ist|ian)\b"
)
# Who the business serves, not what it is: "insurance, mostly for contractors", "a scheduling
# tool for vet clinics", and vendors' roles ("our IT contractor").
_CUSTOMER_BEFORE = re.compile(
    r"(?:\b(?:for(?!\s+(?:our|my)\b)|serving|serve|mostly|clients|customers|clientele|sell to|"
    r"work with)\s+"
    r"(?:[\w-]+\s+){0,3}|\bit\s+)$"
)
# The caller says what the business is: industry words there name it ("we're a SaaS platform
# for landlords": SaaS, not real estate, which is who they sell to).
_IDENTITY = re.compile(r"\b(?:we're|we are|i'm|i am|i run|i own|we run)\s+(?:an?|the)\s+")
_IDENTITY_END = re.compile(r"\b(?:for|to|serving|with|that|who|and)\b|[.,;?!]")
# A business that sells software of any kind ("we sell a logistics analytics tool").
_SELLS_SOFTWARE = re.compile(
    r"\bwe(?:'re| are)?\s+(?:sell|build|make|develop|offer)(?:ing)?,?\s+(?:(?:um|uh|like),?\s+)?"
    r"(?:an?\s+|our own\s+)?"
    r"(?:[\w-]+\s+){0,3}?(?:software|platform|saas|app)\b"
    r"|\bwe(?:'re| are)?\s+(?:sell|build|make|develop|offer)(?:ing)?,?\s+(?:(?:um|uh|like),?\s+)?"
    r"an?\s+(?:[\w-]+\s+){1,3}?"
    r"tool\b"
)
_IDENTITY_BONUS = 2.0

# --- authority -----------------------------------------------------------------------------
_THIRD_PARTY = re.compile(
    r"\b(?:he|she|they|board|owners?|founders?|partners?|boss|manager|cfo|ceo|cro|coo|cto|gc|"
    r"director|procurement|legal|finance|committee|council|president|vp|husband|wife|"
    r"(?:my|our|the) (?!one\b|person\b|decision\b|final\b)[a-z-]+|(?:dr|mr|ms|mrs)\.? [a-z]+)\b"
    r"(?:'s|'d)?(?:(?!\b(?:i|i'm|me|we|myself)\b)[\w\s']){0,45}?"
    r"\b(?:signs? off|approves?|decides?|makes? the (?:final )?(?:call|decision)|"
    r"has the final say|has to approve|needs? to approve|would have to approve|"
    r"gets? the final say|(?:have|has) to (?:okay|ok|approve|sign off)|okays?|green[- ]?lights?|"
    r"picks?|chooses?|gets? the last word|has the last word|"
    r"owns? the (?:company|business|firm|agency|shop|practice|place)|"
    r"pays? for (?:everything|it all)|"
    r"signs? the (?:checks|cheques)|holds? the purse ?strings|controls? the (?:budget|money|spend)|"
    r"(?:is )?(?:gonna|going to|will|'ll|would|'d) (?:want|need|have) to see the "
    r"(?:price|pricing|numbers|quote|cost))\b"
    # "it's his call", "it's our director's decision"
    r"|\b(?:it's|it is) (?:his|her|their|(?:my|our) [a-z-]+'s) (?:call|decision)\b"
)
_DOC_SUBJECT = re.compile(
    r"(?:my|our|the) (?:handbook|policy|policies|forms?|documents?|contracts?|proposals?|quotes?|"
    r"nda|checklist|timesheets?|agreements?|waivers?|paperwork)\b"
)
_CHOOSE_ASKED = re.compile(r"\b(?:can|could|get to|will|would)\s+(?:\w+\s+)?(?:pick|choose)\b")
_APPROVAL_VERBS = (
    "sign",
    "approv",
    "decid",
    "call",
    "decision",
    "say",
    "ok",
    "green",
    "pick",
    "choos",
    "word",
    "owns",
    "pays",
    "checks",
    "purse",
    "control",
    "to see",
)
# Someone else's approval named as a noun: "needs our board treasurer's approval", "I'd have
# to check with my manager first".
_OTHERS_APPROVAL = re.compile(
    r"\b(?:needs?|requires?|get|getting)\s+(?!my\b|your\b|to\b)(?:[\w']+\s+){1,4}?"
    r"(?:approval|sign[- ]?off|okay|blessing|go[- ]ahead)\b"
)
_CHECK_WITH = re.compile(
    r"\b(?:check|run (?:it|this|that)|clear (?:it|this|that)|bring (?:it|this|that)|"
    r"take (?:it|this|that))\s+(?:with|by|past|to)\s+(?:my|our)\s+(?:[\w-]+\s+){0,2}?"
    r"(?:boss|manager|cfo|ceo|coo|cro|cto|owners?|founders?|partners?|board|director|"
    r"president|vp|head of [\w-]+|supervisor|finance|procurement|legal)\b"
)
# People who approve the document itself, not the purchase.
_RECIPIENT = re.compile(
    r"\b(?:customers?|clients?|buyers?|recipients?|signers?|patients?|parents?|tenants?|"
    r"borrowers?|candidates?|homeowners?|counterpart(?:y|ies)|the other side)\b"
)
_NOBODY = re.compile(r"\b(?:nobody|no one|no-one|none of)\b[\w\s']*$")
# A buying process the caller cannot skip: "it has to go through procurement", "I can't buy
# anything myself".
_GATEKEEPER = re.compile(
    r"\b(?:has|have|had|needs?|would need|must) to go through (?:[\w'-]+\s+){0,3}?(?:procurement|"
    r"purchasing|legal|finance|the board|it|security review|approval|a review|committee)\b"
    r"|\b(?:has|have|needs?|would need|must) to go (?:to|before|past|up to) (?:the |my |our )?"
    r"(?:board|cfo|ceo|owners?|partners?|committee|finance|procurement|leadership|council|"
    r"trustees|boss|director)\b"
    r"|\bi(?: can't| cannot| couldn't| am not allowed to|'m not allowed to) (?:just )?"
    r"(?:buy|purchase|sign|approve|say yes|commit|spend)\b"
)
# Approval named as a burden: it is a hurdle even when it answers "who decides?".
_APPROVAL_BURDEN = re.compile(
    r"\b(?:real|big|extra|long|slow|separate) (?:step|process|hurdle|review)\b|"
    r"\btakes? (?:\w+ ){0,2}(?:weeks|months)\b|\breads? everything\b|\bcan't just\b|"
    r"\b(?:the )?hard(?:est)? part\b|\btough (?:on|about)\b"
)
# Cheap literal tests that let most turns skip the longer patterns below them.
_APPROVER_HINT = re.compile(
    r"approval|sign[- ]?off|okay|blessing|ahead|\b(?:with|by|past|to) (?:my|our) "
)
# The caller has to win someone over: a hurdle, even when it answers "who decides?".
_MUST_CLEAR = re.compile(
    r"\b(?:i|we)(?:'d| would| will|'ll)?\s+(?:need|have)\s+to\s+(?:get|run|check|bring|take|"
    r"clear|convince|loop|pitch|sell)\b"
    # "I'd need our CFO to sign off": someone else's yes the caller must still obtain
    r"|\b(?:i|we)(?:'d| would| will|'ll)?\s+(?:need|have to get)\s+(?:my|our|the)\s+"
    r"(?:[\w-]+\s+){1,2}?"
    r"to\s+(?:sign off|approve|okay|ok|bless|green[- ]?light)\b"
)
# The caller does the legwork for someone else's decision: "I'm running the evaluation".
_SELF_EVALUATES = re.compile(
    r"\bi(?:'m| am)\s+(?:the one\s+)?(?:running|leading|doing|handling|owning|pulling together|"
    r"putting together|gathering|collecting|evaluating|researching|comparing|vetting|scoping|"
    r"shortlisting)\b"
    # a recommendation to the one who decides: "I'd be recommending it to our partner"
    r"|\bi(?:'d| would|'ll| will|'m| am)\s+(?:be\s+)?(?:recommending|recommend|pitching|"
    r"put together a recommendation|make (?:a|the) (?:recommendation|case))\b"
    r"|\bi (?:just |only |mainly )?(?:evaluate|research|vet|compare|test) (?:the )?"
    r"(?:tools|options|vendors|software|products)\b"
)
# Asked by someone else to look into it: an influencer when no one is named as approving.
_ASKED_TO_LOOK = re.compile(
    r"\b(?:asked|told|wants|needs) me to (?:look|find|research|evaluate|check|test|try|scope)"
    r"|\btesting it (?:out )?for (?:her|him|them|my boss)\b"
)
# The caller decides, said in words that name no title: "it's just me deciding", "I've got
# budget authority", "it's my shop".
_SELF_DECIDES = re.compile(
    r"\b(?:just |only )?me (?:deciding|who decides|making (?:the|that) (?:call|decision))\b"
    r"|\bi(?: have|'ve| hold| own| control| manage| run)(?: got)? the (?:budget|purse ?strings)\b"
    r"|\bi can (?:approve|sign off on|buy|sign for|okay) (?:anything|purchases|spend\w*) "
    r"(?:under|up to|below|less than)\b"
    r"|\bi(?:'ve| have)?(?: got)? (?:full |the )?(?:budget|purchasing|spending|signing) "
    r"(?:authority|power)\b|\bi sign the checks\b"
    rf"|\bit's (?:all |just )?my (?:own )?(?:{_BUSINESS_NOUN[3:-1]}|money|budget|call)\b"
)
# Shared decisions: "me and my co-founder decide together" keeps the caller a decision maker.
_JOINT = re.compile(
    r"\b(?:me|i) and (?:my |our )?[\w-]+(?: [\w-]+)? (?:decide|make the (?:call|decision)|"
    r"sign off|approve)\b|\bwe (?:both )?decide\b|\bdecide together\b"
)
# Approval of documents inside a workflow ("their manager has to approve before it goes out")
# is a product requirement, not a purchase hurdle.
_DOC_APPROVAL = re.compile(
    r"\b(?:discount\w*|goes out|go out|before (?:it|they|we) (?:is |are )?"
    r"(?:sent|send|goes|go)|each (?:quote|proposal|contract|document)|"
    r"every (?:quote|proposal|contract|document))\b"
)
_ANSWER_ME = re.compile(
    r"^\W*(?:me\b|that's me|that is me|that'd be me|that would be me|"
    r"myself|i do\b|i am\b|i will\b|yes\b|yep\b|yeah\b|i'm the one)"
)
_NOT_ME = re.compile(r"\bnot me\b|^\W*no\b")
_TITLE_DM = re.compile(
    r"\bi(?:'m| am) (?:the |a |an |one of the (?:[a-z]+ )?)?(?:owner|co-?owner|founder|"
    r"co-?founder|ceo|coo|president|principal|managing (?:partner|broker|attorney|director|"
    r"member))s?\b|\bi own (?!the budget)\w+|\b(?:budget|decisions?|calls?|money)(?: is| are|'s)"
    r" (?:all )?mine\b"
)
# The caller approves or pays without asking anyone: "I can sign off on this myself".
_SELF_APPROVES = re.compile(
    r"\bi(?: can| could| will|'ll| get to)?\s+(?:just\s+)?(?:sign off on|sign for|approve|"
    r"green[- ]?light|okay) (?:this|it|that|the (?:purchase|spend))\b"
    r"|\bi(?: can| will|'ll)\s+(?:just\s+)?(?:put it on (?:the|my|our|a) (?:company )?"
    r"(?:card|credit card|amex)|expense it|pay for it)\b"
)

# --- pain, people, next steps --------------------------------------------------------------
_PAIN = re.compile(
    r"\b(?:slow|mess|messy|painful|pain|takes forever|clunky|breaks|broken|hate|"
    r"nightmare|chase|chasing|lose track|wrong half the time|rigid|frustrat\w*|"
    r"manual|tedious|drive me nuts|keep running out|losing)\b"
)
_DECIDER = re.compile(
    r"\b(?:(?:our|my|the) (?:cfo|ceo|cro|coo|cto|founders?|partners?|board|"
    r"boss|manager|owner|procurement(?: office)?|legal(?: team)?|finance(?: team)?)|"
    r"(?:to|by) ([a-z]+), (?:he|she)(?:'s| is)? (?:the |our )?\w+)\b"
)
_NEXT_STEP = re.compile(
    r"\b(?:send (?:me|it|that|the|over)|email me|just email|follow up|"
    r"circle back|call me|set up a (?:call|demo|meeting)|demo|walk through|"
    r"trial|pricing for|quote for)\b"
)

_TEAM_Q_PEOPLE_LOOKAHEAD = 3
# Every question cue in one pattern, so an agent turn is scanned once.
_QUESTION = re.compile(
    "|".join(
        f"(?P<{name}>{pattern.pattern})"
        for name, pattern in (
            ("how_many", re.compile(_HOW_MANY.pattern.replace("(", "(?P<how_many_words>", 1))),
            ("team", _Q_TEAM),
            ("volume_hint", _Q_VOLUME_HINT),
            ("tool", _Q_TOOL),
            ("crm", _Q_CRM),
            ("decision", _Q_DECISION),
            ("timeline", _Q_TIMELINE),
            ("meeting", _Q_MEETING),
            ("use", _Q_USE),
        )
    )
)


@dataclass(frozen=True, slots=True)
class _Compiled:
    brands: PhraseMatcher
    everything: PhraseMatcher  # brands and topics in one pass over each caller turn
    integration_ids: frozenset[str]
    competitor_ids: frozenset[str]


_CACHE: dict[int, tuple[Profile, _Compiled]] = {}


def compiled(profile: Profile) -> _Compiled:
    """Phrase dictionaries for one profile, built once and reused for every session."""
    got = _CACHE.get(id(profile))
    if got is not None and got[0] is profile:
        return got[1]
    sig = profile.signals
    brand_ids: dict[str, list[str]] = {}
    for family, ids in (
        ("integrations", sig.integrations),
        ("competitors", sig.competitors),
        ("current_tool", sig.current_tool),
    ):
        for vid, phrases in ids.items():
            brand_ids[f"{family}:{vid}"] = list(phrases)
    topics = {
        "use_case": sig.use_case,
        "industry": sig.industry,
        "objections": sig.objections,
        "budget_authority": sig.budget_authority,
        "timeline": sig.timeline,
    }
    comp = _Compiled(
        PhraseMatcher({"brand": brand_ids}),
        PhraseMatcher({"brand": brand_ids, **topics}),
        frozenset(sig.integrations),
        frozenset(sig.competitors),
    )
    if len(_CACHE) > 16:
        _CACHE.clear()
    _CACHE[id(profile)] = (profile, comp)
    return comp


@dataclass
class _UTurn:
    """One caller turn with what it needs for extraction."""

    index: int
    text: str
    low: str
    digits: str
    asked: frozenset[str]
    agent_low: str
    agent_index: int | None
    brands: list[Hit]
    topics: list[Hit]
    prev_user_low: str = ""
    _third: re.Match[str] | bool | None = False  # False: not searched yet
    _approver: re.Match[str] | bool | None = False

    def third_party(self) -> re.Match[str] | None:
        """Someone else approves or decides ("my CFO signs off"), searched once per turn."""
        if self._third is False:
            low = self.low
            found = (
                _THIRD_PARTY.search(low)
                if any(v in low for v in _APPROVAL_VERBS) and not _JOINT.search(low)
                else None
            )
            if found is not None and _DOC_SUBJECT.match(found.group()):
                found = None  # "the handbook sign off": a form new hires sign, not a buyer
            if found is not None and _CHOOSE_ASKED.search(found.group()):
                # "they can pick the package themselves?": a question about what the
                # document's recipients may choose, not about who approves the purchase.
                tail = low[found.end() : found.end() + 80]
                if re.match(r"[^.!?]*\?", tail):
                    found = None
            self._third = found
        return self._third if isinstance(self._third, re.Match) else None

    def approver(self) -> re.Match[str] | None:
        """Someone else's approval, as a clause ("my CFO signs off") or a noun ("her okay")."""
        if self._approver is False:
            low = self.low
            found = self.third_party() or (
                (_OTHERS_APPROVAL.search(low) or _CHECK_WITH.search(low))
                if _APPROVER_HINT.search(low)
                else None
            )
            if found is not None and (
                _RECIPIENT.search(found.group())
                or _NOBODY.search(low[max(0, found.start() - 20) : found.start()])
            ):
                found = None  # "the customer can just approve", "nobody else needs to sign off"
            if found is None and (
                "through" in low or "myself" in low or "can't" in low or "to go " in low
            ):
                found = _GATEKEEPER.search(low)
            self._approver = found
        return self._approver if isinstance(self._approver, re.Match) else None


@dataclass
class _Evidence:
    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, signal: str, turn: _UTurn, start: int | None = None) -> None:
        quote = _sentence_at(turn.text, turn.low, start) if start is not None else turn.text
        entries = self.items.setdefault(signal, [])
        if not any(e["turn"] == turn.index and e["quote"] == quote for e in entries):
            entries.append({"quote": quote, "turn": turn.index})


def _sentence_at(text: str, low: str, pos: int) -> str:
    # ``low`` is ``text`` lower-cased with the same length when no typographic marks changed it.
    src = text if len(text) == len(low) else low
    start = max(src.rfind(". ", 0, pos), src.rfind("? ", 0, pos), src.rfind("! ", 0, pos))
    start = 0 if start < 0 else start + 2
    ends = [i for i in (src.find(". ", pos), src.find("? ", pos), src.find("! ", pos)) if i >= 0]
    end = min(ends) + 1 if ends else len(src)
    return src[start:end].strip()


def _questions(agent_low: str) -> frozenset[str]:
    """What the agent's turn asks about (its last two sentences carry the question)."""
    tail = agent_low[-260:]
    asked: set[str] = set()
    for m in _QUESTION.finditer(tail):
        kind = m.lastgroup or ""
        if kind == "how_many":
            words = m.group("how_many_words").split()[:_TEAM_Q_PEOPLE_LOOKAHEAD]
            if any(_PEOPLE_WORD.fullmatch(w) for w in words) or (
                words and words[0] in ("of", "on") and "you" in words
            ):
                asked.add("team")
            else:
                asked.add("volume")
        elif kind == "volume_hint":
            asked.add("volume")
        else:
            asked.add(kind)
    if (
        "team" not in asked
        and "volume" not in asked
        and "?" in tail
        and _NUMBERISH.search(tail)
        and _GUESS_TEAM.search(to_digits(tail))
    ):
        asked.add("team")
    return frozenset(asked)


def _prepare(view: CallView, comp: _Compiled) -> list[_UTurn]:
    out: list[_UTurn] = []
    agent_low, agent_index = "", None
    prev_user = ""
    for turn in view.turns:
        if turn.is_agent:
            agent_low, agent_index = normalize(turn.text), turn.index
            continue
        if not turn.is_user or not turn.text.strip():
            continue
        low = join_letters(normalize(turn.text))
        hits = comp.everything.find(low)
        out.append(
            _UTurn(
                index=turn.index,
                text=turn.text.strip(),
                low=low,
                digits=to_digits(low),
                asked=_questions(agent_low) if agent_low else frozenset(),
                agent_low=agent_low,
                agent_index=agent_index,
                brands=[h for h in hits if h.group == "brand"],
                topics=[h for h in hits if h.group != "brand"],
                prev_user_low=prev_user,
            )
        )
        prev_user = low
        agent_low, agent_index = "", None  # a question is answered once
    return out


# "we moved to Salesforce last year": the past move is how they came to be on it now.
_ARRIVED_BEFORE = re.compile(
    r"\b(?:moved|switched|migrated|went|came over|changed|transitioned)\s+(?:over\s+|back\s+)?"
    r"(?:to|onto)\s+(?:\w+\s+)?$"
)


def _negated(low: str, start: int, end: int) -> bool:
    """The mention is denied, past, or hypothetical in its clause (or the next one)."""
    span = clause_bounds(low, start)
    if _ARRIVED_BEFORE.search(low[max(span.start, start - 40) : start]):
        return bool(_NEG_BEFORE.search(low[span.start : start]))
    if _NEG_BEFORE.search(low[span.start : start]) or _NEG_AFTER.search(low[end : span.end]):
        return True
    return bool(_NEG_NEXT.search(next_clause(low, max(end, span.end - 1))))


def _is_question_clause(low: str, start: int) -> bool:
    span = clause_bounds(low, start)
    return low[span.end : span.end + 1] == "?"


def _brand_ok(low: str, hit: Hit) -> bool:
    """Reject split brand names read as plain words ("we can sign now", "our sales force is")."""
    surface = low[hit.start : hit.end]
    parts = re.split(r"[\s-]+", surface)
    if len(parts) < 2 or not all(p in _COMMON_WORDS for p in parts):
        return True
    before, after = low[max(0, hit.start - 20) : hit.start], low[hit.end : hit.end + 12]
    if parts[0] in _VERB_FIRST and _VERB_BEFORE.search(before):
        return False
    return not (_DET_BEFORE.search(before) and re.match(r"^\s*(?:is|of|are|has|was|team)\b", after))


# A tool the caller no longer has or never had: "we moved from X to Y", "X is gone",
# "it's built for X shops and we aren't one".
_LEFT_BEFORE = re.compile(
    r"\b(?:migrated|moved|switched|came over|got off|moving|migrating|switching|"
    r"transitioned|went)\s+(?:away\s+)?(?:from|off(?: of)?)\s+(?:\w+\s+)?$|"
    r"\b(?:got rid of|dropped|ditched|cancell?ed|no longer (?:use|have|on)|stopped using|"
    r"used to (?:use|have|be on))\s+(?:\w+\s+)?$"
)
_LEFT_AFTER = re.compile(r"^\s*(?:is|'s|are)\s+(?:gone|dead|out|history|finished)\b")
# "built for X shops" describes another product's buyers; "we're X users" is the caller.
_SHOP_AFTER = re.compile(r"^\s+(?:shops?|houses?|users|customers|people|teams|companies|orgs?)\b")
_SHOP_BEFORE = re.compile(r"\b(?:not|ain't|aren't|isn't)\s+(?:a|an)\s+$|\bfor\s+$")
# "does it work with X? actually, no, forget it": the caller takes the question back.
_RETRACT = re.compile(
    r"^[^.?!]*\?\s*(?:\w+[,.]?\s+){0,3}?(?:forget (?:it|that|about it)|never ?mind|"
    r"scratch that|i don't need (?:it|that)|we don't need (?:it|that)|doesn't matter)"
)


def _integration_dropped(low: str, start: int, end: int) -> bool:
    """The caller names the tool only to say it is gone, foreign, or not wanted after all."""
    before, after = low[max(0, start - 40) : start], low[end : end + 80]
    if _LEFT_BEFORE.search(before):
        return True
    if _SHOP_BEFORE.search(before) and _SHOP_AFTER.match(after):
        return True
    if _LEFT_AFTER.match(after):
        return True
    return bool(_RETRACT.match(after))


def _family(hit: Hit) -> tuple[str, str]:
    family, _, vid = hit.id.partition(":")
    return family, vid


# --- signals -------------------------------------------------------------------------------


def _team_size(turns: list[_UTurn], ev: _Evidence) -> int | None:
    weak_choice: tuple[int, _UTurn] | None = None
    for t in turns:
        answering = "team" in t.asked
        found = team_candidates(t.digits, answering)
        if answering:
            value = pick_team(found)
            if value is None and _AFFIRM.search(t.low):
                value = pick_team(team_candidates(to_digits(t.agent_low), True))
            if value is not None:
                ev.add("team_size", t)
                return value
        elif weak_choice is None:
            explicit = [f for f in found if f.explicit]
            value = pick_team(explicit)
            if value is not None:
                weak_choice = (value, t)
    if weak_choice is not None:
        ev.add("team_size", weak_choice[1])
        return weak_choice[0]
    return None


def _volume_unit(agent_low: str) -> str:
    if _DAY.search(agent_low):
        return "day"
    if _WEEK.search(agent_low):
        return "week"
    if _YEAR.search(agent_low):
        return "year"
    return "month"


def _monthly_volume(turns: list[_UTurn], ev: _Evidence) -> int | None:
    fallback: tuple[int, _UTurn] | None = None
    for t in turns:
        answering = "volume" in t.asked and "team" not in t.asked
        unit = _volume_unit(t.agent_low) if answering else "month"
        found = volume_candidates(t.digits, answering, unit)
        if answering:
            if not found and _AFFIRM.search(t.low):
                found = volume_candidates(to_digits(t.agent_low), False, unit)
            if found:
                ev.add("monthly_volume", t)
                return found[-1].value
        elif fallback is None and found:
            fallback = (found[-1].value, t)
    if fallback is not None:
        ev.add("monthly_volume", fallback[1])
        return fallback[0]
    return None


def _brands(
    turns: list[_UTurn], comp: _Compiled, ev: _Evidence
) -> tuple[list[str], list[str], str | None]:
    integrations: list[str] = []
    competitors: list[str] = []
    current: str | None = None
    manual: str | None = None
    for t in turns:
        hits = [h for h in t.brands if _brand_ok(t.low, h)]
        if not hits and manual is None and "tool" in t.asked and _NOTHING_YET.search(t.low):
            manual = "none"
            ev.add("current_tool", t)
        alternatives = (
            bool(hits) and bool(t.agent_low) and bool(_Q_ALTERNATIVES.search(t.agent_low[-200:]))
        )
        if not hits and _AFFIRM.search(t.low) and t.agent_low and "?" in t.agent_low[-200:]:
            # "So you're on HubSpot?" - "yes": the caller confirms the agent's one named tool.
            agent_hits = [
                h for h in comp.brands.find(t.agent_low[-200:]) if _family(h)[0] == "integrations"
            ]
            if len({h.id for h in agent_hits}) == 1:
                vid = _family(agent_hits[0])[1]
                if vid not in integrations:
                    integrations.append(vid)
                    ev.add("integrations", t)
        first_in_answer = True
        for h in hits:
            family, vid = _family(h)
            negated = _negated(t.low, h.start, h.end)
            if family == "competitors":
                if vid not in competitors:
                    competitors.append(vid)
                ev.add("competitors", t, h.start)
                if (
                    current is None
                    and not negated
                    and not alternatives
                    and not _is_question_clause(t.low, h.start)
                ):
                    span = clause_bounds(t.low, h.start)
                    clause = t.low[span.start : span.end]
                    if not _EVALUATING.search(clause) and (
                        _PRESENT.search(clause) or ("tool" in t.asked and first_in_answer)
                    ):
                        current = vid
                        ev.add("current_tool", t, h.start)
                first_in_answer = False
            elif family == "integrations":
                if _MAKER_ONE.match(t.low[h.end :]):
                    continue  # "hello sign, the dropbox one": a maker naming its product
                if _integration_dropped(t.low, h.start, h.end):
                    continue
                if not negated and vid not in integrations:
                    integrations.append(vid)
                    ev.add("integrations", t, h.start)
            elif (
                family == "current_tool"
                and (not negated or _INSTEAD_OF_MINE.search(t.low[max(0, h.start - 30) : h.start]))
                and (manual is None or (manual == "none" and vid != "none"))
            ):
                manual = vid  # a stated manual process outranks "nothing really"
                ev.add("current_tool", t, h.start)
    return integrations, competitors, current or manual


def _use_case(turns: list[_UTurn], ev: _Evidence) -> str | None:
    scores: dict[str, float] = {}
    first: dict[str, int] = {}
    esign_override: _UTurn | None = None
    for n, t in enumerate(turns):
        for h in t.topics:
            if h.group != "use_case":
                continue
            span = clause_bounds(t.low, h.start)
            if _USE_NEG.search(t.low[span.start : h.start]) or _NEG_NEXT.search(
                next_clause(t.low, max(h.end, span.end - 1))
            ):
                continue
            sentence = t.low[max(0, span.start - 80) : span.end]
            weight = 1.0
            if "use" in t.asked or n < 2:
                weight += 1.0
            if _EMPHASIS.search(sentence):
                weight += 1.5
            if _EXPLICIT_ESIGN.match(h.phrase):
                weight += 0.5  # names the job itself, not a document type
            if h.id == "esignature" and len(h.phrase.split()) > 1:
                esign_override = esign_override or t
            scores[h.id] = scores.get(h.id, 0.0) + weight
            first.setdefault(h.id, t.index)
    if esign_override is not None and "esignature" in scores:
        ev.add("use_case", esign_override)
        return "esignature"
    for t in turns:
        if "sign" not in t.low:
            continue
        if _ESIGN_JUST.search(t.low) or (_ALREADY_HAVE.search(t.low) and _SIGN_RE.search(t.low)):
            ev.add("use_case", t)
            return "esignature"
    if not scores:
        # A job named in words we have no use case for is still a stated use case.
        for t in turns:
            if _USE_FOR.search(t.low) or _SEND_WISH.search(t.low):
                ev.add("use_case", t)
                return "other"
        return None
    best = max(scores, key=lambda k: (scores[k], -first[k]))
    for t in turns:
        if t.index == first[best]:
            ev.add("use_case", t)
    return best


def _industry(turns: list[_UTurn], ev: _Evidence) -> str | None:
    scores: dict[str, float] = {}
    first: dict[str, tuple[int, int]] = {}
    where: dict[str, _UTurn] = {}
    for t in turns:
        identity: list[tuple[int, int]] | None = None
        sells = (
            _SELLS_SOFTWARE.search(t.low)
            if (
                "software" in t.low
                or "platform" in t.low
                or "saas" in t.low
                or " app" in t.low
                or "tool" in t.low
            )
            else None
        )
        if sells:
            scores["software_saas"] = scores.get("software_saas", 0.0) + 1.0 + _IDENTITY_BONUS
            if "software_saas" not in first:
                first["software_saas"] = (t.index, sells.start())
                where["software_saas"] = t
        for h in t.topics:
            if h.group != "industry" or h.id == "other":
                continue
            if re.search(
                r"\b(?:not|no|never)\W+(?:\w+\W+){0,1}$", t.low[max(0, h.start - 20) : h.start]
            ):
                continue
            # Longer phrases are more specific ("insurance agency" > "carriers"); the people the
            # business serves say little about what it is.
            weight = 0.25 if _CUSTOMER_BEFORE.search(t.low[max(0, h.start - 40) : h.start]) else 1.0
            scores[h.id] = scores.get(h.id, 0.0) + weight + 0.5 * (len(h.phrase.split()) > 1)
            if identity is None:
                identity = []
                for m in _IDENTITY.finditer(t.low):
                    cut = _IDENTITY_END.search(t.low, m.end())
                    identity.append((m.end(), cut.start() if cut else len(t.low)))
            if any(a <= h.start < b for a, b in identity):
                scores[h.id] += _IDENTITY_BONUS
            if h.id not in first:
                first[h.id] = (t.index, h.start)
                where[h.id] = t
    if not scores or max(scores.values()) < 1.0:
        # A business described in words we have no industry for is still a stated industry.
        for t in turns:
            if _OWN_BUSINESS.search(t.low):
                ev.add("industry", t)
                return "other"
        return None
    best = max(scores, key=lambda k: (scores[k], (-first[k][0], -first[k][1])))
    ev.add("industry", where[best])
    return best


def _self_approves(low: str) -> bool:
    if not (
        "sign" in low
        or "approv" in low
        or "okay" in low
        or "green" in low
        or "card" in low
        or "expense" in low
        or "pay for" in low
    ):
        return False
    return bool(_SELF_APPROVES.search(low))


# "it's my bakery": said to "who decides?", owning the place answers it.
_MY_OWN = re.compile(r"\b(?:it's|it is) (?:all |just )?my (?:own )?[a-z]+\b")


def _self_decides(low: str) -> bool:
    if not (
        "authority" in low
        or "budget" in low
        or "purse" in low
        or "anything" in low
        or "purchases" in low
        or "power" in low
        or "checks" in low
        or "'s my" in low
        or ("me " in low and ("decid" in low or "making" in low))
    ):
        return False
    m = _SELF_DECIDES.search(low)
    return m is not None and not _NEGATOR_NEAR.search(low[: m.start()])


def _budget_authority(turns: list[_UTurn], ev: _Evidence) -> str | None:
    found: dict[str, _UTurn] = {}
    weak: dict[str, _UTurn] = {}
    for t in turns:
        not_me = bool(_NOT_ME.search(t.low)) and "decision" in t.asked
        for h in t.topics:
            if h.group == "budget_authority" and not (h.id == "decision_maker" and not_me):
                if h.id == "decision_maker" and _NEGATOR_NEAR.search(
                    t.low[max(0, h.start - 25) : h.start]
                ):
                    continue
                found.setdefault(h.id, t)
        if "decide" in t.low and _JOINT.search(t.low):
            found.setdefault("decision_maker", t)
        third = t.approver()
        third_sentence = _sentence_at(t.low, t.low, third.start()) if third else ""
        if third and not (_DOC_APPROVAL.search(third_sentence) or _WAIVE.search(third_sentence)):
            found.setdefault("needs_approval", t)
            if _SELF_EVALUATES.search(t.low):
                found.setdefault("influencer", t)
        answer_me = "decision" in t.asked and _ANSWER_ME.search(t.low)
        if not not_me and (
            answer_me
            or _TITLE_DM.search(t.low)
            or _self_approves(t.low)
            or _self_decides(t.low)
            or ("decision" in t.asked and _MY_OWN.search(t.low))
        ):
            found.setdefault("decision_maker", t)
        if ("me to" in t.low or "testing" in t.low) and _ASKED_TO_LOOK.search(t.low):
            weak.setdefault("influencer", t)
    for choice in ("influencer", "needs_approval", "decision_maker"):
        if choice in found:
            ev.add("budget_authority", found[choice])
            return choice
    for choice, t in weak.items():
        ev.add("budget_authority", t)
        return choice
    return None


def _timeline(turns: list[_UTurn], today: date, ev: _Evidence) -> str | None:
    ordered = [t for t in turns if "timeline" in t.asked] + [
        t for t in turns if "timeline" not in t.asked
    ]
    for t in ordered:
        if "timeline" not in t.asked and (
            "meeting" in t.asked or (t.asked & {"volume", "team"} and "?" in t.agent_low[-260:])
        ):
            continue  # "it peaks in the spring" answers how many, not when
        explicit: list[tuple[int, str]] = []
        for h in t.topics:
            if h.group != "timeline":
                continue
            span = clause_bounds(t.low, h.start)
            clause = t.low[span.start : span.end]
            if _NEGATOR_NEAR.search(
                t.low[max(0, h.start - 20) : h.start]
            ) and not h.phrase.startswith("no"):
                continue
            if _PAST_CLAUSE.search(clause) and not _WISH.search(clause):
                continue
            if _DURATION_OF.search(t.low[span.start : h.start]):
                continue  # "procurement takes six months": how long a process lasts
            explicit.append((h.start, h.id))
        if explicit:
            explicit.sort()
            ev.add("timeline", t, explicit[0][0])
            return explicit[0][1]
        if not _CALENDAR_HINT.search(t.low):
            continue
        parts = _SENTENCE_OR_BUT.split(t.low)
        # A stated deadline ("so December at the latest") outranks the turn's other dates.
        parts.sort(key=lambda p: not _DEADLINE_MARK.search(p))
        for sentence in parts:
            if _PAST_CLAUSE.search(sentence):
                continue
            if _CONTRACT_CLAUSE.search(sentence) and not (
                "timeline" in t.asked and not _LOCKED.search(sentence)
            ):
                continue
            bucket = calendar_timeline(sentence, today)
            if bucket is not None:
                ev.add("timeline", t)
                return bucket
    return None


def _mentions_cost(low: str) -> bool:
    return (
        "pric" in low
        or "cost" in low
        or "money" in low
        or "budget" in low
        or "plan" in low
        or "subscri" in low
        or "spend" in low
        or "pay" in low
        or "fee" in low
        or "tier" in low
    )


def _about_other_tool(t: _UTurn, pos: int, integration: bool = False) -> bool:
    """A price word about a tool the caller names in this or the previous sentence of the turn.

    "we're moving off Qwilr. it's gotten so pricey" complains about Qwilr, not about us;
    "yours is a lot more" or "more than we pay DocuSign" is about us.
    """
    sentence_start = max(
        t.low.rfind(". ", 0, pos), t.low.rfind("? ", 0, pos), t.low.rfind("! ", 0, pos)
    )
    sentence = _sentence_at(t.low, t.low, pos)
    if _ABOUT_US.search(sentence):
        return False
    if _CURRENT_THING.search(sentence):
        return True
    prev_start = max(
        t.low.rfind(". ", 0, max(0, sentence_start)),
        t.low.rfind("? ", 0, max(0, sentence_start)),
        t.low.rfind("! ", 0, max(0, sentence_start)),
    )
    lo = prev_start + 1 if sentence_start >= 0 else 0
    # An integration gap names the CRM it is about; any other judgement names its subject.
    families = ("competitors",) if integration else ("competitors", "integrations")
    # "zoho sign is less than that. the price has to come down": the brand is the yardstick
    # our price is measured against, so the judgement is about us.
    if sentence_start >= 0 and _ABOUT_US.search(t.low[lo:sentence_start]):
        return False
    return any(lo <= h.start < pos and _family(h)[0] in families for h in t.brands)


def _objections(turns: list[_UTurn], ev: _Evidence) -> list[str]:
    out: list[str] = []

    def add(oid: str, t: _UTurn, pos: int) -> None:
        if oid not in out:
            out.append(oid)
        ev.add(f"objection:{oid}", t, pos)

    for t in turns:
        found_here = False
        for h in t.topics:
            if h.group != "objections":
                continue
            sentence = _sentence_at(t.low, t.low, h.start)
            if _WAIVE.search(sentence):
                continue
            before = t.low[max(0, h.start - 30) : h.start]
            if (
                _NEGATOR_NEAR.search(t.low[max(0, h.start - 25) : h.start])
                and not re.match(r"(?:can't|cannot|couldn't|don't|doesn't|not|no)\b", h.phrase)
                and not _CONDITION.search(before)
            ):
                continue
            if h.id == "needs_approval" and (
                ("decision" in t.asked and not _MUST_CLEAR.search(t.low))
                or (_SELF_EVALUATES.search(t.low) and not _MUST_CLEAR.search(t.low))
                or _APPROVAL_NOUN.match(t.low[h.end :])
            ):
                continue  # answering "who decides?" describes authority, it is no hurdle
            if h.phrase == "to learn" and _LEARN_MORE.match(t.low[h.end :]):
                continue
            if h.phrase == "too much for us" and not (
                _mentions_cost(sentence) or _mentions_cost(t.agent_low[-200:])
            ):
                continue  # "this is too much for us" after the screens confused them
            if h.id in ("feature_gap", "integration_gap") and _WORKED_AROUND.search(
                t.low[h.end : h.end + 80]
            ):
                continue
            if h.phrase == "compliance" and (
                _DEPARTMENT_BEFORE.search(before) or _DEPARTMENT_AFTER.match(t.low[h.end :])
            ):
                continue
            if (
                h.id in _JUDGED_IDS
                and not _SEARCHED.search(h.phrase)
                and _about_other_tool(t, h.start, integration=h.id == "integration_gap")
            ):
                continue  # "we demoed Conga, too complicated": a complaint about them
            if _DOC_MODIFIER.match(t.low[h.end :]):
                continue  # "the confidentiality agreement" names a document, not a worry
            if h.id == "timing" and (_TIME_ANCHOR.search(before) or _PAST_STATE.search(before)):
                continue  # "we looked last year, it was bad timing": a reason gone by
            if h.id == "complexity" and _NOT_PRODUCT.search(sentence):
                continue  # "your pricing page is confusing" judges the website, not the tool
            if h.phrase == "to learn" and _NO_TIME.search(before) and _WHEN_WORD.search(sentence):
                add("timing", t, h.start)  # "nobody has time to learn it": a hurdle of when
                found_here = True
                continue
            if h.id == "switching_cost" and _PLANNED.search(before):
                continue
            if h.phrase.startswith("tied") and not _TERM_WORDS.search(sentence):
                continue  # "if it tied into HubSpot": systems joined up, not a contract
            add(h.id, t, h.start)
            found_here = True
        if h_ := t.approver():
            sentence = _sentence_at(t.low, t.low, h_.start())
            if (
                (
                    "decision" not in t.asked
                    or _MUST_CLEAR.search(t.low)
                    or _APPROVAL_BURDEN.search(t.low)
                )
                and not _SELF_EVALUATES.search(t.low)
                and not _WAIVE.search(sentence)
                and not _DOC_APPROVAL.search(sentence)
            ):
                add("needs_approval", t, h_.start())
                found_here = True
        price = (
            _PRICE_HIGH.search(t.low)
            if (
                "high" in t.low
                or "steep" in t.low
                or "expensive" in t.low
                or "a lot" in t.low
                or "too much" in t.low
            )
            else None
        )
        if price is None and _mentions_cost(t.low):
            price = _PRICE_CONDITION.search(t.low)
            burden = None if price else _PRICE_BURDEN.search(t.low)
            if (
                burden
                and not _NEGATED_SPAN.search(burden.group())
                and not _about_other_tool(t, burden.start())
            ):
                price = burden
        if price is None and (
            "lot" in t.low
            or "too much" in t.low
            or "steep" in t.low
            or "ridiculous" in t.low
            or "stretch" in t.low
            or "crazy" in t.low
            or "insane" in t.low
            or "t pay" in t.low
            or "na pay" in t.low
            or "to pay" in t.low
        ):
            judged = _BIG_JUDGE.search(t.low)
            if (
                judged
                and (
                    judged.group("refuse")
                    or not _NEGATED_SPAN.search(t.low[max(0, judged.start() - 12) : judged.end()])
                )
                and (
                    _PRICE_CONTEXT.search(t.low)
                    or _PRICE_CONTEXT.search(t.digits)
                    or _PRICE_CONTEXT.search(to_digits(t.agent_low))
                )
                and not _about_other_tool(t, judged.start())
            ):
                price = judged
        if price is None and _HURDLE_ASKED.search(t.agent_low[-200:]):
            price = _NAMED_HURDLE.search(t.low)
        price_sentence = _sentence_at(t.low, t.low, price.start()) if price else ""
        if (
            price
            and not _WAIVE.search(price_sentence)
            and not ("contract_lock_in" in out and _DOUBLE_PAY.search(price_sentence))
            and not (_TOO_MUCH_WORK.search(price_sentence) and not _mentions_cost(price_sentence))
        ):
            add("price", t, price.start())
            found_here = True
        locked = (
            _IN_CONTRACT.search(t.low)
            if "contract" in t.low
            or "agreement" in t.low
            or "commitment" in t.low
            or "deal" in t.low
            else None
        )
        if locked and not _NEGATOR_NEAR.search(t.low[max(0, locked.start() - 25) : locked.start()]):
            add("contract_lock_in", t, locked.start())
            found_here = True
        hurdle = _HURDLE.search(t.low)
        if hurdle and not _WAIVE.search(_sentence_at(t.low, t.low, hurdle.start())):
            hurdle_sentence = _sentence_at(t.low, t.low, hurdle.start())
            if _MONEY.search(hurdle_sentence) and not (
                "contract_lock_in" in out and _DOUBLE_PAY.search(hurdle_sentence)
            ):
                add("price", t, hurdle.start())
                continue
            user_lack = _LACK_USER.search(t.low)
            lack = user_lack or _LACK_AGENT.search(t.agent_low)
            if lack and not (found_here and not user_lack):
                # A lack the caller states is read in the caller's words (and the tools they
                # name); one the agent admits is read with the agent's turn as well.
                if user_lack:
                    integration = bool(_INTEGRATION_TALK.search(t.low)) or any(
                        _family(b)[0] == "integrations" for b in t.brands
                    )
                else:
                    window = " ".join((t.low, t.agent_low, t.prev_user_low))
                    integration = bool(_INTEGRATION_TALK.search(window))
                gap = "integration_gap" if integration else "feature_gap"
                add(gap, t, hurdle.start())
    return out


def _bant(values: Mapping[str, Any], objections: list[str], pains: int) -> dict[str, float]:
    authority = {"decision_maker": 1.0, "influencer": 0.6, "needs_approval": 0.3}.get(
        values["budget_authority"] or "", 0.0
    )
    timeline = {"this_week": 1.0, "this_month": 0.8, "this_quarter": 0.6, "later": 0.2}.get(
        values["timeline"] or "", 0.0
    )
    budget = 0.5 if values["budget_authority"] == "decision_maker" else 0.25
    if values["team_size"] is not None or values["monthly_volume"] is not None:
        budget += 0.25
    if "price" in objections:
        budget = max(0.0, budget - 0.4)
    need = 0.0
    if values["use_case"]:
        need += 0.4
    if values["monthly_volume"]:
        need += 0.2
    need += min(0.4, 0.2 * pains)
    return {
        "budget": round(min(1.0, budget), 2),
        "authority": authority,
        "need": round(min(1.0, need), 2),
        "timeline": timeline,
    }


def _pain_points(turns: list[_UTurn]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for t in turns:
        m = _PAIN.search(t.low)
        if m and not _negated(t.low, m.start(), m.end()):
            out.append({"quote": _sentence_at(t.text, t.low, m.start()), "turn": t.index})
    return out[:8]


def _decision_makers(turns: list[_UTurn]) -> list[str]:
    names: list[str] = []
    for t in turns:
        for m in _DECIDER.finditer(t.low):
            name = m.group(1) or m.group(0)
            name = re.sub(r"^(?:our|my|the|to|by) ", "", name.split(",")[0]).strip()
            if name and name not in names:
                names.append(name)
    return names


def _next_steps(view: CallView, turns: list[_UTurn], profile: Profile) -> list[str]:
    steps: list[str] = []
    for tool in view.tools:
        if tool.name == profile.tools.meeting_booking:
            out = tool.output if isinstance(tool.output, dict) else {}
            if not tool.is_error and out.get("success") is True:
                steps.append("meeting_booked")
                break
    for t in turns:
        m = _NEXT_STEP.search(t.low)
        if m:
            steps.append(_sentence_at(t.text, t.low, m.start()))
    return steps[:6]


def extract(view: CallView, profile: Profile) -> dict[str, Any]:
    comp = compiled(profile)
    turns = _prepare(view, comp)
    ev = _Evidence()
    integrations, competitors, current = _brands(turns, comp, ev)
    values: dict[str, Any] = {
        "team_size": _team_size(turns, ev),
        "monthly_volume": _monthly_volume(turns, ev),
        "integrations": integrations,
        "current_tool": current,
        "competitors": competitors,
        "use_case": _use_case(turns, ev),
        "industry": _industry(turns, ev),
        "budget_authority": _budget_authority(turns, ev),
        "timeline": _timeline(turns, view.started_at.date(), ev),
    }
    objections = _objections(turns, ev)
    values["objections"] = objections
    pains = _pain_points(turns)
    values["bant"] = _bant(values, objections, len(pains))
    values["pain_points"] = pains
    values["decision_makers"] = _decision_makers(turns)
    values["next_steps"] = _next_steps(view, turns, profile)
    values["evidence"] = ev.items
    return values


@registry.register("sales", VERSION)
def analyze_sales(view: CallView, profile: Profile, upstream: Mapping[str, Any]) -> dict[str, Any]:
    return extract(view, profile)
