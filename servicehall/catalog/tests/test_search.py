import pytest

from servicehall.catalog import queries

pytestmark = pytest.mark.django_db


def names(query):
    return [hit.item.name for hit in queries.search(query)]


def test_birth_registration_found_for_two_characters(catalogue):
    assert names("出生")[0] == "婴儿出生登记"


@pytest.mark.parametrize("query", ["护照", "户籍", "驾驶", "签注", "消防", "居住证"])
def test_two_character_words_find_items(catalogue, query):
    hits = queries.search(query)
    assert hits, query
    assert query in (hits[0].item.search_text)


def test_passport_items_for_huzhao(catalogue):
    found = names("护照")
    assert any("普通护照" in name for name in found)
    assert all("护照" in hit.item.search_text for hit in queries.search("护照"))


def test_every_term_must_match(catalogue):
    both = queries.search("护照 签发")
    assert both
    assert all("护照" in h.item.search_text and "签发" in h.item.search_text for h in both)


def test_terms_no_single_item_matches_fall_back_to_either(catalogue):
    hits = queries.search("护照 驾驶证")  # no item is about both
    texts = [hit.item.search_text for hit in hits]
    assert any("护照" in t for t in texts) and any("驾驶" in t for t in texts)
    assert all("护照" in t or "驾驶" in t or "驶证" in t for t in texts)


def test_a_sentence_still_finds_the_service(catalogue):
    assert any("护照" in name for name in names("我想办理护照"))


def test_english_names_are_searchable(catalogue):
    assert any("出生" in name for name in names("birth"))


def test_nonsense_and_empty_queries_find_nothing(catalogue):
    assert names("") == []
    assert names("   ") == []
    assert names("qqqxyz") == []


def test_overlong_query_is_refused():
    with pytest.raises(queries.QueryTooLong):
        queries.normalise("护" * 51)
