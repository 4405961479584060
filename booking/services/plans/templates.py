"""The product's library of plan templates: what each week of a course teaches.

A template is copied into a workshop's sessions (booking.services.plans.apply), week n
into session n, and is then the workshop's own to edit: nothing here changes when a
session's plan does. Each week has a title (shown on the class page, in calendars and
on the register), what the session covers, and its home practice: the week's strokes
in plain words, how firm, and for how long. What every sheet says anyway (when not to
massage, the cues that mean stop) is added to the practice sheet, not repeated here.

`plan_slug` is the one rule for a `plan` field, shared by the schedule import, the
staff API and the staff pages.
"""

from dataclasses import dataclass

from booking.models.workshop import KIND_COURSE, KIND_SINGLE
from booking.services.schedule.fields import FieldError, blank

# The longest a session plan's parts may be (the title is a column of that length).
MAX_PLAN_TITLE = 120
MAX_PLAN_COVERS = 2000
MAX_PLAN_PRACTICE = 6000


@dataclass(frozen=True)
class WeekPlan:
    """One week of a template: its title, what it covers and its home practice."""

    title: str
    covers: str
    practice: str


@dataclass(frozen=True)
class PlanTemplate:
    """A plan for a whole course or single class, week by week."""

    slug: str
    name: str
    kind: str
    description: str
    weeks: tuple[WeekPlan, ...]


def _lines(*paragraphs: str) -> str:
    """Paragraphs of a practice text, separated by a blank line."""
    return "\n\n".join(paragraphs)


ASK_FIRST = (
    "Ask first: warm a little oil between your hands, show your baby your open palms and "
    "tell them you are about to start. If they look at you and stay relaxed, go ahead; if "
    "they turn away, try another time."
)

LEGS_AND_FEET = WeekPlan(
    title="Week 1: legs and feet",
    covers=(
        "Getting ready at home: a warm room, a towel, a little oil, and asking your baby "
        "first. Then the legs and feet, where most babies are happiest to be touched."
    ),
    practice=_lines(
        ASK_FIRST,
        "Milking strokes: hold one ankle lightly, wrap your other hand around the top of "
        "the thigh and glide down to the ankle. Swap hands and repeat, one hand after the "
        "other, six to eight times on each leg.",
        "Kneading: gently squeeze and roll the thigh, then the calf, between your fingers "
        "and thumb, working down the leg.",
        "Feet: stroke the sole from heel to toes with your thumbs, one after the other. "
        "Press each toe gently and let go, then make small circles around the ankle bones.",
        "Long strokes to finish: smooth both hands from the hips down to the toes three or "
        "four times.",
        "How firm: firm enough not to tickle, light enough that your baby stays relaxed, "
        "about the pressure you would use to rub cream into your own face.",
        "How long: five to ten minutes, once a day, at a calm time. Stop sooner if your "
        "baby has had enough.",
    ),
)

TUMMY = WeekPlan(
    title="Week 2: tummy, for wind and colic",
    covers=(
        "Strokes on the tummy that help wind move along and can ease colic, and the "
        "knees-to-tummy hold. Why we always go clockwise, and when to leave the tummy "
        "alone."
    ),
    practice=_lines(
        "Wait at least an hour after a feed. Start with the legs from week 1, so your "
        "baby is settled before you reach the tummy.",
        "Resting hands: rest one warm, flat hand on the tummy for a few slow breaths "
        "before you begin.",
        "Paddling: with the little-finger side of your hands, one hand after the other, "
        "smooth down the tummy from just under the ribs to the top of the legs, like a "
        "paddle wheel turning. Six times.",
        "Circular strokes: with the flat of your fingers, make slow circles clockwise "
        "around the belly button, the way food travels through the gut. Six to eight "
        "circles, never the other way.",
        "Knees to tummy: hold both lower legs, gently bring the knees up towards the "
        "tummy, hold for a count of five, then let the legs stretch out with a little "
        "wiggle. Three times. Some wind often comes out here.",
        "How firm: light to moderate, with flat, relaxed hands. Never press under the "
        "ribs, and leave the tummy alone if it is hard or your baby draws their legs up "
        "in pain.",
        "How long: about five minutes, once or twice a day. If your baby is unsettled in "
        "the evening, try it before that time rather than in the middle of the crying.",
    ),
)

CHEST_AND_ARMS = WeekPlan(
    title="Week 3: chest and arms",
    covers=(
        "Opening strokes across the chest, then the arms and hands, which many babies keep "
        "tucked in at first. Going at your baby's pace when they are less sure."
    ),
    practice=_lines(
        "Open book: place both hands flat in the middle of the chest and smooth them out "
        "to the sides, as if flattening the pages of a book, then bring them back round "
        "to the middle in a heart shape. Four to six times.",
        "Cross-over: one hand at a time, stroke from the side of the ribs diagonally up "
        "to the opposite shoulder and back down. Take turns with each hand, four times "
        "each.",
        "Arms: the same milking strokes as the legs, from the shoulder down to the wrist, "
        "then gentle kneading down the arm. If your baby keeps an arm tucked in, stroke "
        "the shoulder and try again later.",
        "Hands: if the fist is closed, stroke the back of the hand and it often opens. "
        "Then roll each finger gently between your finger and thumb.",
        "How firm: light on the chest, as firm as the legs on the arms.",
        "How long: five to ten minutes. Add the legs and tummy when your baby enjoys it.",
    ),
)

FACE_AND_BACK = WeekPlan(
    title="Week 4: face and back",
    covers=(
        "Small, light strokes on the face, which can help with teething and a blocked "
        "nose, and long soothing strokes on the back, with your baby on their tummy or "
        "across your lap."
    ),
    practice=_lines(
        "Face: use the pads of your thumbs and little or no oil, away from the eyes. "
        "Stroke from the middle of the forehead out to the temples; along the eyebrows; "
        "from the sides of the nose out over the cheeks, like a smile; then small circles "
        "along the jaw. Three times each.",
        "Back: lay your baby on their tummy on the mat or across your legs, only if they "
        "enjoy tummy time. Place both hands across the back and move them to and fro in "
        "opposite directions, working down from the shoulders to the bottom.",
        "Long strokes: one hand rests on the bottom while the other strokes slowly from "
        "the neck down to the bottom, and then on to the feet. Six times.",
        "Small circles: with your fingertips, make small circles on either side of the "
        "spine, never on the spine itself, from the shoulders down.",
        "How firm: very light on the face; firmer and slower on the back.",
        "How long: a minute or two for the face, about five minutes for the back. Stop "
        "if your baby lifts their head and fusses.",
    ),
)

WHOLE_ROUTINE = WeekPlan(
    title="Week 5: the whole routine",
    covers=(
        "Putting it all together into one massage from legs to back, and making it your "
        "own: what to keep when time is short, and how the routine changes as your baby "
        "grows, rolls and starts to move."
    ),
    practice=_lines(
        "The order: legs and feet, tummy, chest, arms and hands, face, then back. About "
        "fifteen to twenty minutes when your baby is happy to keep going.",
        "Short on time: the legs and tummy alone take five minutes and still count.",
        "Finish every time with a few long strokes from head to toes and a cuddle.",
        "How firm: as you learned each week. A little firmer as your baby grows is fine, "
        "as long as they stay relaxed.",
        "How often: once a day is plenty. Some families like it after the bath, others "
        "before a nap. A baby who rolls away can be massaged sitting on your lap or "
        "lying beside you: follow them rather than holding them still.",
    ),
)

FOUR_WEEK_UPPER = WeekPlan(
    title="Week 3: chest, arms and face",
    covers=(
        "Opening strokes across the chest, the arms and hands, and a few small, light "
        "strokes on the face."
    ),
    practice=_lines(
        "Open book: both hands flat in the middle of the chest, smooth them out to the "
        "sides and back round to the middle in a heart shape. Four to six times.",
        "Arms: milking strokes from the shoulder down to the wrist, then gentle kneading "
        "down the arm. Stroke the back of a closed fist and it often opens; roll each "
        "finger gently.",
        "Face: with your thumbs and little or no oil, stroke from the middle of the "
        "forehead out to the temples, then from the nose out over the cheeks, like a "
        "smile. Three times each.",
        "How firm: light on the chest and very light on the face; the arms as firm as "
        "the legs.",
        "How long: five to ten minutes. Add the legs and tummy when your baby enjoys it.",
    ),
)

FOUR_WEEK_LAST = WeekPlan(
    title="Week 4: back and the whole routine",
    covers=(
        "Long soothing strokes on the back, then the whole routine from legs to back in "
        "one go, with what to keep when time is short."
    ),
    practice=_lines(
        "Back: with your baby on their tummy on the mat or across your legs, move both "
        "hands to and fro across the back from the shoulders to the bottom, then stroke "
        "slowly from the neck to the feet while your other hand rests on the bottom.",
        "The whole routine: legs and feet, tummy, chest, arms and hands, face, then back. "
        "About fifteen minutes when your baby is happy to keep going.",
        "Short on time: the legs and tummy alone take five minutes and still count.",
        "How firm: firmer and slower on the back; otherwise as you learned each week.",
        "How often: once a day is plenty. Finish with a few long strokes from head to "
        "toes and a cuddle.",
    ),
)

COLIC_SINGLE = WeekPlan(
    title="Tummy massage for wind and colic",
    covers=(
        "The tummy strokes that help trapped wind move along and can ease the evening "
        "crying of colic, the knees-to-tummy hold, and how to tell when your baby has had "
        "enough."
    ),
    practice=_lines(
        "Wait at least an hour after a feed, and start with a few long strokes down "
        "the legs so your baby is settled.",
        "Resting hands: rest one warm, flat hand on the tummy for a few slow breaths.",
        "Paddling: one hand after the other, smooth down the tummy from just under the "
        "ribs to the top of the legs. Six times.",
        "Circular strokes: slow circles with the flat of your fingers, clockwise around "
        "the belly button, the way food travels. Six to eight circles.",
        "Knees to tummy: bring both knees gently up towards the tummy, hold for a count "
        "of five, then let the legs stretch out. Three times.",
        "How firm: light to moderate, with flat hands; never press under the ribs.",
        "How long: about five minutes, once or twice a day, for a week or two. It helps "
        "most before the fussy time of day rather than in the middle of it.",
        "If your baby cries for long spells, is not feeding well, has a temperature or is "
        "sick, talk to your health visitor or GP.",
    ),
)

STILL_TOUCH = WeekPlan(
    title="Week 1: still touch and containment holds",
    covers=(
        "Before any strokes: resting your hands still on your baby, and holds that help "
        "them feel safe and gathered in, as many did in the neonatal unit. The small signs "
        "of a baby who is comfortable, and of one who needs a break."
    ),
    practice=_lines(
        "Containment hold: cup one hand around the top of your baby's head and rest the "
        "other over the feet or across the tummy, gently bringing the arms and legs in "
        "towards the middle. Keep still and breathe slowly.",
        "Still touch: rest a warm, flat hand on the tummy or the back without moving it.",
        "How firm: steady and still, like a warm blanket. No stroking and no oil this "
        "week.",
        "How long: one to five minutes, once or twice a day, when your baby is awake and "
        "calm. Go by your baby's corrected age and anything your neonatal team advised.",
    ),
)

PREMATURE_LEGS = WeekPlan(
    title="Week 2: gentle legs and feet",
    covers=(
        "The first slow strokes, on the legs and feet, always starting and ending with a "
        "still hold."
    ),
    practice=_lines(
        "Begin with the containment hold from week 1 until your baby is settled.",
        "Long strokes: with a flat, relaxed hand, stroke slowly down one leg from the hip "
        "to the foot. Three or four times, then the other leg.",
        "Feet: hold a foot in your hand and press your thumb gently into the sole, hold, "
        "and let go.",
        "How firm: light but definite. A feather-light touch can tickle and unsettle a "
        "baby born early.",
        "How long: about five minutes. End with your hands resting still, and stop at the "
        "first sign of a break: looking away, hiccups, spread fingers or a change of "
        "colour.",
    ),
)

PREMATURE_TUMMY = WeekPlan(
    title="Week 3: tummy and chest, slowly",
    covers=(
        "Resting hands and slow clockwise circles on the tummy, and an open-hand stroke on "
        "the chest, adding one new stroke at a time."
    ),
    practice=_lines(
        "Start with still touch: one warm hand resting on the tummy.",
        "Circular strokes: with the flat of two or three fingers, one slow circle "
        "clockwise around the belly button, then rest. Up to four circles.",
        "Chest: rest both hands in the middle of the chest and smooth them slowly out to "
        "the sides, then rest again.",
        "How firm: light, slow and steady; wait at least an hour after a feed.",
        "How long: three to five minutes, adding the legs from week 2 when your baby is "
        "happy. One new stroke at a time is plenty.",
    ),
)

PREMATURE_LAST = WeekPlan(
    title="Week 4: arms, back and a short routine",
    covers=(
        "The arms and hands, a still hand and slow strokes on the back, and a short "
        "routine of the strokes your baby enjoys, to grow with them at home."
    ),
    practice=_lines(
        "Arms: slow long strokes from the shoulder down to the hand, then stroke the back "
        "of the hand so the fingers can open.",
        "Back: with your baby on your chest or across your lap, rest a still hand on the "
        "back, then stroke slowly from the neck to the bottom. Four times.",
        "A short routine: a still hold, the legs, the tummy, the arms, then a still hold "
        "again. Leave out anything your baby does not enjoy yet and try it in a few weeks.",
        "How firm: light but definite, always slow.",
        "How long: five to ten minutes, once a day, at your baby's pace. As your baby "
        "grows, the strokes from the full course can be added one at a time.",
    ),
)

TEMPLATES: tuple[PlanTemplate, ...] = (
    PlanTemplate(
        slug="five-week-course",
        name="Five-week course",
        kind=KIND_COURSE,
        description="The full routine one part a week: legs and feet, tummy, chest and "
        "arms, face and back, then the whole massage.",
        weeks=(LEGS_AND_FEET, TUMMY, CHEST_AND_ARMS, FACE_AND_BACK, WHOLE_ROUTINE),
    ),
    PlanTemplate(
        slug="four-week-course",
        name="Four-week course",
        kind=KIND_COURSE,
        description="The full routine in four weeks: legs and feet, tummy, chest, arms "
        "and face, then the back and the whole massage.",
        weeks=(LEGS_AND_FEET, TUMMY, FOUR_WEEK_UPPER, FOUR_WEEK_LAST),
    ),
    PlanTemplate(
        slug="colic-single",
        name="Colic and wind single session",
        kind=KIND_SINGLE,
        description="One session on the tummy strokes that help with wind and colic.",
        weeks=(COLIC_SINGLE,),
    ),
    PlanTemplate(
        slug="premature-baby-course",
        name="Premature baby course",
        kind=KIND_COURSE,
        description="A gentler four weeks for babies born early: containment holds and "
        "still touch first, then slow strokes one part at a time.",
        weeks=(STILL_TOUCH, PREMATURE_LEGS, PREMATURE_TUMMY, PREMATURE_LAST),
    ),
)

_BY_SLUG = {template.slug: template for template in TEMPLATES}


def template_slugs() -> tuple[str, ...]:
    """The templates' slugs, in the library's order."""
    return tuple(template.slug for template in TEMPLATES)


def get_template(slug) -> PlanTemplate | None:
    """The template with that slug (spaces and case ignored), or None."""
    if not isinstance(slug, str):
        return None
    return _BY_SLUG.get(slug.strip().lower())


def unknown_plan_message(value) -> str:
    """The refusal of a slug that names no template, listing the ones that do."""
    shown = value.strip() if isinstance(value, str) else repr(value)
    return f"There is no plan template {shown!r}; use one of: {', '.join(template_slugs())}."


def plan_slug(value) -> str:
    """The `plan` field: a template slug, or "" when blank (no template).

    Raises FieldError naming the known slugs otherwise."""
    if blank(value):
        return ""
    template = get_template(value)
    if template is None:
        raise FieldError(unknown_plan_message(value))
    return template.slug


def known_plan_slug(value) -> str:
    """A template's slug exactly as the library spells it (the API's `plan`); raises
    FieldError naming the known slugs otherwise."""
    if not isinstance(value, str) or value not in _BY_SLUG:
        raise FieldError(unknown_plan_message(value))
    return value


def plan_fits(template: PlanTemplate, kind: str) -> str | None:
    """Why a template does not suit a workshop of that kind, or None when it does."""
    if template.kind == kind:
        return None
    fitting = ", ".join(t.slug for t in TEMPLATES if t.kind == kind)
    what = "a single class" if template.kind == KIND_SINGLE else "a course"
    return f"{template.slug} is a plan for {what}; use one of: {fitting}."
