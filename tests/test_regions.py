import pytest

from ansim.geo.regions import find_region, region, seoul_districts


def test_25_districts_with_population_summing_to_seoul(data_dir) -> None:
    gus = seoul_districts(data_dir=data_dir)
    assert len(gus) == 25
    # Seoul 2020 resident registration totals 10,013,781 over the 25 gu (SOURCES-2).
    assert sum(g.population or 0 for g in gus) == 10_013_781


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("종로구", "11110"),
        ("Jongno-gu", "11110"),
        ("kostat:11010", "11110"),
        ("Dongjag-gu", "11590"),  # DS4C spelling
        ("동작구", "11590"),
        ("서울", "11"),
        ("Gyeonggi-do", "41"),
        ("Sejongsi", "36"),
        ("kostat:21", "26"),
    ],
)
def test_crosswalk_every_spelling(name: str, code: str, data_dir) -> None:
    assert region(name, data_dir=data_dir).code == code


def test_unknown_region_is_none_or_keyerror(data_dir) -> None:
    assert find_region("Atlantis-gu", data_dir=data_dir) is None
    with pytest.raises(KeyError, match="Atlantis"):
        region("Atlantis-gu", data_dir=data_dir)
