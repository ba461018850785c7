"""The grounding guard on its own: made-up passages, the deterministic hashing embedder, no index."""

import unicodedata

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
                  "Nearly all reports were available 3 days before child protection conferences.",
                  "The majority of reports were available 3 days before child protection conferences."):
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


# Council performance reports say 'up 12% on last year', 'over budget', 'behind target'.
@pytest.mark.parametrize("minutes, claim", [
    ("Referrals to children's social care were down 12% on the same quarter last year.",
     "Referrals to children's social care were up 12% on the same quarter last year."),
    ("Sickness absence among social workers was up on the previous quarter at 5.2%.",
     "Sickness absence among social workers was down on the previous quarter at 5.2%."),
    ("Referrals up 12% on the same quarter last year were discussed by the Board.",
     "Referrals down 12% on the same quarter last year were discussed by the Board."),
    ("The fostering service was under budget at the end of the financial year.",
     "The fostering service was over budget at the end of the financial year."),
    ("The placements budget was overspent by \u00a31.2m at the end of the financial year.",
     "The placements budget was underspent by \u00a31.2m at the end of the financial year."),
    ("The recruitment of foster carers was ahead of target at the end of the quarter.",
     "The recruitment of foster carers was behind target at the end of the quarter."),
    ("The refurbishment of the children's home was behind schedule at the end of the quarter.",
     "The refurbishment of the children's home was ahead of schedule at the end of the quarter."),
])
def test_up_or_down_and_over_or_under_budget_turned_round_are_unsupported(guard, minutes, claim):
    verdict = guard.check(claim + " [1]", [_hit(minutes)])
    assert not verdict.supported and verdict.reason.startswith("says"), verdict.reason


DEMAND = ("Over the year, demand for early help rose sharply and the number of qualified social workers in the team "
          "fell.")


@pytest.mark.parametrize("minutes, claim", [
    # A word of sense for one of the same sense, read beside the word it replaced, not beside every word left out.
    (DEMAND, "Over the year, demand for early help grew sharply and the number of qualified social workers in the "
             "team dropped."),
    ("Referrals to children's social care increased in the quarter and the number of single assessments completed "
     "decreased.",
     "Referrals to children's social care rose in the quarter and the number of single assessments completed fell."),
    ("Performance had improved, with fewer children waiting more than 20 days for an assessment.",
     "Performance was better, with fewer children waiting more than 20 days for an assessment."),
    # 'up' and 'down' that belong to a verb give no direction.
    ("Waiting times for assessments fell.",
     "Waiting times for assessments dropped as social workers followed up on each case."),
    ("Demand for respite care fell in the quarter.",
     "Demand for respite care dropped in the quarter as fewer families signed up from the waiting list."),
    # 'would', 'could' and 'plan to' that do not govern the figure do not make it a projection.
    ("The service could evidence that 90% of statutory visits to children in care were completed on time.",
     "The service evidenced that 90% of statutory visits to children in care were completed on time."),
    ("The Chair said she would like to thank the 25 foster carers who attended the celebration event in June.",
     "The Chair thanked the 25 foster carers who attended the celebration event in June."),
    ("Members noted the plan to support the 30 children already placed out of area with their education.",
     "Members noted the support for the 30 children already placed out of area with their education."),
    ("It was expected to be a busy summer; 14 new foster carers had been approved since April.",
     "It had been a busy period, and 14 new foster carers had been approved since April."),
])
def test_a_faithful_rewording_is_judged_on_its_score_not_failed_outright(guard, minutes, claim):
    # The hashing embedder scores some of these under the threshold; what matters here is that no word check fails
    # them whatever an embedder or NLI model would say.
    verdict = guard.check(claim + " [1]", [_hit(minutes)])
    assert verdict.supported or verdict.reason.startswith("too far from the cited minutes"), verdict.reason


@pytest.mark.parametrize("minutes, claim", [
    ("The number of children in care was expected to rise to 300 by March.",
     "There were 300 children in care in March."),
    ("The overspend on placements was forecast at \u00a31.2m for the year.",
     "The overspend on placements was \u00a31.2m."),
    ("If referrals kept rising, the team could reach 40 cases each by the summer.",
     "Social workers in the team had 40 cases each by the summer."),
])
def test_a_figure_a_projecting_word_governs_is_still_a_projection(guard, minutes, claim):
    verdict = guard.check(claim + " [1]", [_hit(minutes)])
    assert not verdict.supported and "projection" in verdict.reason, verdict.reason


@pytest.mark.parametrize("minutes, claim", [
    ("Only 28.5% of reports were available 3 days prior to conference, and it was anticipated that performance would "
     "improve.", "Performance on timeliness of reports improved, after only 28.5% of reports were available 3 days "
                 "prior to conference."),
    ("The number of children in care was expected to fall over the coming year.",
     "The number of children in care fell over the year."),
])
def test_a_change_the_minutes_only_expect_is_not_stated_as_done(guard, minutes, claim):
    """'it was anticipated that performance would improve' was shown as 'performance improved' (a language-model
    review): the check of projections read figures alone, not the words that say which way something went."""
    verdict = guard.check(claim + " [1]", [_hit(minutes)])
    assert not verdict.supported and "expect" in verdict.reason, verdict.reason


@pytest.mark.parametrize("minutes, claim", [
    ("It was anticipated that performance would improve.", "Performance was expected to improve."),
    ("Performance improved in the quarter and was expected to improve further.", "Performance improved."),
])
def test_a_change_the_claim_also_expects_or_the_minutes_also_state_is_let_be(guard, minutes, claim):
    assert "expect" not in guard.check(claim + " [1]", [_hit(minutes)]).reason


def test_a_change_of_another_thing_the_minutes_state_does_not_excuse_one_they_only_expect(guard):
    """Sefton's seed chunk holding 'it was anticipated that performance would improve' also says 'The Council was
    generally good at retention': 'Performance on timeliness of reports to conferences improved [1]' was shown, as
    any change of the same sense stated anywhere in the cited text let the claim be."""
    minutes = ("Timeliness of reports to Child Protection conferences was a concern as only 28.5% of reports were "
               "available 3 days prior to conference. This action was monitored via monthly monitoring reports and it "
               "was anticipated that performance would improve. The Council was generally good at retention and not "
               "over-dependent on agency workers.")
    verdict = guard.check("Performance on timeliness of reports to conferences improved. [1]", [_hit(minutes)])
    assert not verdict.supported and "expect" in verdict.reason, verdict.reason
    kept = guard.check("The Council was generally good at retention. [1]", [_hit(minutes)])
    assert "expect" not in kept.reason, kept.reason


CONTACTS = ("As of the previous week contacts had dropped from 900 in September to 680 and referrals leading to "
            "assessment were 230.")


def test_two_figures_whose_things_the_claim_exchanges_are_moved(guard):
    """'Referrals had dropped from 900 in September to 680, and contacts leading to assessment were 230 [1]' was
    shown where the minutes give 900 and 680 for contacts and 230 for referrals (a language-model review): the
    check of a moved figure read only what prepositions tie it to."""
    verdict = guard.check("Referrals had dropped from 900 in September to 680, and contacts leading to assessment "
                          "were 230. [1]", [_hit(CONTACTS)])
    assert not verdict.supported and "contacts" in verdict.reason and "referrals" in verdict.reason, verdict.reason
    # Each thing beside its own figures, in other words, is let be.
    kept = guard.check("Contacts fell from 900 in September to 680, while 230 referrals led to assessment. [1]",
                       [_hit(CONTACTS)])
    assert "figure of" not in kept.reason, kept.reason


FRONT_DOOR = ("The Chair welcomed Councillor Margaret Bruff to her first meeting of the Panel. A Member noted that "
              "\u2018front door\u2019 improvements are significant and asked how they would be sustained.")


@pytest.mark.parametrize("claim", [
    "Councillor Margaret Bruff said that the \u2018front door\u2019 improvements are significant.",
    # The speaker after the verb, or named by 'according to' (a second review of the language-model mode)
    "The \u2018front door\u2019 improvements are significant, Councillor Margaret Bruff said.",
    "The \u2018front door\u2019 improvements are significant, said Councillor Margaret Bruff.",
    "According to Councillor Margaret Bruff, the \u2018front door\u2019 improvements are significant.",
    "Councillor Margaret Bruff pointed out that the \u2018front door\u2019 improvements are significant.",
    # What is said of her set off by commas (a code review)
    "Councillor Margaret Bruff, who leads on services for children across the county, said that the \u2018front "
    "door\u2019 improvements are significant.",
])
def test_words_the_minutes_give_no_one_are_not_put_in_a_named_member_s_mouth(guard, claim):
    """'Cllr Margaret Bruff said that the front door improvements are significant [1]' was shown where the minutes
    say 'A Member noted that ...', and name her only as welcomed to the meeting (a language-model review): her name
    was in the block, and nothing asked who said the words."""
    verdict = guard.check(claim + " [1]", [_hit(FRONT_DOOR)])
    assert not verdict.supported and "Bruff" in verdict.reason, verdict.reason


def test_a_resolution_is_not_the_words_of_the_member_named_before_it(guard):
    """'That ...' opens a resolution, not words pointing back to whoever the sentence before named (a code review)."""
    minutes = ("The Chair thanked Councillor Bruff for her report. That the Panel notes that the front door "
               "improvements are significant and welcomes them.")
    verdict = guard.check("Councillor Bruff said that the front door improvements are significant. [1]",
                          [_hit(minutes)])
    assert not verdict.supported and "Bruff" in verdict.reason, verdict.reason


@pytest.mark.parametrize("minutes, claim", [
    ("Councillor Bruff noted that \u2018front door\u2019 improvements are significant.",
     "Councillor Bruff said that the \u2018front door\u2019 improvements are significant."),
    # The speaker named in the sentence before the words' own.
    ("Councillor Bruff asked about the front door. She said that the improvements there are significant.",
     "Councillor Bruff said that the improvements to the front door are significant."),
    # 'These were ...' after the sentence naming the speaker (a review of the guard's false refusals)
    ("Ms Gent explained that there were four cross-cutting themes. These were neglect, domestic abuse, mental health "
     "and substance misuse.",
     "Ms Gent explained that the four cross-cutting themes were neglect, domestic abuse, mental health and substance "
     "misuse."),
])
def test_words_put_in_the_mouth_of_the_member_who_said_them_are_let_be(guard, minutes, claim):
    assert "say what the cited minutes do not give" not in guard.check(claim + " [1]", [_hit(minutes)]).reason


UPDATE = ("The Chair reported that the Sub-Group had asked about Safeguarding.\n\nCouncillor Watson provided an update on "
          "each as follows:-\n\nSafeguarding\n\n-   High numbers of children in care\n\nThe big 2 things affecting "
          "this were the historical services and the Stovewood Enquiry.\n\n-   Teenagers in care\n\nWe have taken very "
          "few into care in the last 6 months.  A Member noted that the Family Group Conferencing was working well.")


@pytest.mark.parametrize("claim", [
    "Councillor Watson said that very few teenagers had been taken into care in the last 6 months.",
    "Councillor Watson explained that the big 2 things affecting this were the historical services and the "
    "Stovewood Enquiry.",
])
def test_words_under_a_member_s_update_as_follows_are_theirs(guard, claim):
    """'Councillor Watson provided an update on each as follows:-', then the points one by one: each is his (the
    seed minutes of Rotherham), as are the points after 'Ms Gent reminded Members of the key areas ... namely:'.
    They were refused as put in his mouth, hiding a faithful answer."""
    assert "Watson" not in guard.check(claim + " [1]", [_hit(UPDATE)]).reason


def test_words_another_is_given_after_a_member_s_update_are_not_theirs(guard):
    verdict = guard.check("Councillor Watson noted that the Family Group Conferencing was working well. [1]",
                          [_hit(UPDATE)])
    assert "Watson" in verdict.reason, verdict.reason
    welcomed = _hit("Councillor Margaret Bruff was welcomed to the meeting. The improvements to the front door are "
                    "significant.")  # a sentence of its own, no update it introduces
    assert "Bruff" in guard.check("Councillor Bruff said that the improvements to the front door are significant. [1]",
                                  [welcomed]).reason


LOOKED_AFTER = Hit("c3", "On 01 April 2021 596 children and young people were looked after; by 31 March 2022 this had "
                         "reduced to 551 children.",
                   {"source_id": "s3", "council": "Rotherham Metropolitan Borough Council", "council_key": "rotherham",
                    "meeting_date": "2022-06-14"}, 1.0)


def test_a_sentence_s_figures_and_years_come_from_one_cited_block_not_from_two_meetings(guard):
    """'In 2018, 596 children were looked after [1][2]' had passed with 2018 from a 2018 meeting and 596 from a 2022
    one: each figure was in some cited block, and nothing asked that they be in the same one."""
    blocks = {1: _hit(), 2: LOOKED_AFTER}
    for sentence in ("In 2018, 596 children were looked after in Rotherham. [1][2]",
                     "In 2018 148 children were discharged from care, and 596 children were looked after. [1][2]"):
        verdict = guard.check(sentence, [_hit(), LOOKED_AFTER], blocks)
        assert not verdict.supported and "no cited block gives together" in verdict.reason, verdict
        assert not guard.check(sentence, [_hit(), LOOKED_AFTER]).supported  # the same without the markers' blocks
    # Each part of a sentence is checked against the blocks cited after it.
    parted = "In 2018 148 children were discharged from care [1], and in 2021 596 children were looked after [2]."
    assert guard.check(parted, [_hit(), LOOKED_AFTER], blocks).supported
    swapped = "In 2018 148 children were discharged from care [2], and in 2021 596 children were looked after [1]."
    verdict = guard.check(swapped, [_hit(), LOOKED_AFTER], blocks)
    assert not verdict.supported and "before citing [2]" in verdict.reason
    # Figures and a year that one block gives together still pass beside another block.
    assert guard.check("In 2018, 148 children were discharged from care in Rotherham. [1][2]",
                       [_hit(), LOOKED_AFTER], blocks).supported
    # A comparison ending in both markers, as the prompt asks, each figure beside its own year, is not refused for
    # its figures (a code review found such sentences hidden).
    compared = "148 children were discharged in 2018, and 596 were looked after in 2021. [1][2]"
    assert "gives together" not in guard.check(compared, [_hit(), LOOKED_AFTER], blocks).reason


STABLE = Hit("c4", "In Rotherham 61% of the children in care had been in the same placement for two years.",
             {"source_id": "s4", "council": "Rotherham Metropolitan Borough Council", "council_key": "rotherham",
              "meeting_date": "2019-02-11"}, 1.0)


def test_figures_one_block_gives_apart_from_another_s_are_not_put_together_on_both_markers(guard):
    """'148 children were discharged from care, which was 61% of the children in care [1][2]' had passed (a review
    of the language-model mode): each figure is in a cited block, no year ties either, and the sentence relates
    them as neither block does. Figures on one run of markers must come from one block, unless each stands beside
    its own year."""
    blocks = {1: _hit(), 2: STABLE}
    for sentence in ("148 children were discharged from care, which was 61% of the children in care. [1][2]",
                     "Rotherham discharged 148 children from care, and 61% of those in care were in the same "
                     "placement for two years. [1][2]"):
        verdict = guard.check(sentence, [_hit(), STABLE], blocks)
        assert not verdict.supported and verdict.reason.startswith(
            ("gives 148 and 61% together", "gives 148, 61% and two together")), verdict
        assert guard.check(sentence, [_hit(), STABLE]).reason == verdict.reason
    # Each figure before the marker of the block that gives it is not put together with the other.
    parted = ("Rotherham discharged 148 children from care [1], and 61% of those in care were in the same placement "
              "for two years [2].")
    assert "together" not in guard.check(parted, [_hit(), STABLE], blocks).reason
    # Nor are two figures one cited block gives, beside another block.
    both = Hit("c5", "In 2019, 148 children left care and 61% of the children in care were in stable placements.",
               {"source_id": "s5", "council": "Rotherham Metropolitan Borough Council", "council_key": "rotherham",
                "meeting_date": "2019-06-11"}, 1.0)
    verdict = guard.check("In 2019, 148 children left care and 61% of the children in care were in stable "
                          "placements, the minutes said [1][2].", [both, STABLE], {1: both, 2: STABLE})
    assert "together" not in verdict.reason, verdict


@pytest.mark.parametrize("sentence", [
    "148 children were discharged from care [1], which was 61% of the children in care [2].",
    "Rotherham discharged 148 children from care in 2018 [1], representing 61% of the children in care [2].",
    "Rotherham discharged 148 children from care [1], of whom 61% had been in the same placement for two years [2].",
    # A part with no subject of its own, whatever opens it (a second review of the language-model mode)
    "148 children were discharged from care in 2018 [1]; this was 61% of the children in care [2].",
    "148 children were discharged from care [1], 61% of the children in care [2].",
    "148 children were discharged from care [1] (61% of the children in care) [2].",
    "148 children were discharged from care [1], meaning 61% of the children in care [2].",
])
def test_a_part_that_says_more_of_the_part_before_it_relates_its_figures_to_that_part_s(guard, sentence):
    """Each figure before its own block's marker passed, though the words opening the second part ('which was',
    'representing', 'of whom') relate its figure to the first's, as neither block does (a language-model review)."""
    verdict = guard.check(sentence, [_hit(), STABLE], {1: _hit(), 2: STABLE})
    assert not verdict.supported and "148" in verdict.reason and "together" in verdict.reason, verdict


def test_a_day_written_with_a_leading_zero_is_the_same_day(guard):
    """'... fell from 596 on 1 April 2021 to 551 by 31 March 2022' was refused as 'the figure 1 is not in the cited
    minutes', which write '01 April 2021' (a review of the guard's false refusals)."""
    verdict = guard.check("The number of looked after children fell from 596 on 1 April 2021 to 551 by 31 March "
                          "2022. [1]", [LOOKED_AFTER])
    assert "figure 1 is not" not in verdict.reason, verdict.reason
    assert "figure 2 is not" in guard.check("The number fell from 596 on 2 April 2021 to 551 by 31 March 2022. [1]",
                                            [LOOKED_AFTER]).reason


def test_each_part_s_figure_is_read_beside_its_own_block_s_words(guard):
    """'In 2018, 148 children were discharged from care in Rotherham [1], and Bracknell Forest had 146 children in
    care in February 2018 [2]' was refused as '146 is not the figure for children' (a review of the guard's false
    refusals): the words after each figure were read in both blocks joined, where Rotherham's '148 children' stands.
    Each part before its own marker is now read beside its own block."""
    bracknell = Hit("c7", "The number of children in care had risen to 146 in February 2018, and 30 adoption "
                          "orders were made.",
                    {"source_id": "s7", "council": "Bracknell Forest Council", "council_key": "bracknell forest",
                     "meeting_date": "2018-03-01"}, 1.0)
    sentence = ("In 2018, 148 children were discharged from care in Rotherham [1], and Bracknell Forest had 146 "
                "children in care in February 2018 [2].")
    verdict = Guard(HashingEmbedder(), ["rotherham", "bracknell forest"]).check(
        sentence, [_hit(), bracknell], {1: _hit(), 2: bracknell})
    assert "not the figure for" not in verdict.reason, verdict.reason
    # A figure its own block gives for something else is still found.
    moved = ("In 2018, 148 children were discharged from care in Rotherham [1], and Bracknell Forest had 146 "
             "adoption orders in February 2018 [2].")
    verdict = Guard(HashingEmbedder(), ["rotherham", "bracknell forest"]).check(
        moved, [_hit(), bracknell], {1: _hit(), 2: bracknell})
    assert "146 is not the figure for adoption" in verdict.reason, verdict.reason


def test_a_count_written_in_words_is_not_put_together_with_another_block_s_figure(guard):
    """'Twelve foster carers were approved, which was 61% of the children in care [1][2]' passed where '12 foster
    carers ...' was refused: a figure written in words was no figure to the check of figures put together."""
    carers = Hit("c6", "Twelve foster carers were approved by the panel during the quarter.",
                 {"source_id": "s6", "council": "Rotherham Metropolitan Borough Council", "council_key": "rotherham",
                  "meeting_date": "2018-11-05"}, 1.0)
    blocks = {1: carers, 2: STABLE}
    for sentence in ("Twelve foster carers were approved, which was 61% of the children in care [1][2].",
                     "61% of the children in care were placed with the twelve foster carers approved [1][2]."):
        verdict = guard.check(sentence, [carers, STABLE], blocks)
        assert not verdict.supported and "twelve" in verdict.reason and "61%" in verdict.reason, verdict
    # A number word one block gives with the other figure, and 'one' that stands for a thing, are let be.
    assert "together" not in guard.check("61% of the children in care had been in the same placement for two years "
                                         "[1][2].", [carers, STABLE], blocks).reason
    # ('One of the points ...' beside blocks that give no 'one' is refused as a figure not in them: a block giving it
    # as the thing it stands for shows that it is no figure put together with the other block's 61%.)
    points = Hit("c7", "One of the points raised was the stability of placements for children in care.",
                 {"source_id": "s7", "council": "Rotherham Metropolitan Borough Council", "council_key": "rotherham",
                  "meeting_date": "2018-11-05"}, 1.0)
    verdict = guard.check("One of the points raised was that 61% of the children in care had been in the same "
                          "placement [1][2].", [points, STABLE], {1: points, 2: STABLE})
    assert verdict.supported, verdict


def test_a_block_gives_a_percentage_put_together_only_as_a_percentage(guard):
    """'148 children were discharged, which was 61% of the children in care [1][2]' passed beside a block giving 148
    and '61 of them': its plain 61 was taken for the 61% the other block gives, as if one block gave both."""
    returned = _hit("In 2018 148 children were discharged and 61 of them returned home to their families.")
    verdict = guard.check("148 children were discharged from care, which was 61% of the children in care [1][2].",
                          [returned, STABLE], {1: returned, 2: STABLE})
    assert not verdict.supported and "together" in verdict.reason, verdict
    # A block that gives the percentage in words ('61 per cent') gives it as one.
    both = _hit("In 2018 148 children were discharged, 61 per cent of the children in care.")
    assert "together" not in guard.check("148 children were discharged, which was 61% of the children in care [1][2].",
                                         [both, STABLE], {1: both, 2: STABLE}).reason


@pytest.mark.parametrize("sentence, parts", [
    ("rose from 596 [1] to 650 [2].", [("rose from 596", (1,)), (" to 650.", (2,))]),
    ("In 2018, 596 were looked after [1][5].", [("In 2018, 596 were looked after.", (1, 5))]),
    ("In 2018 [1], 148 were discharged.", [("In 2018, 148 were discharged.", (1,))]),
    ("No marker.", [("No marker.", ())]),
    ("551 and 596 [1] and [2].", [("551 and 596.", (1, 2))]),
])
def test_markers_cut_a_sentence_into_parts(sentence, parts):
    from assistant.verify.guard import marker_parts

    assert marker_parts(sentence) == parts


# Claims an adversarial review wrote for a language model to give (a server replying with them), each a near copy of
# its minutes that changes what they say in one way the earlier checks did not see.

CARE = ("At 31 March 2022 there were 412 children in care in Wexbury, compared with 388 at 31 March 2021. The "
        "number of families using short breaks fell from 310 in 2021 to 284 in 2022.")


def _wexbury(text: str = CARE) -> Hit:
    # Its id from its text: the guard keeps each chunk's sentences by id.
    return Hit(f"w-{hash(text)}", text, {"source_id": "w", "council": "Wexbury Borough Council",
                                         "council_key": "wexbury", "meeting_date": "2022-09-14"}, 1.0)


def _refused(guard, claim: str, hits, *words: str, **check) -> None:
    verdict = guard.check(claim, hits, **check)
    assert not verdict.supported and verdict.score == 0.0, (claim, verdict)
    assert all(word in verdict.reason for word in words), (claim, verdict.reason)


def _kept(guard, claim: str, hits, **check) -> None:
    verdict = guard.check(claim, hits, **check)
    assert verdict.supported, (claim, verdict.reason)


@pytest.fixture(scope="module")
def real(minilm) -> Guard:
    """A guard on the real embedding model: a faithful paraphrase scores as one, so a kept case fails only if a
    check refuses it."""
    return Guard(minilm, ["wexbury", "dunmere"], other_council_keys=["leeds", "high peak", "new forest"])


def test_a_figure_tied_to_the_other_year_of_its_sentence_is_unsupported(real):
    _refused(real, "At 31 March 2021 there were 412 children in care in Wexbury.", [_wexbury()],
             "412 is the figure for 2022, not 2021")
    _refused(real, "The number of families using short breaks fell from 284 in 2021 to 310 in 2022.", [_wexbury()],
             "284 is the figure for 2022, not 2021")
    for kept in ("Wexbury had 412 children in care at 31 March 2022, up from 388 a year before.",
                 "Wexbury's children in care numbered 388 at 31 March 2021 and 412 at 31 March 2022.",
                 "Families using short breaks fell from 310 in 2021 to 284 in 2022."):
        _kept(real, kept, [_wexbury()])
    # A figure whose year is not plainly its own is tied to none: a noun between, a range, a year far off.
    shapes = _wexbury("The number of families using short breaks fell from 310 in 2021 to 284 families in 2022. "
                      "Caseloads fell from 21 in 2021 to 18 cases per worker in 2022. Referrals rose from 1,050 in "
                      "2021/22 to 1,200 in the year to March 2023.")
    for kept in ("284 families used short breaks in 2022.", "In 2022 caseloads were 18 cases per worker.",
                 "Short breaks fell to 284 families between 2021 and 2022."):
        _kept(real, kept, [shapes])
    # 'on' a date ties as 'at' does, and a date before a comma is the next clause's.
    on = _wexbury("The number of children in care was 412 on 31 March 2022, compared with 388 on 31 March 2021.")
    _refused(real, "The number of children in care was 388 on 31 March 2022.", [on], "388 is the figure for 2021")
    _refused(real, "The number of children in care was 412 on 31 March 2021.", [on], "412 is the figure for 2022")
    _refused(real, "At 31 March 2021, there were 412 children in care in Wexbury.", [_wexbury()],
             "412 is the figure for 2022, not 2021")
    # Two financial years are not one for sharing a year.
    _refused(real, "The fostering budget was overspent by £1.2m in 2022/23.",
             [_wexbury("The fostering budget was overspent by £1.2m in 2021/22, and is to balance in 2022/23.")],
             "for 2021/22, not 2022/23")
    # 'and' parts a figure from the next year: 412 is 2022's here.
    _kept(real, "The figure for 2022 was 412.", [_wexbury("The figure for 2022 was 412 and for 2021 was 388.")])
    # A figure the minutes also give in a clause with no year of its own may be any year's.
    loose = _wexbury(CARE + " The service supported 412 children over the period.")
    assert "figure for" not in real.check("At 31 March 2021 there were 412 children in care in Wexbury.",
                                          [loose]).reason


def test_a_figure_moved_to_the_year_of_its_clause_far_off_or_past_rose_to_is_unsupported(real):
    """A clause of one figure and one year ties them however far apart, and 'rose to' no longer parts them: '412
    children were in care in Wexbury in 2021' and 'In 2022 referrals rose to 310' had been shown as fact."""
    _refused(real, "412 children were in care in Wexbury in 2021.",
             [_wexbury("412 children were in care in Wexbury in 2022, and 388 in 2021.")],
             "412 is the figure for 2022, not 2021")
    rising = _wexbury("In 2021 referrals rose to 310. In 2022 referrals fell to 284.")
    _refused(real, "In 2022 referrals rose to 310.", [rising], "310 is the figure for 2021, not 2022")
    _kept(real, "Referrals rose to 310 in 2021.", [rising])
    _kept(real, "In 2022 there were 412 children in care in Wexbury.",
          [_wexbury("412 children were in care in Wexbury in 2022, and 388 in 2021.")])


@pytest.mark.parametrize("minutes, claim", [
    ("Twelve foster carers were approved in 2018.", "12 foster carers were approved in 2018."),
    ("Three children were placed out of area.", "3 children were placed out of area."),
])
def test_a_figure_the_minutes_write_in_words_keeps_support_written_in_digits(real, minutes, claim):
    """A model writes in figures what minutes write in words: '12' had been refused as a figure the minutes do not
    give, where they say 'Twelve'."""
    _kept(real, claim, [_wexbury(minutes)])
    _refused(real, claim.replace(claim.split()[0], "13", 1), [_wexbury(minutes)], "not in the cited minutes")


def test_a_clause_kept_whole_is_not_docked_for_a_denial_of_another_clause(real):
    """'The Panel approved the plan' scored as a dropped denial against 'The Panel approved the plan, but did not
    approve the budget', whose denial is of the budget, and was refused."""
    minutes = _wexbury("The Panel approved the plan, but did not approve the budget.")
    _kept(real, "The Panel approved the plan.", [minutes])
    assert not real.check("The Panel approved the budget.", [minutes]).supported
    assert not real.check("The Panel approved the plan and the budget.", [minutes]).supported


def test_a_figure_moved_to_another_group_that_a_short_word_names_is_unsupported(real):
    """'3 new foster carers' where the minutes say '5 new ... and 3 returning': a word of three letters after the
    figure had been passed over as if it were 'of' or 'and'."""
    approved = _wexbury("The Panel approved 5 new foster carers and 3 returning foster carers.")
    _refused(real, "The Panel approved 3 new foster carers.", [approved], "3 is not the figure for new")
    _kept(real, "The Panel approved 5 new foster carers.", [approved])
    _kept(real, "Of the carers the Panel approved, 3 were returning foster carers.", [approved])


@pytest.mark.parametrize("minutes, claim", [
    ("In 2018 adoption orders rose sharply, the Panel noted.", "Adoption orders fell in 2018."),
    ("In the quarter referrals rose.", "Referrals fell in the quarter."),
    ("Referrals did not significantly increase in the quarter.",
     "Referrals did not significantly decrease in the quarter."),
    ("Referrals to children's social care did not fall in the quarter.",
     "Referrals to children's social care did not rise in the quarter."),
])
def test_a_direction_turned_round_in_words_moved_or_under_the_same_denial_is_unsupported(real, minutes, claim):
    """Aligned word by word, a moved year or phrase left 'rose' and 'fell' unaligned, and a word under a denial was
    left to the check of denials, which saw one on each side: each was shown as fact."""
    _refused(real, claim, [_wexbury(minutes)], "where the cited minutes say")


@pytest.mark.parametrize("minutes, claim", [
    ("Referrals went up in 2022 and adoptions went down.", "Referrals went down in 2022 and adoptions went up."),
    ("The proportion seen within 20 days increased and the proportion seen late decreased.",
     "The proportion seen within 20 days decreased and the proportion seen late increased."),
    ("Spending on agency staff was higher than budgeted and income was lower.",
     "Spending on agency staff was lower than budgeted and income was higher."),
    ("Referrals were up 12% and assessments were down 4%.", "Referrals were down 12% and assessments were up 4%."),
])
def test_two_directions_swapped_between_the_clauses_of_one_sentence_are_unsupported(real, minutes, claim):
    """Where the minutes give both directions, a check of the words moved found each claim word's sense somewhere
    among the minutes' and showed the swap as fact (from a code review)."""
    _refused(real, claim, [_wexbury(minutes)], "where the cited minutes say")


@pytest.mark.parametrize("minutes, claim", [
    ("Two thirds of staff completed the safeguarding training.", "2 staff completed the safeguarding training."),
    ("Three quarters of care leavers were in education, employment or training.",
     "3 care leavers were in education, employment or training."),
    ("Two sevenths of the budget was spent on placements.", "2 placements were funded from the budget."),
    ("One in five children in care had a missing episode.", "5 children in care had a missing episode."),
    ("One in every five children in care had a missing episode.", "5 children in care had a missing episode."),
    ("Fewer than five children were adopted.", "5 children were adopted."),
])
def test_a_fraction_rate_or_bound_in_words_gives_no_count_in_figures(real, minutes, claim):
    """'Two thirds of staff' is not 2 staff, nor 'one in five children' 5 children (from code reviews)."""
    _refused(real, claim, [_wexbury(minutes)], "not in the cited minutes")


def test_a_number_word_before_a_hyphened_word_is_still_a_count(real):
    _kept(real, "3 in-house homes were inspected.", [_wexbury("Three in-house homes were inspected.")])


@pytest.mark.parametrize("minutes, claim", [
    ("A total of 5 new foster carers and 3 returning carers were approved.", "3 new foster carers were approved."),
    ("Nine out of ten new carers rated the support as good.", "9 new carers rated the support as good."),
    ("In 2021 referrals from schools rose to 310. In 2022 referrals from schools fell to 284.",
     "In 2022 referrals from schools rose to 310."),
])
def test_a_whole_a_share_or_an_ordinary_word_does_not_excuse_a_figure_moved(real, minutes, claim):
    """'A total of 5 new ...' is no whole that 3 is a part of, nor 'nine out of ten' a count; 'from' is no word of
    comparison (from a re-check of the review's fixes)."""
    assert not real.check(claim, [_wexbury(minutes)]).supported


@pytest.mark.parametrize("minutes, claim", [
    ("This report covers 2023. Referrals have risen to 310 compared with the position in 2019.",
     "In 2023 referrals rose to 310."),
    ("Of the 40 new referrals, 12 were from schools.", "12 new referrals were from schools."),
    ("Of 20 new starters, 15 had completed their checks.", "15 new starters had completed their checks."),
    ("12 of the 40 new referrals were from schools.", "12 new referrals were from schools."),
    ("Out of the 40 new referrals, 12 were from schools.", "12 new referrals were from schools."),
    ("Among the 40 new referrals, 12 were from schools.", "12 new referrals were from schools."),
])
def test_a_year_compared_with_or_a_whole_a_part_is_of_does_not_make_a_faithful_sentence_unsupported(real, minutes,
                                                                                                    claim):
    """A year a figure is compared with was taken for its own, and '40 new' for the figure of new referrals where 12
    are a part of the 40 (from a code review)."""
    _kept(real, claim, [_wexbury(minutes)])


@pytest.mark.parametrize("minutes, claim", [
    ("In the quarter referrals rose.", "Referrals rose in the quarter."),
    ("Referrals did not significantly increase in the quarter.", "Referrals did not increase much in the quarter."),
    ("In 2018 adoption orders rose sharply, the Panel noted.", "The Panel noted that adoption orders grew in 2018."),
    ("Referrals rose and re-referrals fell in the quarter.", "Re-referrals fell and referrals rose in the quarter."),
])
def test_a_direction_kept_in_words_moved_keeps_support(real, minutes, claim):
    _kept(real, claim, [_wexbury(minutes)])


def test_a_figure_given_in_another_unit_or_scale_is_unsupported(real):
    money = _wexbury("The fostering budget was overspent by £1.2m in 2021/22.")
    _refused(real, "The fostering budget was overspent by £1.2 billion in 2021/22.", [money],
             "1.2 is in millions, not in billions")
    _kept(real, "The fostering budget was overspent by £1.2 million in 2021/22.", [money])
    health = _wexbury("Initial health assessments should be completed within 20 working days; 74% were completed on "
                      "time.")
    _refused(real, "Initial health assessments should be completed within 20 weeks; 74% were completed on time.",
             [health], "20 is in days, not in weeks")
    _refused(real, "Initial health assessments should be completed within 20 working days; 74 were completed on "
             "time.", [health], "74 is a percentage, not a plain number")
    _kept(real, "Initial health assessments should be completed within 20 days; 74 per cent were completed on time.",
          [health])
    leavers = _wexbury("The proportion of care leavers in education, employment or training had increased to 61%.")
    _refused(real, "The proportion of care leavers in education, employment or training had increased by 61%.",
             [leavers], "'by 61' where the cited minutes say 'to 61'")
    _kept(real, "Support was offered to care leavers aged 16 to 18.",
          [_wexbury("Support was offered to 16-18 year olds leaving care.")])
    # A unit written once for a range or a pair is both figures' ('from 70 to 74%' is 'from 70% to 74%').
    _kept(real, "Timeliness improved from 70% to 74%.", [_wexbury("Timeliness improved from 70 to 74%.")])
    _kept(real, "Timeliness improved from 70 to 74%.", [_wexbury("Timeliness improved from 70% to 74%.")])
    _kept(real, "The proportion of reviews on time rose by 5 percentage points to 61%.",
          [_wexbury("The proportion of reviews on time rose by 5% to 61%.")])
    # Only what stands between two figures makes them a range: '412 to 388, or 6%' gives 388 no percentage.
    _kept(real, "The number of children in care fell from 412 to 388.",
          [_wexbury("The number of children in care fell from 412 to 388, or 6%.")])


def test_a_target_or_a_duty_stated_as_done_is_unsupported(real):
    target = _wexbury("The target for 2022/23 is that 90% of review health assessments are completed within "
                      "timescale.")
    _refused(real, "90% of review health assessments were completed within timescale in 2022/23.", [target],
             "as a projection, a target or a duty")
    _kept(real, "The target for 2022/23 is for 90% of review health assessments to be completed within timescale.",
          [target])
    health = _wexbury("Initial health assessments should be completed within 20 working days; 74% were completed on "
                      "time.")
    _refused(real, "All initial health assessments were completed within 20 working days; 74% were completed on "
             "time.", [health], "the figure 20")
    _kept(real, "74% of initial health assessments were completed on time.", [health])
    # A target governs its own figure, a duty only after 'should be' or 'must be': the facts beside them are facts.
    for source, claim in (("The target was 90% and performance was 85% for the year.", "Performance was 85% for the "
                           "year."),
                          ("Members must note that there were 412 children in care.", "There were 412 children in "
                           "care."),
                          ("The Chair said the team should be proud that 95% of visits were on time.",
                           "95% of visits were on time."),
                          ("The service missed its target and achieved 85% for the year.", "The service achieved "
                           "85% for the year."),
                          ("The service met its target with 412 visits.", "The service made 412 visits."),
                          ("It should be noted 95% of visits were on time.", "95% of visits were on time.")):
        assert "target or a duty" not in real.check(claim, [_wexbury(source)]).reason, source
    # Every figure of a list of targets is one, and a duty with a word before its 'be'.
    targets = _wexbury("Targets are 90% for visits and 85% for reviews.")
    _refused(real, "85% of reviews were done.", [targets], "as a projection, a target or a duty")
    _refused(real, "Assessments were completed within 15 days.",
             [_wexbury("Assessments must normally be completed within 15 days.")], "a target or a duty")


def test_characters_the_minutes_never_use_are_unsupported(real):
    agency = _wexbury("The Head of Service reported that the number of agency social workers had reduced from 45 to "
                      "32 during the year.")
    for claim, shown in (("The number of agency social workers had n\u043et reduced from 45 to 32 during the year.",
                          "U+043E"),  # a Cyrillic o
                         ("The number of agency social workers had reduced from 45 to 32, saving \u00b9\u00b2\u2070 "
                          "thousand pounds.", "U+00B9"),  # superscript digits
                         ("The number of agency social workers had re\u200bduced from 45 to 32 during the year.",
                          "U+200B")):  # a zero-width space
        _refused(real, claim, [agency], "uses characters the cited minutes do not", shown)
    welsh = "Cytunodd y Pwyllgor i gefnogi grŵp rhieni maeth newydd yn 2023, gyda 12 aelod."
    # A letter the minutes use themselves is theirs, however they saved it (an accent as a mark of its own).
    _kept(real, welsh, [_wexbury(welsh)])
    _kept(real, welsh, [_wexbury(unicodedata.normalize("NFD", welsh))])


def test_a_council_or_a_name_the_cited_minutes_do_not_give_is_unsupported_wherever_it_stands(real):
    first = "At 31 March 2022 there were 412 children in care in Wexbury, compared with 388 at 31 March 2021."
    hit = _wexbury(first)
    _refused(real, "Leeds had 412 children in care at 31 March 2022.", [hit], "names leeds")  # indexed nowhere
    _refused(real, "At 31 March 2022 there were 412 children in care in dunmere.", [hit], "names dunmere")
    # A council indexed nowhere is named only with a capital, as a model writes one: not 'a high peak'.
    peak = _wexbury("Demand for early help peaked in January at 310 referrals.")
    _kept(real, "Demand for early help reached a high peak in January, at 310 referrals.", [peak])
    other = Hit("d-report", "The report was presented by Councillor Priya Okafor, who thanked the Head of Service and the "
                "Corporate Parenting Panel for the report on Sufficiency.",
                {"source_id": "d", "council": "Dunmere City Council", "council_key": "dunmere"}, 1.0)
    claim = "Okafor reported that at 31 March 2022 there were 412 children in care in Wexbury."
    _refused(real, claim, [hit], "names Okafor", evidence=[hit, other])
    _kept(real, claim, [hit])  # with no other block naming Okafor, a capital of grammar
    # Another block's capitals name a person only after a title: 'Sufficiency' and 'Corporate' are no names.
    for kept in ("Sufficiency of placements was discussed: at 31 March 2022 there were 412 children in care in "
                 "Wexbury.", "However, there were 412 children in care in Wexbury at 31 March 2022."):
        assert "names" not in real.check(kept, [hit], evidence=[hit, other]).reason, kept


def test_figures_of_two_councils_joined_in_one_claim_are_unsupported(real):
    carers = Hit("d1", "57 foster carers were approved in 2021/22, the highest number for five years.",
                 {"source_id": "d", "council": "Dunmere City Council", "council_key": "dunmere"}, 1.0)
    budget = _wexbury("The fostering budget was overspent by £1.2 million in 2021/22.")
    _refused(real, "The 57 foster carers approved in 2021/22 were recruited at a cost of £1.2 million [1][2].",
             [carers, budget], "different councils")
    # Each council's figure before its own block's marker, as the prompt asks (a sentence ends with the block it
    # comes from); the same sentence on one run of both markers relates two blocks' figures, and is refused.
    blocks = {1: carers, 2: budget}
    _kept(real, "Dunmere approved 57 foster carers in 2021/22 [1], while Wexbury overspent its fostering budget by "
          "£1.2 million [2].", [carers, budget], blocks=blocks)
    _refused(real, "Dunmere approved 57 foster carers in 2021/22, while Wexbury overspent its fostering budget by "
             "£1.2 million [1][2].", [carers, budget], "together", blocks=blocks)
    _kept(real, "57 foster carers were approved in 2021/22 [1][2].", [carers, budget])


def test_the_highest_is_not_the_lowest(real):
    guard = real
    carers = Hit("d1", "57 foster carers were approved in 2021/22, the highest number for five years.",
                 {"source_id": "d", "council": "Dunmere City Council", "council_key": "dunmere"}, 1.0)
    _refused(guard, "57 foster carers were approved in 2021/22, the lowest number for five years.", [carers])
    _kept(guard, "57 foster carers were approved in 2021/22, the largest number for five years.", [carers])
    balance = Hit("b1", "The fostering service ended the year with a surplus of £40,000.",
                  {"source_id": "b", "council": "Dunmere City Council", "council_key": "dunmere"}, 1.0)
    _refused(guard, "The fostering service ended the year with a deficit of £40,000.", [balance])


STOCKTON_CARERS = Hit("st1", "Stockton-on-Tees recruited 57 new foster carers during the year, and the panel welcomed "
                      "the progress.", {"source_id": "st", "council": "Stockton-on-Tees Borough Council",
                                        "council_key": "stockton tees"}, 1.0)


def test_a_claim_that_opens_with_another_councils_short_name_is_not_supported():
    # At a sentence's start a capital proves no name, so the missing-name check lets 'Redcar' by: only knowing it as
    # Redcar and Cleveland's short name stops a model's claim moving Stockton's carers there.
    guard = Guard(HashingEmbedder(), ["stockton tees", "redcar cleveland"], short_names={"redcar": "redcar cleveland"})
    verdict = guard.check("Redcar recruited 57 new foster carers during the year [1]", [STOCKTON_CARERS])
    assert not verdict.supported and verdict.reason == "names redcar cleveland, which the cited item is not about"
    assert guard.check("Stockton-on-Tees recruited 57 new foster carers during the year [1]",
                       [STOCKTON_CARERS]).supported
    # Minutes that themselves name Redcar may be cited for it.
    joint = Hit("st2", "Stockton-on-Tees and Redcar recruited 57 new foster carers during the year together.",
                STOCKTON_CARERS.metadata, 1.0)
    assert guard.check("Redcar recruited 57 new foster carers during the year [1]", [joint]).supported


def test_the_assistants_guard_knows_the_directorys_short_names(hashing_assistant):
    verdict = hashing_assistant.guard.check("Redcar recruited 57 new foster carers during the year [1]",
                                            [STOCKTON_CARERS])
    assert not verdict.supported and "redcar cleveland" in verdict.reason


def test_words_in_quotation_marks_must_be_the_cited_minutes_own(guard):
    """'The minutes record that "all 148 children discharged in 2018 returned home safely"' had passed as a close
    paraphrase: a quotation tells the reader these are the minutes' own words."""
    invented = guard.check('The minutes record that "all 148 children discharged from care in 2018 returned home '
                           'safely".', [_hit()])
    assert not invented.supported and "quotes words the cited minutes do not contain" in invented.reason
    stretched = guard.check("The Panel was told: \u201c148 children were discharged from care in 2018, all to "
                            "adoption.\u201d", [_hit()])
    assert not stretched.supported and "quotes words" in stretched.reason
    # The minutes' own words pass however they are quoted: straight or curly, across a line break, with an
    # apostrophe or a dash written otherwise, and a word the minutes put in quotation marks themselves.
    for claim in ('The Panel noted that "adoption orders had risen since the previous year".',
                  "In 2018, \u201c148 children were discharged\nfrom care\u201d in Rotherham.",
                  "The Panel noted that \u2018adoption orders had risen\u2019 since the previous year."):
        assert "quotes words" not in guard.check(claim, [_hit()]).reason, claim
    managed = _hit("Family contact \u2013 how is this being \u2018managed\u2019 given the children's high demand.")
    assert "quotes words" not in guard.check('Family contact - how is this being "managed" given the '
                                             "children\u2019s high demand?", [managed]).reason


def test_quotations_are_read_from_double_and_curly_quotes_not_from_apostrophes():
    from assistant.verify.guard import quotations

    assert quotations('He said "one" and \u201ctwo\u201d and \u2018three\u2019.') == ["one", "two", "three"]
    assert quotations("The children\u2019s home and the Council's plan.") == []
    assert quotations("\u2018The children\u2019s home\u2019 closed.") == ["The children\u2019s home"]
    assert quotations('An unclosed "quotation') == []


def test_a_quotation_that_leaves_words_out_with_an_ellipsis_keeps_to_the_minutes_own(guard):
    """A faithful quotation marks the words it leaves out with an ellipsis ('"148 children were discharged ... in
    2018"'); each part must stand in the cited minutes, in their order."""
    for claim in ('The Panel was told that "148 children were discharged \u2026 in 2018".',
                  'The Panel was told that "148 children were discharged ... in 2018".',
                  'The minutes say "148 children were discharged [...] in 2018".'):
        assert "quotes words" not in guard.check(claim, [_hit()]).reason, claim
    for claim in ('The Panel was told that "148 children were discharged ... to adoption".',
                  'The Panel was told that "in 2018 ... 148 children were discharged".'):
        verdict = guard.check(claim, [_hit()])
        assert not verdict.supported and "quotes words" in verdict.reason, claim


def test_a_quotation_inside_a_quotation_may_change_its_marks(guard):
    """Quoting minutes that quote, the inner marks turn from double to single or back: '\u201c... as
    \u2018outstanding\u2019 ...\u201d' quotes 'as "outstanding"' as written."""
    double = _hit('The Chair described the service as "outstanding" in 2018.')
    assert "quotes words" not in guard.check(
        "The minutes record: \u201cThe Chair described the service as \u2018outstanding\u2019 in 2018\u201d.",
        [double]).reason
    single = _hit("The Chair described the service as \u2018outstanding\u2019 in 2018.")
    assert "quotes words" not in guard.check(
        "The minutes record: \u2018The Chair described the service as \u201coutstanding\u201d in 2018\u2019.",
        [single]).reason


def test_a_figure_that_ends_a_sentence_counts_no_word_of_the_next(guard):
    """'... to 146 in February 2018. Children on a plan ...': 2018 ends its sentence, and counts no children, so
    '146 children in care' is not refused as though the minutes gave 2018 as the children's figure."""
    hit = _hit("The number of children in care increased from 116 in March 2017 to 146 in February 2018.\n\n"
               "Children on a child protection plan had decreased from 171 in March 2017 to 105 in March 2018.")
    verdict = guard.check("There were 146 children in care in February 2018.", [hit])
    assert "is not the figure for" not in verdict.reason
    moved = _hit("The Council recruited 5 new carers. 3 were agency staff.")  # a figure's word still counts
    assert "is not the figure for" in guard.check("The Council recruited 3 new carers.", [moved]).reason


def test_a_figure_opening_the_cited_minutes_is_read_like_any_other(guard):
    """A chunk that opens with a figure had no word before it to read as a whole's marker: the check raised
    IndexError, and the sentence went unjudged (from a code review)."""
    claim = "12 children were adopted."
    opening = guard.check(claim, [_hit("146 children were in care in March, and 12 were adopted.")])
    inside = guard.check(claim, [_hit("In all 146 children were in care in March, and 12 were adopted.")])
    assert opening.reason == inside.reason == "in the cited minutes, 12 is not the figure for children"
