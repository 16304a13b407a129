"""Region-name lookups shared by the readers (thin wrappers over :mod:`ansim.geo.regions`)."""

from __future__ import annotations

from ansim.geo.regions import find_region

SEOUL_CODE = "11"
# Misspellings in source files that the crosswalk does not know (DS4C Weather: "Chunghceongbuk-do").
_PROVINCE_TYPOS = {"chunghceongbuk-do": "Chungcheongbuk-do"}


def gu_code(name_or_code: str) -> str:
    """Administrative code of a Seoul district; ``KeyError`` when the name is not one."""
    found = find_region(name_or_code)
    if found is None or found.level != "gu":
        raise KeyError("not a Seoul district")
    return found.code


def province_code(name: str) -> str:
    """2-digit code of a province (sido) by Korean, short or English name; ``KeyError`` otherwise."""
    found = find_region(_PROVINCE_TYPOS.get(name.strip().lower(), name))
    if found is None or found.level != "province":
        raise KeyError("not a province")
    return found.code


def best_region_code(province: str, city: str) -> str | None:
    """The finest code we know: the Seoul gu when the province is Seoul, else the province."""
    try:
        code = province_code(province)
    except KeyError:
        return None
    if code == SEOUL_CODE and city:
        try:
            return gu_code(city)
        except KeyError:
            return code
    return code
