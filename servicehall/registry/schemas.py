"""API shapes of the same-name query (pydantic via django-ninja). Counts only, never a person."""

from ninja import Schema
from pydantic import Field


class DecadeOut(Schema):
    decade: int = Field(description="First year of the birth decade: 1980 = born 1980–1989")
    total: int
    male: int
    female: int


class DistrictCountOut(Schema):
    code: str = Field(description="6-digit district code")
    name: str
    total: int
    male: int
    female: int
    decades: list[DecadeOut]


class SpellingOut(Schema):
    name: str
    count: int
    is_query: bool = Field(description="true for the queried name itself")


class HomophonesOut(Schema):
    pinyin: str = Field(description="Canonical pinyin: 'zhang wei' or, with tones, 'zhang1 wei3'")
    total: int = Field(description="Residents whose name sounds like this, the name included")
    others: int = Field(description="The same without the queried name")
    spellings: int = Field(description="Distinct written names with this sound")
    top: list[SpellingOut] = Field(description="Most common spellings first (at most 10)")


class NameAnswerOut(Schema):
    name: str
    pinyin: str
    pinyin_tones: str
    total: int = Field(description="Registered, living residents with exactly this name")
    male: int
    female: int
    decades: list[DecadeOut]
    district: DistrictCountOut | None = Field(
        description="The same counts within the requested district, if one was given"
    )
    same_pinyin: HomophonesOut = Field(description="Same sound, tones ignored")
    same_tones: HomophonesOut = Field(description="Same sound and tones")


class ErrorOut(Schema):
    detail: str
