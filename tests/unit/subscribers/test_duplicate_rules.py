import pytest

from subscribers.duplicates import are_similar_names, edit_distance, find_duplicates
from subscribers.model import DuplicateKind, PhoneReuse, SharedAddress, SubscriberId, SubscriberName
from subscribers.text import search_key


def person(id_: int, name: str) -> SubscriberName:
    return SubscriberName(id=SubscriberId(id_), name=name, name_key=search_key(name))


@pytest.mark.parametrize(("first", "second", "distance"),
                         [("", "", 0), ("abc", "", 3), ("kitten", "sitting", 3), ("رضا", "رضا", 0),
                          ("flaw", "lawn", 2)])
def test_edit_distance_counts_the_fewest_single_character_edits(first, second, distance):
    assert edit_distance(first, second) == distance == edit_distance(second, first)


@pytest.mark.parametrize(("first", "second"), [
    ("علی رضایی", "علي رضايي"),       # Arabic keyboard letters.
    ("Ali Rezaei", "ali rezaee"),     # A typo.
    ("رضایی", "علی رضایی"),           # A surname alone, within the full name.
    ("Mohammad Hosseini", "Mohamad Hoseini"),
])
def test_names_one_person_might_be_given_are_similar(first, second):
    assert are_similar_names(search_key(first), search_key(second))


@pytest.mark.parametrize(("first", "second"), [
    ("Ali", "Reza"),
    ("Sara", "Dara"),          # Short names: one letter apart is another person.
    ("Ali Rezaei", "Maryam Ahmadi"),
    ("", "Ali"),
    ("al", "Khalil"),          # Too short to count as contained.
])
def test_different_names_are_not_similar(first, second):
    assert not are_similar_names(search_key(first), search_key(second))


def test_a_reused_number_and_a_shared_address_make_one_pair_with_both_reasons():
    ali, ali_again, neighbour = person(7, "Ali Rezaei"), person(3, "Ali Rezaei"), person(9, "Maryam Ahmadi")
    pairs = find_duplicates(
        [PhoneReuse(earlier=ali, current=ali_again, e164="+989121234567")],
        [SharedAddress(first=ali_again, second=ali, address_text="Valiasr St 12"),
         SharedAddress(first=ali, second=neighbour, address_text="Valiasr St 12")],
    )
    assert len(pairs) == 1
    assert (pairs[0].first.id, pairs[0].second.id) == (3, 7)
    assert [(r.kind, r.detail) for r in pairs[0].reasons] == [
        (DuplicateKind.PHONE_IN_HISTORY, "+989121234567"),
        (DuplicateKind.SAME_NAME_SAME_ADDRESS, "Valiasr St 12"),
    ]


def test_similar_names_at_one_address_are_flagged_and_stronger_pairs_come_first():
    pairs = find_duplicates(
        [PhoneReuse(earlier=person(5, "Sara"), current=person(6, "Sara K"), e164="+982188776655")],
        [SharedAddress(first=person(1, "Hassan Karimi"), second=person(2, "Hasan Karimi"),
                       address_text="Azadi Sq")],
    )
    assert [(p.first.id, p.second.id, p.reasons[0].kind) for p in pairs] == [
        (5, 6, DuplicateKind.PHONE_IN_HISTORY),
        (1, 2, DuplicateKind.SIMILAR_NAME_SAME_ADDRESS),
    ]


def test_a_subscriber_is_never_its_own_duplicate():
    ali = person(1, "Ali")
    assert find_duplicates([PhoneReuse(earlier=ali, current=ali, e164="+989121234567")], []) == []
