"""The grounding guard on the real embedding model, one behaviour at a time: figures written as words or given for
another group, a year a few words from its figure, a denial of each kind, the threshold from below; and supported
sentences that a check reaching too far would hide."""

import pytest

from assistant.records import Hit

import test_guard
from test_guard import LOOKED_AFTER, _hit, _kept, _refused, _wexbury

real = test_guard.real  # the guard on the real embedding model, a fixture of this module too


def _dunmere(text: str) -> Hit:
    # Its id from its text, as _wexbury's: the guard keeps each chunk's sentences by id.
    return Hit(f"d-{hash(text)}", text, {"source_id": "d", "council": "Dunmere City Council",
                                         "council_key": "dunmere", "meeting_date": "2022-09-14"}, 1.0)


# Figures shown as fact that the minutes do not give as such.

@pytest.mark.parametrize("minutes, claim", [
    ("The number of foster carers approved in 2018 was eleven.",
     "The number of foster carers approved in 2018 was twelve."),
    ("Eleven foster carers were approved in 2018.", "Twelve foster carers were approved in 2018."),
])
def test_a_figure_written_as_a_word_that_the_minutes_do_not_give_is_refused(real, minutes, claim):
    """A model that writes 'twelve' where the minutes say 'eleven' would show the user a number no meeting
    recorded."""
    _refused(real, claim, [_wexbury(minutes)], "the figure twelve is not in the cited minutes")


def test_a_figure_written_as_a_word_that_the_minutes_give_in_digits_is_kept(real):
    """'Twelve' for the minutes' '12' is the same figure: refusing it would hide a faithful answer."""
    _kept(real, "Twelve foster carers were approved in 2018.", [_wexbury("12 foster carers were approved in 2018.")])


@pytest.mark.parametrize("minutes, wrong, right, reason", [
    ("There were 5 permanent social workers and 3 agency social workers.", "There were 3 permanent social workers.",
     "There were 3 agency social workers.", "3 is not the figure for permanent"),
    # 'carers' and 'care leavers' share their first three letters, not their first five.
    ("The Panel approved 5 carers and 3 care leavers.", "The Panel approved 3 carers.",
     "The Panel approved 3 care leavers.", "3 is not the figure for carers"),
])
def test_a_figure_the_minutes_give_for_another_group_is_refused_and_kept_for_its_own(real, minutes, wrong, right,
                                                                                     reason):
    """The user would read the agency staff's 3 as the number of permanent social workers; the same figure with
    its own group must still be shown."""
    _refused(real, wrong, [_wexbury(minutes)], reason)
    _kept(real, right, [_wexbury(minutes)])


def test_a_figure_moved_to_the_other_date_of_its_sentence_is_refused_with_the_date_four_words_from_it(real):
    """'412 children in care at 31 March 2022' would be shown as the count for 2021, a year the minutes give 388
    for."""
    minutes = _wexbury("There were 412 children in care at 31 March 2022 and 388 children in care at 31 March 2021.")
    _refused(real, "There were 412 children in care at 31 March 2021.", [minutes],
             "412 is the figure for 2022, not 2021")
    _kept(real, "There were 388 children in care at 31 March 2021.", [minutes])


@pytest.mark.parametrize("in_2022", ["in 2022", "at 31 March 2022", "on 31 March 2022", "for 2022", "during 2022",
                                     "in March of 2022"])
def test_a_figure_moved_to_another_year_is_refused_whichever_word_ties_it_to_its_year(real, in_2022):
    """A figure the minutes tie to 2022 by 'in', 'at', 'on', 'for', 'during' or 'of' would be shown as 2021's."""
    in_2021 = in_2022.replace("2022", "2021")
    minutes = _wexbury(f"The service received 412 referrals {in_2022}, compared with 388 {in_2021}.")
    _refused(real, f"The service received 412 referrals {in_2021}.", [minutes], "412 is the figure for 2022, not 2021")


@pytest.mark.parametrize("contrast", ["but", "however", "although", "though", "whereas", "while"])
def test_a_figure_moved_across_a_contrast_word_with_no_comma_before_it_is_refused(real, contrast):
    """Schools' share of referrals would be shown as hospitals', which the minutes say sent very few."""
    minutes = _wexbury(f"39% of referrals came from schools {contrast} very few came from hospitals.")
    _refused(real, "39% of referrals came from hospitals.", [minutes], "39 is the figure from schools, not from "
                                                                       "hospitals")


def test_a_figure_the_minutes_give_only_as_what_would_have_been_is_not_stated_as_fact(real):
    """An overspend that the minutes say would have happened had the homes stayed closed would be shown as one
    that did."""
    minutes = _wexbury("If the new homes had stayed closed, the overspend on placements would have been £1.2m.")
    _refused(real, "The overspend on placements was £1.2m.", [minutes], "projection")
    _kept(real, "The overspend on placements would have been £1.2m if the new homes had stayed closed.", [minutes])


def test_figures_of_two_councils_joined_in_a_claim_that_names_only_one_of_them_are_refused(real):
    """Dunmere's note of Wexbury's 57 carers and Wexbury's own overspend would be joined into a cost per carer
    that neither council's minutes give."""
    carers = _dunmere("Members noted that Wexbury had approved 57 foster carers in 2021/22, the highest number for "
                      "five years.")
    budget = _wexbury("The fostering budget was overspent by £1.2 million in 2021/22.")
    for claim in ("In Wexbury, the 57 foster carers approved in 2021/22 were recruited at a cost of £1.2 million.",
                  "Wexbury's 57 foster carers approved in 2021/22 were recruited at a cost of £1.2 million [1][2]."):
        _refused(real, claim, [carers, budget], "different councils")
    _kept(real, "Wexbury approved 57 foster carers in 2021/22 [1].", [carers, budget])


def test_a_year_the_block_a_sentence_cites_does_not_give_is_refused_though_another_cited_block_does(real):
    """'Adoption orders had risen in 2021 [1]' would date a 2018 meeting's remark to 2021, from a block the
    sentence does not cite."""
    verdict = real.check("Adoption orders had risen in 2021 [1].", [_hit(), LOOKED_AFTER], {1: _hit(), 2: LOOKED_AFTER})
    assert not verdict.supported and "gives 2021, which no cited block gives together" in verdict.reason, verdict


@pytest.mark.parametrize("minutes, claim", [
    ("The Panel received the annual report of the fostering service and noted the recruitment campaign.",
     "The campaign doubled the number of foster carers."),
    ("The Panel received the annual report of the fostering service and noted the recruitment campaign.",
     "The fostering service is short of carers."),
    ("The Board noted the report on placement stability and thanked officers for their work.",
     "Placement stability has improved."),
])
def test_a_claim_the_minutes_only_touch_on_is_refused_at_the_default_threshold(real, minutes, claim):
    """These claims score just under the default threshold: a looser one would show the user an outcome the
    minutes never report."""
    verdict = real.check(claim, [_wexbury(minutes)])
    assert not verdict.supported and verdict.reason.startswith("too far from the cited minutes"), verdict


# The meaning of the minutes turned round.

@pytest.mark.parametrize("minutes, claim", [
    ("The Panel did not approve the plan.", "The plan was approved by the Panel."),
    ("No approval of the budget for the new home has been given by the Panel.",
     "The Panel has approved the budget for the new home."),
])
def test_a_denial_dropped_in_a_reworded_sentence_is_refused(real, minutes, claim):
    """Reworded, with its words in another order, the sentence would tell the user the Panel approved what the
    minutes say it did not."""
    verdict = real.check(claim, [_wexbury(minutes)])
    assert not verdict.supported, verdict


def test_a_denial_the_minutes_give_to_another_thing_is_not_moved_onto_this_one(real):
    """The Panel approved the plan and refused the budget: the user would be told it refused the plan."""
    minutes = _wexbury("The Panel approved the plan, but did not approve the budget.")
    _refused(real, "The Panel did not approve the plan.", [minutes], "denies what the cited minutes state")
    _kept(real, "The Panel did not approve the budget.", [minutes])


def test_a_denial_standing_two_words_before_what_it_denies_is_not_dropped(real):
    """'were not yet carrying out assessments' would be shown as partners carrying them out."""
    minutes = _wexbury("Health partners were not yet carrying out assessments, but no plan was agreed.")
    _refused(real, "Health partners were carrying out assessments, but no plan was agreed.", [minutes],
             "leaves out a denial")


@pytest.mark.parametrize("denial, minutes, claim", [
    ("not", "The Panel did not approve the plan for the new children's home.",
     "The Panel did approve the plan for the new children's home."),
    ("no", "The Panel noted there was no waiting list for short breaks.",
     "The Panel noted there was a waiting list for short breaks."),
    ("never", "Adoption orders had never exceeded the target set by the Board.",
     "Adoption orders had exceeded the target set by the Board."),
    ("none", "None of the care leavers were placed in unregulated accommodation.",
     "Care leavers were placed in unregulated accommodation."),
    ("neither", "Neither option for the new children's home was approved by the Board.",
     "Each option for the new children's home was approved by the Board."),
    ("nor", "The plan was not costed, nor approved by the Board.",
     "The plan was not costed, but approved by the Board."),
    ("non", "The Panel noted the non attendance of health partners at the meeting.",
     "The Panel noted the attendance of health partners at the meeting."),
    ("without", "The plan was agreed without consultation of the Youth Council.",
     "The plan was agreed with consultation of the Youth Council."),
    ("cannot", "The service cannot meet the demand for foster placements.",
     "The service can meet the demand for foster placements."),
    ("unable", "The service was unable to recruit enough foster carers this year.",
     "The service was able to recruit enough foster carers this year."),
    ("fail", "Several homes fail to meet the standard for staffing.", "Several homes meet the standard for staffing."),
    ("fails", "The home fails to meet the standard for staffing.", "The home does meet the standard for staffing."),
    ("failed", "The service failed to meet its target for reviews.", "The service did meet its target for reviews."),
    ("reject", "Members voted to reject the proposal to close the children's home.",
     "Members voted to accept the proposal to close the children's home."),
    ("rejects", "The Board rejects the proposal to close the children's home.",
     "The Board backs the proposal to close the children's home."),
    ("rejected", "Members rejected the suggestion that the Council should close the children's home.",
     "Members accepted the suggestion that the Council should close the children's home."),
    ("refuse", "Members may refuse to fund the new children's home.",
     "Members may vote to fund the new children's home."),
    ("refuses", "The Board refuses to fund the new children's home.",
     "The Board votes to fund the new children's home."),
    ("refused", "The Board refused to fund the new children's home.",
     "The Board voted to fund the new children's home."),
    ("decline", "Members may decline to fund the new children's home.",
     "Members may agree to fund the new children's home."),
    ("declines", "The Board declines to fund the new children's home.",
     "The Board agrees to fund the new children's home."),
    ("declined", "The Board declined to fund the new children's home.",
     "The Board agreed to fund the new children's home."),
])
def test_a_sentence_that_leaves_out_a_denial_of_any_kind_is_refused(real, denial, minutes, claim):
    """Each of these words denies what follows it; without it the user would be told the opposite of the minutes."""
    assert denial in minutes.lower().split()
    _refused(real, claim, [_wexbury(minutes)], "leaves out a denial")


@pytest.mark.parametrize("minutes, wrong, right, reason", [
    ("Adoption orders rose sharply in the year.", "Adoption orders fell.", "Adoption orders rose.",
     "says 'fell' where the cited minutes say 'rose'"),
    ("Waiting times for assessments fell over the summer.", "Waiting times rose.", "Waiting times fell.",
     "says 'rose' where the cited minutes say 'fell'"),
])
def test_a_short_claim_that_turns_the_direction_round_is_refused(real, minutes, wrong, right, reason):
    """A claim that shares only two words with its minutes would otherwise pass on its score alone, reversed."""
    _refused(real, wrong, [_wexbury(minutes)], reason)
    _kept(real, right, [_wexbury(minutes)])


@pytest.mark.parametrize("minutes, claim", [
    ("Members heard that the service was better than its statistical neighbours, though not in every area.",
     "It was not better."),
    ("The Board agreed the plan for the new children's home, though not its budget.", "That was not agreed."),
])
def test_a_denial_added_to_a_clause_that_shares_little_with_the_minutes_is_refused(real, minutes, claim):
    """A short denial matches no clause of the minutes word for word; read beside their closest sentence it still
    denies what they state."""
    _refused(real, claim, [_wexbury(minutes)], "denies what the cited minutes state")


# Supported sentences that a check reaching too far would hide.

KEPT = [
    pytest.param([_wexbury("There were 300 children in care in March, and the number was expected to rise to 300 by "
                           "June.")],
                 "There were 300 children in care in March.", id="a figure given as fact and as a projection"),
    pytest.param([_wexbury("Care leavers aged 16 to 18 were offered support.")],
                 "Care leavers aged 16 to 18 years were offered support.", id="ages with the years written"),
    pytest.param([_wexbury("The sufficiency strategy will be delivered over the period to 2025.")],
                 "The sufficiency strategy will be delivered by 2025.", id="a year after by or to"),
    pytest.param([_wexbury("39% of referrals came from schools; 39% of contacts came from hospitals.")],
                 "39% of contacts came from hospitals.", id="a figure one clause gives for the claim's thing"),
    pytest.param([_dunmere("In Dunmere 148 children were discharged from care in 2018."),
                  _dunmere("Compared with Wexbury, where 90 children were discharged from care in 2018, the rate was "
                           "higher.")],
                 "In Wexbury, 90 children were discharged from care in 2018.",
                 id="another council's figure its minutes name"),
    pytest.param([_dunmere("The Panel compared its adoption figures with Wexbury's and noted the report.")],
                 "Dunmere's Panel compared its adoption figures with Wexbury's.",
                 id="a council the minutes name"),
    pytest.param([_wexbury("Most children in care had an up-to-date plan, and 12 were awaiting a review.")],
                 "Most children in care had an up-to-date plan.", id="an amount word the minutes use"),
    pytest.param([_wexbury("The Panel did not approve the plan for the new children's home.")],
                 "The Panel refused to approve the plan for the new children's home.", id="a denial for a denial"),
    pytest.param([_wexbury("Referrals rose early on then dropped by the end of the quarter.")],
                 "Referrals fell by the end of the quarter.", id="a direction for its synonym"),
    pytest.param([_wexbury("The strategy runs for 5 years, with a review after 3.")],
                 "The strategy will be reviewed after 3 years.", id="a figure of years the minutes leave unsaid"),
]


@pytest.mark.parametrize("minutes, claim", KEPT)
def test_a_supported_sentence_is_not_hidden_by_a_check_that_reaches_too_far(real, minutes, claim):
    """Each sentence says what its minutes say; refusing it would leave the user without a true answer."""
    _kept(real, claim, minutes)
