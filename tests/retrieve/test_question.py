"""Question analysis: the kind of fact a question asks for, and which councils and years it names."""

import pytest

from assistant.retrieve.question import analyse, councils_named
from assistant.text import council_key, has_a_topic


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
    # the two councils are compared with each other: searched alone, and both read (names_several_councils)
    assert not question.which_councils and question.names_several_councils


@pytest.mark.parametrize("text, council", [
    ("How many children did Telford & Wrekin place for adoption?", "Telford & Wrekin Council"),
    ("What did Bath and North East Somerset pay its foster carers?", "Bath and North East Somerset Council"),
    ("Who chairs the panel in Windsor and Maidenhead?", "Royal Borough of Windsor and Maidenhead"),
    ("What did the Vale of Glamorgan agree on care leavers?", "Vale of Glamorgan Council"),
    ("How many children in care does Brighton & Hove have?", "Brighton and Hove City Council"),
])
def test_a_council_is_named_with_the_words_its_key_drops(text, council):
    # The key drops 'and', 'of' and the like ('telford wrekin'), which the question still writes.
    keys = [council_key(council), "telford", "bath", "windsor", "barnsley"]
    assert analyse(text, keys).councils == (council_key(council),)


def test_a_key_must_still_stand_as_a_phrase_once_those_words_go():
    # 'north tyneside sefton' holds the words of 'north sefton' but not as a phrase.
    assert analyse("How do North Tyneside and Sefton compare?", ["north sefton", "sefton", "north tyneside"]).councils \
        == ("north tyneside", "sefton")


@pytest.mark.parametrize("text, councils", [
    ("What is the reading age of children in care in Sefton?", ("sefton",)),
    ("What did the panel hear about reading age?", ()),
    ("what is the reading age of looked after children", ()),
    ("What did Reading say about care leavers?", ("reading",)),
    ("WHAT DID READING SAY ABOUT CARE LEAVERS", ("reading",)),
    ("Did Bury's panel bury the report?", ("bury",)),
    ("How many foster carers did the corporation recruit?", ()),
])
def test_a_council_named_by_an_everyday_word_needs_its_capital(text, councils):
    keys = ["reading", "bury", "sefton", "corporation"]
    assert analyse(text, keys).councils == councils


def test_other_council_names_count_in_any_case():
    # Typed in a hurry, or by a phone that capitalised only the first word.
    assert analyse("What did sefton say about dental checks?", ["sefton", "reading"]).councils == ("sefton",)


def test_a_council_inside_a_longer_name_counts_when_it_is_also_named_alone():
    keys = ["somerset", "north somerset", "bath north east somerset"]
    assert set(analyse("How do Somerset and North Somerset compare?", keys).councils) == {"somerset", "north somerset"}
    assert analyse("What did North Somerset agree?", keys).councils == ("north somerset",)
    assert analyse("What did Bath and North East Somerset agree?", keys).councils == ("bath north east somerset",)


def test_initials_name_the_council_and_its_twin_keyed_by_them():
    # Items of one council indexed under 'BCP Council' and under its full name are both searched.
    keys = ["bournemouth christchurch poole", "bcp", "dorset"]
    assert set(analyse("What did BCP decide on exclusions?", keys).councils) == {"bournemouth christchurch poole", "bcp"}


INDEXED = ["sefton", "knowsley", "gloucestershire", "windsor maidenhead", "bath north east somerset", "reading",
           "southend", "surrey", "norfolk", "kent fire rescue", "newcastle upon tyne"]


@pytest.mark.parametrize("text, councils, which", [
    ("How does Sefton's rate of children in care compare with the national average?", ("sefton",), False),
    ("Compare Sefton and Knowsley on care leavers.", ("knowsley", "sefton"), False),  # searched among the two
    ("Compare the councils' use of agency staff.", (), True),
])
def test_compare_with_one_council_named_searches_that_council(text, councils, which):
    question = analyse(text, INDEXED)
    assert set(question.councils) == set(councils) and question.which_councils == which


@pytest.mark.parametrize("text, councils", [
    ("How many approved foster carers does South Gloucestershire have?", ()),  # not Gloucestershire
    ("How many approved foster carers does Gloucestershire have?", ("gloucestershire",)),
    ("How many children are in care in RBWM?", ("windsor maidenhead",)),
    ("What did BANES say about fostering?", ("bath north east somerset",)),
    ("What did B&NES's panel agree?", ("bath north east somerset",)),
    ("What did rbwm say?", ()),  # an initialism counts in capitals only
    ("Reading the latest update, how many foster carers does Sefton have?", ("sefton",)),
    ("Reading has how many foster carers?", ("reading",)),
    ("Reading: how many foster carers are there?", ("reading",)),
    ("How many foster carers are there in Southend-on-Sea?", ("southend",)),  # indexed as Southend Council
    ("How many foster carers does Surrey Heath have?", ()),  # another council than Surrey
    ("How many children are looked after in King's Lynn and West Norfolk?", ()),  # not Norfolk
    ("How many children are looked after in Kent?", ()),  # not Kent Fire and Rescue
    ("How many children are looked after in Newcastle?", ("newcastle upon tyne",)),
])
def test_the_councils_a_question_names(text, councils):
    assert analyse(text, INDEXED).councils == councils


@pytest.mark.parametrize("text, latest", [
    ("What is the latest number of children looked after in Sefton, compared with 2019?", True),
    ("How many children were looked after at the last meeting?", True),
    ("How many children are looked after at present?", True),
    ("What is the most up-to-date number of children looked after?", True),
    ("What was the latest number of children looked after in 2019?", False),
    ("How much has been spent to date?", False),
    ("Who was present at the meeting?", False),
    ("What percentage of care leavers had an up-to-date pathway plan?", False),
])
def test_a_question_for_the_newest_figure(text, latest):
    assert analyse(text, INDEXED).asks_latest == latest


def test_councils_the_directory_lacks_are_councils_a_question_names():
    # Essex, Nottinghamshire and Glasgow publish their minutes otherwise than through ModernGov: a question naming
    # one of them had named no council at all.
    assert analyse("How many children are looked after in Nottinghamshire?", ["gateshead"]).councils == ()
    from assistant.ingest.moderngov.directory import councils_elsewhere, directory_council_keys, load_directory
    assert {"essex", "nottinghamshire", "glasgow"} <= directory_council_keys()
    fetchable = {council.name for council in load_directory()}
    assert councils_elsewhere() and not fetchable & set(councils_elsewhere())
    assert councils_named("How many children are looked after in Nottinghamshire?",
                          directory_council_keys()) == ("nottinghamshire",)


@pytest.mark.parametrize("text, which", [
    ("Compare the number of looked after children in Gateshead and Rotherham", False),
    ("Which councils other than Gateshead and Rotherham discussed foster carer recruitment?", True),
    ("Compare foster carer recruitment across councils, such as Gateshead and Rotherham", True),
])
def test_councils_named_to_be_compared_are_searched_alone_and_councils_named_as_exceptions_are_not(text, which):
    question = analyse(text, ["gateshead", "rotherham", "durham"])
    assert set(question.councils) == {"gateshead", "rotherham"} and question.which_councils is which


def test_the_initials_of_a_council_not_indexed_name_no_council():
    # 'NEL' (North East London, an NHS body) is also North East Lincolnshire's initials, whose minutes are not
    # indexed: the question about the NHS body had been refused as one about that council.
    assert analyse("What did the NHS NEL ICB annual report say?", ["lincolnshire", "city london"]).councils == ()
    assert councils_named("What did the NHS NEL ICB annual report say?", ["north east lincolnshire"],
                          initialled=["lincolnshire"]) == ()
    assert analyse("What did BCP say about fostering?", ["bcp", "dorset"]).councils == ("bcp",)


def test_the_city_of_london_names_the_city_of_london_corporation():
    """Its name is all kind words but 'Corporation', so it is keyed 'corporation': 'the City of London' in a question
    named no council, and the question was answered from Bromley's minutes."""
    assert council_key("City of London Corporation") == council_key("City of London") == "corporation"
    keys = ["corporation", "bromley"]
    assert analyse("How many private fostering notifications did the City of London get?", keys).councils == (
        "corporation",)
    assert analyse("What did the corporation say about fostering?", keys).councils == ()  # a word, not a name
    assert analyse("How many children in care in London?", keys).councils == ()
    assert not has_a_topic("What about the City of London?", ("corporation",))


@pytest.mark.parametrize("name", ["The City of London", "City of London Council", "the City of London Corporation"])
def test_the_city_of_london_named_with_its_kind_words_is_the_corporation(name):
    """A council filter 'The City of London' or 'City of London Council' had been told no council in the index is
    called that, its key holding every word ('the city of london')."""
    assert council_key(name) == "corporation"


def test_a_person_named_after_a_title_and_a_hackney_carriage_name_no_council():
    """'Apart from Councillor Durham, ...' had been searched among Durham's minutes alone, and a question about
    hackney carriage fares among Hackney's."""
    keys = ["durham", "hackney", "sefton"]
    assert analyse("Apart from Councillor Durham, which councillors gave apologies?", keys).councils == ()
    assert analyse("What happens to the Hackney Carriage fare rise if objections come in?", keys).councils == ()
    assert analyse("What did Cllr J. Smith say about care leavers in Durham?", keys).councils == ("durham",)
    assert analyse("what did hackney say about fostering?", keys).councils == ("hackney",)
    assert analyse("Hackney carriage fares in Sefton?", keys).councils == ("sefton",)


@pytest.mark.parametrize("text, councils", [
    ("How many children are in care in Windsor?", ("windsor maidenhead",)),
    ("What did Bath say about foster carers?", ("bath north east somerset",)),
    ("How many foster carers did Redcar approve?", ("redcar cleveland",)),
    ("What did Stockton say about care leavers?", ("stockton on tees",)),
    ("What did Stockton-on-Tees say about care leavers?", ("stockton on tees",)),
    ("How long is bath time in Sefton's children's homes?", ("sefton",)),  # short names need a capital
    ("What did Councillor Telford ask about adoption?", ()),  # a person after a title
    ("How many care leavers does Kingston have?", ()),  # upon Thames, or upon Hull
    ("How many care leavers does Newcastle have?", ("newcastle upon tyne",)),  # not Newcastle-under-Lyme
    ("What did Cheshire West say?", ()),  # Cheshire West and Chester, or Cheshire East's west
])
def test_a_council_named_by_the_part_of_its_name_people_use_alone(text, councils):
    """Councillors say 'Redcar', 'Stockton' and 'Windsor'; those names had named no council, so a question about
    Redcar and Cleveland's foster carers was searched for among every council's minutes."""
    keys = INDEXED + ["redcar cleveland", "stockton on tees"]
    assert analyse(text, keys).councils == councils


def test_a_follow_up_naming_a_council_by_its_short_name_has_no_topic():
    from assistant.ingest.moderngov.directory import directory_short_names

    assert not has_a_topic("What about Redcar?", ("redcar cleveland",), directory_short_names())
    assert has_a_topic("What about Redcar's care leavers?", ("redcar cleveland",), directory_short_names())
