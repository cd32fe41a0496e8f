"""Generic language of the signal engine: negation, tense, approval, hurdles, money, time.

Every pattern here is English structure, not business vocabulary: the profile supplies the
words of a business (value synonyms, cue questions, vendor names, product nouns) and
:mod:`callscope.analyze.engine.vocab` compiles the patterns that need them.
"""

from __future__ import annotations

import re

from callscope.analyze.text.numbers import PEOPLE

HOW_MANY = re.compile(r"\bhow many\s+((?:[a-z'-]+\s+){0,4})")
PEOPLE_WORD = re.compile(rf"\b{PEOPLE}\b")
# The agent's own guess put as a question ("so about ten people?"); a recap in an earlier
# sentence ("Got it, three users. And how many letters?") asks nothing about the team.
GUESS_TEAM = re.compile(rf"\b\d+\s+(?:[a-z'-]+\s+)?{PEOPLE}\b[^?.!]*\?")
# "Are you looking at other vendors?": the brands in the answer are candidates, not in use.
Q_ALTERNATIVES = re.compile(
    r"\bother (?:vendors|tools|options|solutions|products|platforms)\b|\balternatives\b"
    r"|\b(?:looking at|evaluating|considering|comparing) (?:any|other|anyone|anything)\b"
)
# Nothing in place yet, said to "what do you use today?": "we don't really do it at all yet".
NOTHING_YET = re.compile(
    r"\b(?:don't|do not|haven't|have not)\s+(?:really\s+)?(?:do|done|use|used|have)\s+"
    r"(?:it|that|this|anything|any)\b(?:[^.?!]{0,12}\b(?:at all|yet)\b)"
)
Q_MEETING = re.compile(
    r"\bwhat (?:day|time)\b|\bwhich (?:day|time)s?\b|\bworks? for you\b|"
    r"\bdoes [\w .:]{0,30} work\b|\bbook\b|\bschedule\b|\bcalendar\b|"
    r"\bslot\b|\binvite\b|\bwould [\w .:]{0,25} work\b"
)
WEEK = re.compile(
    r"\b(?:a|per|each|every|in a|typical) (?:typical |normal |given )?week\b|\bweekly\b"
)
DAY = re.compile(r"\b(?:a|per|each|every|in a|typical) (?:typical |normal |given )?day\b|\bdaily\b")
YEAR = re.compile(r"\b(?:a|per|each|every|in a) year\b|\bannually\b")

AFFIRM = re.compile(
    r"^\W*(?:yes|yeah|yep|yup|ya|exactly|correct|right|that's right|that is right|"
    r"that's correct|sure|uh[- ]huh|mhm|absolutely|definitely|indeed|you got it|"
    r"spot on|bingo)\b"
)

# --- tense and negation around a mention ---------------------------------------------------
NEG_BEFORE = re.compile(
    r"\b(?:not|no|never|don't|do not|didn't|did not|haven't|have not|without|instead of|"
    r"rather than|got rid of|get rid of|dropped|ditched|cancel(?:l)?ed|used to|moved off|"
    r"moved away from|switched from|switched away from|stopped using|quit|left|was on|were on|"
    r"had|tried|trialed|trialled|ask if|asks if|asked if|wondering if|whether|previously|"
    r"formerly|no longer|isn't|aren't|wasn't|weren't|neither|nor|(?:we|i|they) used)\b"
)
NEG_AFTER = re.compile(
    r"\b(?:ago|last year|before that|years back|in the past|back then|"
    r"previously|anymore|any more|before)\b"
)
NEG_NEXT = re.compile(
    r"^\s*(?:and |so |but |then )?(?:we|i|they)\s+(?:\w+\s+)?(?:dropped|ditched|cancel(?:l)?ed|"
    r"got rid of|stopped using|left|switched away from|moved off|quit)\b|\bnever (?:have|used "
    r"it|did)\b|^\s*(?:no,? )?never\b|\bdon't need (?:that|it|those|them)\b|"
    r"\bhandled\b.*\bseparately\b"
)
PRESENT = re.compile(
    r"\b(?:we use|we're using|we are using|i use|i'm using|using|we're on|we are on|i'm on|"
    r"we've been on|we have been on|been using|right now|currently|at the moment|today|came "
    r"with|we pay|we're paying|our \S+ (?:plan|contract|account|subscription|license)|"
    r"everything's in|everything is in|live in|we have|we've got|is what we use|still on|"
    r"still using|we send|we do|we run|through|via|replacing|already (?:have|use|using|on|pay for)|"
    # leaving a tool now means being on it now: "we're moving our proposals off Qwilr"
    r"(?:moving|switching|migrating|getting) (?:[\w']+ ){0,3}?(?:off|away from))\b"
)
MAKER_ONE = re.compile(r"^\s+(?:one|version|product)\b")
# "nicer proposals instead of my Word template": what the caller replaces is what they use.
INSTEAD_OF_MINE = re.compile(
    r"\b(?:instead of|rather than|replace|replacing) (?:my|our) (?:[\w-]+ )?$"
)
EVALUATING = re.compile(
    r"\b(?:also|too|shortlist|short list|front ?runner|finalists?|leaning|evaluating|evaluate|"
    r"trialing|trialling|testing|looking at|"
    r"considering|compar\w*|likes?|liked|loves?|quote|mentioned|heard|"
    r"recommended|bake[- ]?off|next)\b"
)
VERB_BEFORE = re.compile(
    r"\b(?:to|can|could|will|'ll|please|should|must|want|and|i|we|you|they"
    r"|gonna)\s*$"
)
DET_BEFORE = re.compile(r"\b(?:our|the|my|whole|entire|your|their)\s*$")
PAST_CLAUSE = re.compile(
    r"\b(?:ago|last|was|were|did|had|went|got|took|moved|cancel\w*|dropped|"
    r"hired|started|switched|since|used to|back in|left|came)\b|"
    # a past verb, but not "need" or "feed"
    r"\b(?:we|i|they|she|he|you|y'all)\s+(?:\w+\s+)?\w*[^e\W]ed\b|"
    # a perfect tense: "y'all have emailed me six times this week"
    r"\b(?:have|has|'ve)\s+(?:already\s+)?\w*[^e\W]ed\b"
)
CONTRACT_CLAUSE = re.compile(
    r"\b(?:contract|renew\w*|locked|stuck|tied (?:in|into)|runs? (?:through|until|till)|expires?|"
    r"plan ends?)\b"
)
TERM_WORDS = re.compile(
    r"\b(?:contract|agreement|deal|term|subscription|licen[cs]e|renew\w*|year|years|months?|"
    r"until|till|through|thru|expires?|ends?|paid|prepaid|annual|vendor)\b"
)
LOCKED = re.compile(r"\b(?:locked|stuck|tied (?:in|into)|paying for it)\b")
SENTENCE_OR_BUT = re.compile(r"(?<=[.?!])\s+|\bbut\b")
DEADLINE_MARK = re.compile(r"\b(?:at the latest|no later than|latest by)\b")
CALENDAR_HINT = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|spring|summer|fall|autumn|winter|"
    r"christmas|holiday|year|new year|q[1-4]|quarter|month|weeks?|days?|\d+|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)day|first|second|third|[a-z]+(?:fth|xth|nth|hth|"
    r"lfth|ieth|enth)\b)"
)
# A wish about the future makes a past-looking verb a plan: "I'd like us switched over by".
WISH = re.compile(
    r"\b(?:'d like|would like|want|wants|need|needs|will|'ll|going to|gonna|hoping|hope to|"
    r"plan to|have to|has to)\b"
)
DURATION_OF = re.compile(r"\b(?:takes?|took|taking|lasts?|lasted)\s+(?:[\w-]+\s+){0,2}$")
# A negator in the sentence before ("it's no. maybe next year") does not reach the phrase.
NEGATOR_NEAR = re.compile(
    r"\b(?:not|no|isn't|wasn't|aren't|never|n't|hardly)[^\w.?!]+(?:\w+[^\w.?!]+){0,2}$"
)

# --- objections ----------------------------------------------------------------------------
WAIVE = re.compile(
    r"\b(?:not (?:a|any|an|too much of a|much of a|really a) (?:deal[- ]?breaker|concern|problem|"
    r"big deal|issue|worry|priority|hurdle|blocker)|isn't (?:a|an|really a) (?:concern|problem|"
    r"issue|worry|big deal|deal[- ]?breaker)|no problem|not worried|not concerned|that's fine|"
    r"it's fine|"
    r"just a formality|a formality|we can live without|can live with|live without|doesn't matter|"
    r"not an issue|not important|don't care about|no concerns?|not a concern at all)\b"
)
HURDLE = re.compile(
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
LACK_AGENT = re.compile(
    r"\b(?:don't see|do not see|not seeing|not finding|couldn't find|"
    r"can't find|don't have|do not have|doesn't (?:have|support)|no native|"
    r"not (?:able|available|supported)|unfortunately|isn't (?:available|"
    r"supported)|can't confirm|not sure we)\b"
)
APPROVAL_NOUN = re.compile(
    r"^\s*(?:workflows?|rules?|process(?:es)?|flows?|steps?|chains?|"
    r"features?|routing|settings?)\b"
)
USE_NEG = re.compile(r"\b(?:don't|do not|doesn't|does not|won't) need\b|\bnot\b")
EMPHASIS = re.compile(
    r"\b(?:main|mainly|mostly|primarily|big one|bulk|main thing|the thing|biggest)\b"
)
LEARN_MORE = re.compile(r"^\s*more\b")
# "too much back and forth", "too much paperwork": a burden of work, not of money.
TOO_MUCH_WORK = re.compile(
    r"\btoo much (?:back and forth|work|paper\w*|hassle|effort|admin\w*|going on|manual|typing|"
    r"chasing|printing|scanning|time|clicking|stuff|"
    r"for (?:us|me|them) to (?:learn|handle|manage))\b"
)
# "no point paying twice" once a contract is running: the overlap is lock-in, not price.
DOUBLE_PAY = re.compile(r"\bpay(?:ing)? (?:twice|double|for (?:both|two (?:tools|systems)))\b")
# "it doesn't have integrations, but it works with Zapier": a gap already worked around.
WORKED_AROUND = re.compile(
    r"\bbut (?:it|that|we|they)(?: still)? (?:works? with|can (?:use|go through)|connects? "
    r"(?:through|via)|gets? around)\b"
    # "isn't on your integrations list, but our IT consultant says he can connect it"
    r"|\bbut\b[^.?!]{0,50}?\b(?:can|could|will) (?:connect|hook|wire|integrate|build|bridge)\b"
)
# "three of us in compliance send those": the department's name, not a requirement.
DEPARTMENT_BEFORE = re.compile(r"\b(?:in|from|of|run|head|heads|lead|leads)\s+$")
DEPARTMENT_AFTER = re.compile(r"^\s+(?:team|department|dept|officer|staff|people|folks|group)\b")
CONDITION = re.compile(r"\bif\b[^.?!,]*$")
# Price said as a judgement of our pricing, or money next to a hurdle.
PRICE_HIGH = re.compile(
    r"\b(?:price|pricing|cost|costs|it|that|plan|subscription)\s+(?:is|'s|seems|looks|sounds|are)\s+"
    r"(?:[a-z]+\s+){0,3}?(?:high|higher|steep|expensive|a lot|too much)\b"
)
# Cost named next to a burden, in one clause: "money's the problem", "the plan is kind of a
# jump for us", "my bigger concern is cost", "why I'd pay triple".
COST = (
    r"(?:price|prices|pricing|cost|costs|money|budget|budgets|plan|plans|tier|tiers|subscription|"
    r"spend|pay|paying|fees?|bucks|dollars|a seat|per seat|a user|per user|a license)"
)
BURDEN = (
    r"(?:jump|stretch|a lot more|too much|steep|tight|problem|concern|worry|justify|triple|"
    r"double|twice|three times|out of reach|hard to swallow|matters|ridiculous|"
    r"crazy|insane|absurd|outrageous|wince|winced|"
    r"(?:has|have|needs?) to (?:come down|drop|go down|be lower)|come down)"
)
PRICE_BURDEN = re.compile(
    rf"\b{COST}\b(?:[^\w.,;?!]+[\w']+){{0,6}}?[^\w.,;?!]+{BURDEN}\b"
    rf"|\b{BURDEN}\b(?:[^\w.,;?!]+[\w']+){{0,2}}?[^\w.,;?!]+{COST}\b"
)
# The caller's tool of today named without its brand: "our current tool is getting expensive".
CURRENT_THING = re.compile(
    r"\b(?:current|existing|old) (?:tool|system|vendor|provider|software|platform|one)\b"
    r"|\bwhat we (?:have|use) (?:now|today)\b"
)
# "I don't see it anywhere": the caller looked in the product on trial, so it is about us.
SEARCHED = re.compile(r"\b(?:see|find)\b")
NEGATED_SPAN = re.compile(r"\b(?:not|no|never|isn't|aren't|wasn't)\b|n't\b")
# "we're in a contract with DocuSign until February".
IN_CONTRACT = re.compile(
    r"\b(?:in|under|signed|into)\s+(?:a|an|our|the)\s+(?:[\w-]+\s+){0,2}?"
    r"(?:contract|agreement|commitment|deal)\b[^.?!]{0,50}?\b(?:until|till|through|thru|ends?|"
    r"expires?|runs? out|renews?)\b"
)
# A timing word used as a date anchor ("after our busy season") schedules, it does not object.
TIME_ANCHOR = re.compile(
    r"\b(?:after|once|when|until|following|before)\s+(?:the\s+|our\s+|my\s+)?$"
)
PAST_STATE = re.compile(r"\b(?:was|were|had been)\s+(?:just\s+|really\s+|a\s+)?$")
NOT_PRODUCT = re.compile(
    r"\b(?:pricing|price|plans?|billing) (?:page|sheet|table|site)\b|\bwebsite\b"
)
NO_TIME = re.compile(
    r"\b(?:no|nobody has|no one has|don't have|haven't got|not have) (?:the )?time\s+$"
)
# Without a when ("no time to learn all these settings") the burden is the learning itself.
WHEN_WORD = re.compile(
    r"\b(?:then|now|right now|this (?:week|month|season|quarter|year|term)|until|till|season|"
    r"peak|busy|during|before|after)\b"
)
# Asked what holds them back, the caller answers with the cost itself: "honestly, price."
HURDLE_ASKED = re.compile(
    r"\b(?:hold(?:ing)? you back|concerns?|hesitat\w*|worr\w*|blockers?|stop(?:ping)? you|"
    r"hurdles?|in the way|give you pause)\b[^.?!]*\?\s*$"
)
NAMED_HURDLE = re.compile(
    r"^(?:(?:honestly|well|um|uh|so|probably|mostly|just)[, ]+){0,2}(?:the )?"
    r"(?:price|pricing|cost|money|budget)(?:,? mostly| really)?\s*[.!,;]"
)
# A move the caller plans ("we'd want to migrate this quarter") is no cost they fear.
PLANNED = re.compile(
    r"\b(?:want|wants|like|plan|planning|ready|hoping|hope|looking|going|gonna|able)\s+to\s+$"
)
MONEY = re.compile(
    r"\b(?:pay|paying|paid|price|pricing|cost|costs|money|budget|afford|free for us|"
    r"dollars?|bucks)\b"
)

# A burden judged about something priced: "that's a lot for one person", "is a bit steep".
BIG_JUDGE = re.compile(
    r"\b(?:that's|that is|it's|it is|is|seems|sounds)\s+(?:\w+\s+)?(?:a lot of money|a lot|"
    r"too much|steep|ridiculous|crazy|insane|a stretch)\b(?!\s+(?:of|more|less|\w+er)\b)"
    # refusing to pay is the judgement itself: "we won't pay that"
    r"|\b(?:i|we)(?:'m| am|'re| are)? (?:won't|will not|wouldn't|not going to|not gonna) "
    r"(?P<refuse>pay)\b"
)
# What makes that judgement about a price: money named in the turn, a price the caller states
# ("if it's thirty-something a month"), or a price the agent just quoted.
PRICE_CONTEXT = re.compile(
    r"\$|\b(?:dollars?|bucks|money|per (?:user|seat|month)|a (?:seat|user|license)|pricing|price|"
    r"cost)\b"
    r"|\b(?:it's|it is|is|at|costs?|pay|for)\s+(?:\w+\s+)?(?:\d+|[a-z]+ty(?:-something)?)\s+"
    r"(?:a|per)\s+(?:month|year|seat|user)\b"
)

BUSINESS_NOUN = (
    r"(?:company|business|firm|shop|agency|practice|studio|outfit|startup|provider|operation|"
    r"store|distributor|group|chain|franchise|brokerage)"
)
OWN_BUSINESS = re.compile(
    r"\b(?:we're|we are|i'm|i am|i own|i run|we run|i have|we have|i work (?:for|at))\s+"
    rf"(?:a|an)\s+(?:[\w-]+\s+){{0,3}}?{BUSINESS_NOUN}\b"
    # "I'm the HR director for a restaurant group"
    rf"|\bi(?:'m| am) (?:the |an? )?[\w -]{{2,30}}? (?:for|at) (?:a|an) (?:[\w-]+\s+){{0,3}}?"
    rf"{BUSINESS_NOUN}\b"
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
CUSTOMER_BEFORE = re.compile(
    r"(?:\b(?:for(?!\s+(?:our|my)\b)|serving|serve|mostly|clients|customers|clientele|sell to|"
    r"work with)\s+"
    r"(?:[\w-]+\s+){0,3}|\bit\s+)$"
)
# The caller says what the business is: industry words there name it ("we're a SaaS platform
# for landlords": SaaS, not real estate, which is who they sell to).
IDENTITY = re.compile(r"\b(?:we're|we are|i'm|i am|i run|i own|we run)\s+(?:an?|the)\s+")
IDENTITY_END = re.compile(r"\b(?:for|to|serving|with|that|who|and)\b|[.,;?!]")

# --- authority -----------------------------------------------------------------------------
THIRD_PARTY = re.compile(
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
CHOOSE_ASKED = re.compile(r"\b(?:can|could|get to|will|would)\s+(?:\w+\s+)?(?:pick|choose)\b")
APPROVAL_VERBS = (
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
OTHERS_APPROVAL = re.compile(
    r"\b(?:needs?|requires?|get|getting)\s+(?!my\b|your\b|to\b)(?:[\w']+\s+){1,4}?"
    r"(?:approval|sign[- ]?off|okay|blessing|go[- ]ahead)\b"
)
CHECK_WITH = re.compile(
    r"\b(?:check|run (?:it|this|that)|clear (?:it|this|that)|bring (?:it|this|that)|"
    r"take (?:it|this|that))\s+(?:with|by|past|to)\s+(?:my|our)\s+(?:[\w-]+\s+){0,2}?"
    r"(?:boss|manager|cfo|ceo|coo|cro|cto|owners?|founders?|partners?|board|director|"
    r"president|vp|head of [\w-]+|supervisor|finance|procurement|legal)\b"
)
# People who approve the document itself, not the purchase.
RECIPIENT = re.compile(
    r"\b(?:customers?|clients?|buyers?|recipients?|signers?|patients?|parents?|tenants?|"
    r"borrowers?|candidates?|homeowners?|counterpart(?:y|ies)|the other side)\b"
)
NOBODY = re.compile(r"\b(?:nobody|no one|no-one|none of)\b[\w\s']*$")
# A buying process the caller cannot skip: "it has to go through procurement", "I can't buy
# anything myself".
GATEKEEPER = re.compile(
    r"\b(?:has|have|had|needs?|would need|must) to go through (?:[\w'-]+\s+){0,3}?(?:procurement|"
    r"purchasing|legal|finance|the board|it|security review|approval|a review|committee)\b"
    r"|\b(?:has|have|needs?|would need|must) to go (?:to|before|past|up to) (?:the |my |our )?"
    r"(?:board|cfo|ceo|owners?|partners?|committee|finance|procurement|leadership|council|"
    r"trustees|boss|director)\b"
    r"|\bi(?: can't| cannot| couldn't| am not allowed to|'m not allowed to) (?:just )?"
    r"(?:buy|purchase|sign|approve|say yes|commit|spend)\b"
)
# Approval named as a burden: it is a hurdle even when it answers "who decides?".
APPROVAL_BURDEN = re.compile(
    r"\b(?:real|big|extra|long|slow|separate) (?:step|process|hurdle|review)\b|"
    r"\btakes? (?:\w+ ){0,2}(?:weeks|months)\b|\breads? everything\b|\bcan't just\b|"
    r"\b(?:the )?hard(?:est)? part\b|\btough (?:on|about)\b"
)
# Cheap literal tests that let most turns skip the longer patterns below them.
APPROVER_HINT = re.compile(
    r"approval|sign[- ]?off|okay|blessing|ahead|\b(?:with|by|past|to) (?:my|our) "
)
# The caller has to win someone over: a hurdle, even when it answers "who decides?".
MUST_CLEAR = re.compile(
    r"\b(?:i|we)(?:'d| would| will|'ll)?\s+(?:need|have)\s+to\s+(?:get|run|check|bring|take|"
    r"clear|convince|loop|pitch|sell)\b"
    # "I'd need our CFO to sign off": someone else's yes the caller must still obtain
    r"|\b(?:i|we)(?:'d| would| will|'ll)?\s+(?:need|have to get)\s+(?:my|our|the)\s+"
    r"(?:[\w-]+\s+){1,2}?"
    r"to\s+(?:sign off|approve|okay|ok|bless|green[- ]?light)\b"
)
# The caller does the legwork for someone else's decision: "I'm running the evaluation".
SELF_EVALUATES = re.compile(
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
ASKED_TO_LOOK = re.compile(
    r"\b(?:asked|told|wants|needs) me to (?:look|find|research|evaluate|check|test|try|scope)"
    r"|\btesting it (?:out )?for (?:her|him|them|my boss)\b"
)
# The caller decides, said in words that name no title: "it's just me deciding", "I've got
# budget authority", "it's my shop".
SELF_DECIDES = re.compile(
    r"\b(?:just |only )?me (?:deciding|who decides|making (?:the|that) (?:call|decision))\b"
    r"|\bi(?: have|'ve| hold| own| control| manage| run)(?: got)? the (?:budget|purse ?strings)\b"
    r"|\bi can (?:approve|sign off on|buy|sign for|okay) (?:anything|purchases|spend\w*) "
    r"(?:under|up to|below|less than)\b"
    r"|\bi(?:'ve| have)?(?: got)? (?:full |the )?(?:budget|purchasing|spending|signing) "
    r"(?:authority|power)\b|\bi sign the checks\b"
    rf"|\bit's (?:all |just )?my (?:own )?(?:{BUSINESS_NOUN[3:-1]}|money|budget|call)\b"
)
# Shared decisions: "me and my co-founder decide together" keeps the caller a decision maker.
JOINT = re.compile(
    r"\b(?:me|i) and (?:my |our )?[\w-]+(?: [\w-]+)? (?:decide|make the (?:call|decision)|"
    r"sign off|approve)\b|\bwe (?:both )?decide\b|\bdecide together\b"
)
ANSWER_ME = re.compile(
    r"^\W*(?:me\b|that's me|that is me|that'd be me|that would be me|"
    r"myself|i do\b|i am\b|i will\b|yes\b|yep\b|yeah\b|i'm the one)"
)
NOT_ME = re.compile(r"\bnot me\b|^\W*no\b")
TITLE_DM = re.compile(
    r"\bi(?:'m| am) (?:the |a |an |one of the (?:[a-z]+ )?)?(?:owner|co-?owner|founder|"
    r"co-?founder|ceo|coo|president|principal|managing (?:partner|broker|attorney|director|"
    r"member))s?\b|\bi own (?!the budget)\w+|\b(?:budget|decisions?|calls?|money)(?: is| are|'s)"
    r" (?:all )?mine\b"
)
# The caller approves or pays without asking anyone: "I can sign off on this myself".
SELF_APPROVES = re.compile(
    r"\bi(?: can| could| will|'ll| get to)?\s+(?:just\s+)?(?:sign off on|sign for|approve|"
    r"green[- ]?light|okay) (?:this|it|that|the (?:purchase|spend))\b"
    r"|\bi(?: can| will|'ll)\s+(?:just\s+)?(?:put it on (?:the|my|our|a) (?:company )?"
    r"(?:card|credit card|amex)|expense it|pay for it)\b"
)

DECIDER = re.compile(
    r"\b(?:(?:our|my|the) (?:cfo|ceo|cro|coo|cto|founders?|partners?|board|"
    r"boss|manager|owner|procurement(?: office)?|legal(?: team)?|finance(?: team)?)|"
    r"(?:to|by) ([a-z]+), (?:he|she)(?:'s| is)? (?:the |our )?\w+)\b"
)
NEXT_STEP = re.compile(
    r"\b(?:send (?:me|it|that|the|over)|email me|just email|follow up|"
    r"circle back|call me|set up a (?:call|demo|meeting)|demo|walk through|"
    r"trial|pricing for|quote for)\b"
)

TEAM_Q_PEOPLE_LOOKAHEAD = 3
