"""What a class for each topic is like, in a few careful sentences (no medical promises)."""

GP_NOTE = (
    "Infant massage is not a treatment. If you are worried about your baby's health, "
    "talk to your health visitor or doctor first, and tell the instructor about any "
    "health concerns before the class."
)

TOPIC_TEXT: dict[str, tuple[str, ...]] = {
    "colic": (
        "Many parents come to infant massage when their baby is unsettled with wind or "
        "seems uncomfortable after feeds.",
        "A class for colic and digestion spends more time on the gentle tummy strokes and "
        "leg movements that many parents find soothing, and on reading when a baby has had "
        "enough. Some babies seem more comfortable afterwards and some do not; every baby "
        "is different.",
    ),
    "sleep": (
        "Some parents use massage as a calm part of their baby's bedtime routine.",
        "A class with a focus on sleep practises a short, quiet sequence you can use in the "
        "evening, and talks about settling cues. It cannot promise longer sleep, but many "
        "parents value the time together at the end of the day.",
    ),
    "premature": (
        "Babies born early often need a gentler start to touch, and their parents may have "
        "spent weeks with them in a neonatal unit.",
        "A class for premature babies uses still, resting touch and very light strokes, "
        "follows the baby's corrected age and cues, and goes at the baby's pace. Please check "
        "with your neonatal team, health visitor or doctor that massage is right for your "
        "baby now.",
    ),
    "additional-needs": (
        "Babies with additional needs - for example Down syndrome, cerebral palsy or "
        "differences in sensory processing - may enjoy touch in their own way.",
        "These classes are smaller and slower, with strokes and positions adapted to each "
        "baby, and room to stop, feed or cuddle at any time. Tell the instructor about your "
        "baby beforehand so they can plan; your baby's therapists may also have advice.",
    ),
    "adoptive-foster": (
        "For adoptive parents and foster carers, massage can be one quiet way of getting to "
        "know a baby who is new to your family.",
        "The class goes gently, always asks the baby's permission first and respects a baby "
        "who is not ready for touch. Carers are welcome without sharing anything about the "
        "baby's story.",
    ),
    "dads": (
        "A class for dads and co-parents, often at a time that fits around work.",
        "You learn the same strokes as in any class, among other dads and co-parents, and "
        "leave with a routine of your own with your baby.",
    ),
    "grandparents": (
        "A class for grandparents who look after a grandchild, or who would like to learn "
        "alongside the parents.",
        "The strokes are the same; the pace leaves time for questions, and positions can be "
        "adapted for anyone who finds sitting on the floor difficult.",
    ),
    "twins": (
        "A class for parents of twins (and more), with room and time for two babies.",
        "You learn to massage one baby while the other watches or rests, and how to do both "
        "when there are two adults. Twins are two places: book one for each baby.",
    ),
}
