"""The answerer's rules, one at a time, on made-up sentences: fast, no model, no index."""

import pytest

from assistant.evidence import ScoredSentence, gives_new_figure, is_heading, provides, _refers_back
from assistant.extractive import (_PROSPECTIVE, _RANKING, _counted_noun, _names_counted, _same_period, _speaks_of_earlier,
                                  _with_next_sentence)
from assistant.glossary import covered_by_synonym
from assistant.lexical import lexical_tokens
from assistant.question import analyse
from assistant.retrieve import Hit


def test_hyphenated_words_also_count_joined():
    assert "restructur" in lexical_tokens("after the re-structure")
    assert "restructur" in lexical_tokens("after the restructure")


def test_synonyms_match_whole_phrases_not_single_words():
    question = lexical_tokens("When did the integrated front door go live?")
    assert covered_by_synonym(question, lexical_tokens("The MASH went live in May.")) >= {"front", "door"}
    assert not covered_by_synonym(question, lexical_tokens("Safeguarding training was delivered."))


@pytest.mark.parametrize("text, flag, expected", [
    ("What has happened to the number of referrals since the change?", "wants", "trend"),
    ("How many referrals were there in 2019?", "wants", "number"),
    ("Which council has the lowest vacancy rate?", "extreme", True),
    ("What is the most recent rating?", "extreme", False),
    ("What was the judgement before its 2023 inspection?", "before_year", 2023),
    ("When is the next monitoring visit?", "upcoming", True),
    ("What did Ofsted find at the visit?", "outcome", True),
    ("When did the committee want the next report?", "outcome", False),
    ("How much is the council spending on the new hub?", "expects", "money"),
    ("What is the average age of foster carers?", "expects", "age"),
])
def test_question_analysis(text, flag, expected):
    assert getattr(analyse(text), flag) == expected


@pytest.mark.parametrize("line, heading", [
    ("Report of the Director of Social Care and Health", True),
    ("Meeting: 07/10/2014 - Cabinet (Item 101)", True),
    ("6 Children's Social Care Annual Report PDF 60 KB", True),
    ("Children's Social Care Improvement Plan", True),
    ("Over 20 Schools had committed to the Attachment Aware Schools Project", False),
    ("(Irfan Alam - 01274 432904)", False),
    ("The report was noted.", False),
])
def test_headings_are_told_from_statements(line, heading):
    assert is_heading(line) is heading


@pytest.mark.parametrize("sentence, refers", [
    ("Councillor Elliott was doing an excellent job with partners on this subject.", True),
    ("There were 560 such people across the county.", True),
    ("These were neglect and domestic abuse.", True),
    ("It was noted that there is still a lack of adopters.", False),
    ("The Service Director introduced this item.", False),
    ("Such as the ones listed above, most were closed.", False),
])
def test_sentences_that_point_back(sentence, refers):
    assert _refers_back(sentence) is refers


def test_a_capitalised_pair_of_ordinary_words_is_not_a_person():
    common = frozenset({"focused", "visit", "board"})
    asking = "Who chairs the board?"
    assert not provides("person", "It followed the September Focused Visit.", asking, common_words=common)
    assert provides("person", "Irfan Alam is the contact.", asking, common_words=common)
    assert provides("person", "The Team Leader will help.", asking, common_words=common)


def test_repeating_the_question_s_figure_is_not_answering():
    question = "What is the rate of children on plans per 10,000?"
    assert not gives_new_figure("The rate per 10,000 was higher than average.", question)
    assert gives_new_figure("The rate was 45 per 10,000.", question)
    assert not provides("percentage", "The rate per 10,000 was higher than average.", question)


def test_a_count_must_be_of_what_was_asked():
    adopters = analyse("How many adopters did the service approve?")
    noun = _counted_noun(adopters, frozenset())
    assert not _names_counted(noun, "35 children were placed outside the region.", [])
    assert _names_counted(noun, "The service approved 20 adopters.", [])
    people = analyse("How many people went to the development day?")
    assert _counted_noun(people, frozenset()) == ""  # 'people' says nothing: any count may answer


def test_a_figure_for_another_year_does_not_answer():
    assert not _same_period("In 2018 the MASH received 1,706 contacts.", (2019,))
    assert _same_period("In 2018/19 the MASH received 1,706 contacts.", (2019,))
    assert _same_period("The MASH received 1,706 contacts.", (2019,))


def test_plans_rankings_and_earlier_times():
    assert _PROSPECTIVE.search("The next monitoring visit would take place on 21 June.")
    assert not _PROSPECTIVE.search("The visit found that leaders had improved practice.")
    assert _RANKING.search("Bradford was one of the best performing authorities, with the lowest rate in the region.")
    assert not _RANKING.search("They looked at how best to identify and recruit social workers.")
    assert _speaks_of_earlier("Services were previously judged to require improvement.", 2023)
    assert _speaks_of_earlier("In 2019 services were judged good.", 2023)
    assert not _speaks_of_earlier("The inspection resulted in a judgement of good.", 2023)


def _scored(text: str, start: int, end: int) -> ScoredSentence:
    hit = Hit("c1", text, {"source_id": "s1"}, 1.0)
    return ScoredSentence(hit, 0, start, end, 1.0, 1.0)


def test_a_short_answer_sentence_brings_the_next_one_of_its_paragraph():
    text = "This was difficult to manage. We have employed additional contact staff.\nA new paragraph."
    first = _scored(text, 0, text.index(" We"))
    assert _with_next_sentence(first).text == "This was difficult to manage. We have employed additional contact staff."
    second = _scored(text, text.index("We"), text.index("\n"))
    assert _with_next_sentence(second).text == second.text  # the next paragraph is not brought in
