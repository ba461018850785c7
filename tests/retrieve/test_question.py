"""Question analysis: the kind of fact a question asks for, and which councils and years it names."""

import pytest

from assistant.retrieve.question import analyse


@pytest.mark.parametrize("text, asks", [
    ("How many referrals were there in 2019?", "figure"),
    ("How much is the council spending on the new hub?", "figure"),
    ("What is the average age of foster carers?", "figure"),
    ("What percentage of care leavers were in education?", "figure"),
    ("When is the next monitoring visit?", "date"),
    ("Which year did the service go live?", "date"),
    ("When Ofsted visited, what did it find?", ""),
    ("Who chaired the panel?", "person"),
    ("Which officer presented the report?", "person"),
    ("What did members say about dental checks?", ""),
])
def test_the_kind_of_fact_asked_for(text, asks):
    assert analyse(text).asks == asks


def test_councils_and_years_named():
    question = analyse("How did Rotherham and Sefton compare in 2018/19?", ["rotherham", "sefton", "barnsley"])
    assert set(question.councils) == {"rotherham", "sefton"}
    assert question.years == (2018, 2019)
    assert question.which_councils and question.names_several_councils
