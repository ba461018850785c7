"""Question analysis: what kind of fact a question asks for, and which months, years and councils it names."""

import pytest

from assistant.retrieve.question import analyse


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


@pytest.mark.parametrize("text, months", [
    ("What did Ofsted find at its June monitoring visit?", (6,)),
    ("What was the caseload in December and in March 2019?", (12, 3)),
    ("What happened in May 2019?", (5,)),
    ("What may the committee do about it?", ()),
])
def test_months_a_question_names(text, months):
    assert analyse(text).months == months


@pytest.mark.parametrize("text, expects", [
    ("Which provider now delivers the taught part of the apprenticeship?", "name"),
    ("What is the government's drug strategy called?", "name"),
    ("What does VEMT stand for?", "name"),
    ("Which councils' minutes show dental checks being delayed?", ""),
    ("What kind of provision is the council setting up?", ""),
])
def test_questions_asking_for_a_named_thing(text, expects):
    assert analyse(text).expects == expects
