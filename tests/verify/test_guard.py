"""The grounding guard on its own: made-up passages, the deterministic hashing embedder, no index."""

import pytest

from assistant.index.embedder import HashingEmbedder
from assistant.records import Hit
from assistant.verify.guard import Guard, find_verbatim, strip_markers

PASSAGE = ("In Rotherham 148 children were discharged from care in 2018, and the Panel noted that "
           "adoption orders had risen since the previous year.")


def _hit(text: str = PASSAGE, council: str = "Rotherham Metropolitan Borough Council") -> Hit:
    return Hit("c1", text, {"source_id": "s1", "council": council, "council_key": "rotherham",
                            "meeting_date": "2018-11-05"}, 1.0)


@pytest.fixture
def guard() -> Guard:
    return Guard(HashingEmbedder(), ["rotherham", "sefton"])


def test_a_verbatim_sentence_is_supported_with_its_quote(guard):
    verdict = guard.check(PASSAGE, [_hit()])
    assert verdict.supported and verdict.reason == "verbatim" and verdict.quote == PASSAGE
    bulleted = _hit("2. " + PASSAGE)  # a copy that leaves out the item's enumerator is still the whole sentence
    assert guard.check(PASSAGE.rstrip("."), [bulleted]).reason == "verbatim"


def test_a_copied_fragment_is_judged_like_any_other_sentence(guard):
    # Part of a sentence is not passed at sight: the words left out may deny it, or be part of its number.
    fragment = guard.check("148 children were discharged from care in 2018", [_hit()])
    assert fragment.supported and fragment.reason != "verbatim" and fragment.quote == PASSAGE
    denied = _hit("The Panel did not accept that adoption orders had risen since the previous year.")
    assert not guard.check("Adoption orders had risen since the previous year.", [denied]).supported
    rejected = _hit("Members rejected the suggestion that the Council should close the Elm Road children's home.")
    assert not guard.check("The Council should close the Elm Road children's home.", [rejected]).supported
    assert not guard.check("48 children were discharged from care in 2018", [_hit()]).supported
    assert find_verbatim(PASSAGE, "48 children") is None and find_verbatim(PASSAGE, "148 children")


def test_a_figure_given_as_a_vague_amount_is_unsupported(guard):
    hit = _hit("Only 28.5% of reports were available 3 days before child protection conferences.")
    for claim in ("Most reports were available 3 days before child protection conferences.",
                  "Nearly all reports were available 3 days before child protection conferences."):
        verdict = guard.check(claim, [hit])
        assert not verdict.supported and "amount" in verdict.reason
    kept = _hit("All 45 children in care had a plan.")  # an amount word the minutes use themselves
    assert guard.check("All children in care had a plan, 45 of them.", [kept]).reason != \
        "gives as an amount what the cited minutes state as a figure"


def test_a_claim_about_one_council_takes_no_figure_from_another_councils_item(guard):
    sefton = Hit("c2", "The annual report on children in care in Sefton was received.",
                 {"source_id": "s2", "council": "Sefton Council", "council_key": "sefton"}, 1.0)
    verdict = guard.check("In Sefton, 148 children were discharged from care in 2018.", [_hit(), sefton])
    assert not verdict.supported and "about sefton" in verdict.reason
    both = guard.check("In Rotherham 148 children were discharged from care in 2018.", [_hit(), sefton])
    assert both.supported


def test_a_link_or_image_the_minutes_do_not_hold_is_unsupported(guard):
    verdict = guard.check("In Rotherham 148 children were discharged ![](https://evil.example/c.png) in 2018.",
                          [_hit()])
    assert not verdict.supported and "links" in verdict.reason


def test_an_ofsted_grade_moved_up_the_scale_loses_support():
    from assistant.verify.guard import _flips_direction

    assert _flips_direction("Ofsted judged the service outstanding.", "Ofsted judged the service inadequate.")
    assert _flips_direction("Ofsted judged the service good.", "Ofsted judged the service inadequate.")
    assert not _flips_direction("Ofsted judged the service good.", "Ofsted judged the service good.")


@pytest.mark.parametrize("claim, source", [
    ("Ofsted rated the service good.", "Ofsted judged the service as requires improvement to be good."),
    ("Ofsted judged the service to require improvement.", "Ofsted judged the service good."),
    ("The plan was on track.", "Members heard the plan was off track."),
])
def test_a_two_word_grade_or_state_swapped_for_another_loses_support(claim, source):
    from assistant.verify.guard import _flips_direction

    assert _flips_direction(claim, source)


@pytest.mark.parametrize("claim, source", [
    ("The service requires improvement.", "Ofsted judged the service as requires improvement to be good."),
    ("The action plan is on track.", "Members heard the action plan was on track."),
    ("The council aims to move from requires improvement to good.", "The aim is to move from requires "
                                                                     "improvement to good by 2025."),
])
def test_the_same_grade_or_state_keeps_support(claim, source):
    from assistant.verify.guard import _flips_direction

    assert not _flips_direction(claim, source)


@pytest.mark.parametrize("claim, reason", [
    ("In Rotherham 184 children were discharged from care in 2018.", "figure 184"),
    ("In Rotherham 148 children were discharged from care in 2019.", "2019"),
    ("In Sefton 148 children were discharged from care in 2018.", "names sefton"),
])
def test_a_changed_figure_year_or_council_is_unsupported(guard, claim, reason):
    verdict = guard.check(claim, [_hit()])
    assert not verdict.supported
    assert reason in verdict.reason


def test_a_sentence_without_a_citation_is_unsupported(guard):
    assert guard.check("148 children were discharged.", []).reason == "no citation"


def test_markers_are_stripped_and_read_in_order():
    assert strip_markers("Adoption orders rose [2][1, 2].") == ("Adoption orders rose.", (2, 1))
    assert strip_markers("Adoption orders rose [ 2 ].") == ("Adoption orders rose.", (2,))


def test_verbatim_matching_ignores_white_space_and_case():
    text = "The Panel\u00a0noted   that\nadoption orders had risen."
    span = find_verbatim(text, "the panel noted that adoption orders")
    assert span is not None and span.of(text).startswith("The Panel")


@pytest.mark.parametrize("kind", ["file", "empty folder", "folder of another kind"])
def test_an_nli_setting_that_holds_no_model_is_named_when_it_is_loaded(tmp_path, kind):
    from assistant.errors import ConfigError
    from assistant.verify.guard import CrossEncoderNLI

    path = tmp_path / "nli"
    if kind == "file":
        path.write_text("not a model")
    else:
        path.mkdir()
        if kind == "folder of another kind":
            (path / "config.json").write_text('{"model_type": "no-such-architecture"}')
    nli = CrossEncoderNLI(str(path))
    with pytest.raises(ConfigError, match="ASSISTANT_NLI_MODEL names") as info:
        nli.entailment("The Panel met.", "The Panel met.")
    assert str(path) in info.value.message and "unset it" in info.value.hint


# Sentences of real minutes (Rotherham's and Barnsley's, 2018), each with claims a model wrote about it.
REFERRALS = ("The high number of contacts progressing to referrals was reducing. There were a high number of "
             "referrals but that could be linked to cautiousness of partners but we would not want to stop anyone "
             "referring in.")
ASSESSMENTS = ("The number of referrals from schools was very good but it was not referrals we were worried about but "
               "Early Help Assessments. Our Health partners were not carrying out as many assessments as we might "
               "expect. We have been working on this recently.")
DENTAL = ("It was highlighted that the performance data around dental health of looked after children is better than "
          "that of statistical neighbours and that this may be due to a good Early Help offer, excellent partnership "
          "working and strong and stable communities, often with extended family care.")
SOURCES_OF_REFERRALS = ("Referrals \u2013 improvement in numbers coming from schools (39% of referrals) however, very "
                        "few from hospitals. What steps are being taken to address and confidence about pace")
DISCHARGES = ("In 2018 148 children have been discharged.  If this continued it would be approximately 222 for the "
              "year, however, a similar number had come into care")


@pytest.mark.parametrize("minutes, claim", [
    (REFERRALS, "The high number of contacts progressing to referrals was rising."),
    (REFERRALS, "The high number of contacts progressing to referrals was growing."),
    (REFERRALS, "The high number of contacts progressing to referrals was climbing."),
    (ASSESSMENTS, "Our Health partners were carrying out as many assessments as we might expect, not fewer."),
    (ASSESSMENTS, "Our Health partners were carrying out as many Early Help assessments as expected, and there was "
                  "no concern."),
    (DENTAL, "The performance data around dental health of looked after children is worse than that of statistical "
             "neighbours."),
    (DENTAL, "The performance data around dental health of looked after children is lower than that of statistical "
             "neighbours."),
    (SOURCES_OF_REFERRALS, "39% of referrals came from hospitals."),
    (DISCHARGES, "In 2018, the number of children discharged was approximately 222."),
    (DISCHARGES, "In 2018 148 children have been discharged, and fewer had come into care."),
])
def test_a_near_copy_that_turns_the_minutes_round_is_unsupported(guard, minutes, claim):
    # One word changed ('rising' for 'reducing'), a denial dropped and another added elsewhere, a figure moved to
    # another thing the minutes name, a projection stated as fact: each scores as high as the copy it is close to.
    verdict = guard.check(claim + " [1]", [_hit(minutes)])
    assert not verdict.supported, verdict.reason


@pytest.mark.parametrize("claim", [
    "In 2018, the number of children discharged from care in Rotherham was approximately 222.",
    "The number discharged was approximately 222 for the year.",
])
def test_a_projection_stated_as_fact_is_named(guard, claim):
    verdict = guard.check(claim, [_hit(DISCHARGES)])  # the minutes: 'if this continued it would be approximately 222'
    assert not verdict.supported and "projection" in verdict.reason


@pytest.mark.parametrize("minutes, claim", [
    (REFERRALS, "The high number of contacts progressing to referrals was reducing."),
    (REFERRALS, "The high number of contacts progressing to referrals was falling."),
    (REFERRALS, "The number of contacts progressing to referrals was going down."),
    (ASSESSMENTS, "Our Health partners were not carrying out as many assessments as we might expect."),
    (ASSESSMENTS, "Health partners were not carrying out as many Early Help assessments as expected."),
    (ASSESSMENTS, "Health partners didn't carry out as many assessments as we might expect."),
    (DENTAL, "The performance data around dental health of looked after children is better than that of statistical "
             "neighbours."),
    (DENTAL, "Dental health of looked after children is better than that of statistical neighbours."),
    (SOURCES_OF_REFERRALS, "Schools made 39% of referrals, but very few came from hospitals."),
    (DISCHARGES, "In 2018 148 children have been discharged."),
    (DISCHARGES, "In 2018, 148 children were discharged from care in Rotherham."),
    (DISCHARGES, "If this continued it would be approximately 222 for the year."),
    (DISCHARGES, "In 2018 148 children have been discharged, and a similar number had come into care."),
    (DISCHARGES, "A similar number of children had come into care."),
])
def test_a_copy_or_faithful_paraphrase_of_the_same_minutes_keeps_support(guard, minutes, claim):
    verdict = guard.check(claim + " [1]", [_hit(minutes)])
    assert verdict.supported, verdict.reason
