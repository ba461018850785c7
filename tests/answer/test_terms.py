"""How much of a question a passage mentions: weighted words, glossary synonyms and acronyms (no model, no index)."""

from assistant.answer.glossary import covered_by_synonym
from assistant.answer.terms import QuestionTerms
from assistant.retrieve.question import analyse
from assistant.text import lexical_tokens


class SmallIndex:
    """Just what QuestionTerms reads of a keyword index: its size and how common each word is."""

    def __len__(self):
        return 100

    def document_frequency(self, token):
        return 5


def test_synonyms_match_whole_phrases_not_single_words():
    question = lexical_tokens("When did the integrated front door go live?")
    assert covered_by_synonym(question, lexical_tokens("The MASH went live in May.")) >= {"front", "door"}
    assert not covered_by_synonym(question, lexical_tokens("Safeguarding training was delivered."))


def test_an_acronym_in_the_minutes_covers_the_words_of_the_question():
    terms = QuestionTerms(analyse("How many staff carry out return home interviews?"), SmallIndex())
    with_acronym = terms.coverage("There were 3 members of staff that conducted RHI's.")
    without = terms.coverage("There were 3 members of staff in the team.")
    assert with_acronym > without
    # Two letters match too much by chance: 'carry out' is not 'co'.
    assert terms.coverage("The CO was there.") == 0.0


def test_words_every_question_shares_do_not_count():
    terms = QuestionTerms(analyse("What did the committee say about kinship carers?"), SmallIndex())
    assert terms.coverage("The committee said a great deal.") == 0.0
    assert terms.coverage("Kinship carers were thanked.") == 1.0
