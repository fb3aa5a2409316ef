"""Regions as the catalogue shows them: the province (省级行政区) of an administrative division
code (GB/T 2260: its first two digits), in Chinese and English."""

from __future__ import annotations

from collections.abc import Iterable

# GB/T 2260 province-level codes.
PROVINCES: dict[str, tuple[str, str]] = {
    "11": ("北京", "Beijing"),
    "12": ("天津", "Tianjin"),
    "13": ("河北", "Hebei"),
    "14": ("山西", "Shanxi"),
    "15": ("内蒙古", "Inner Mongolia"),
    "21": ("辽宁", "Liaoning"),
    "22": ("吉林", "Jilin"),
    "23": ("黑龙江", "Heilongjiang"),
    "31": ("上海", "Shanghai"),
    "32": ("江苏", "Jiangsu"),
    "33": ("浙江", "Zhejiang"),
    "34": ("安徽", "Anhui"),
    "35": ("福建", "Fujian"),
    "36": ("江西", "Jiangxi"),
    "37": ("山东", "Shandong"),
    "41": ("河南", "Henan"),
    "42": ("湖北", "Hubei"),
    "43": ("湖南", "Hunan"),
    "44": ("广东", "Guangdong"),
    "45": ("广西", "Guangxi"),
    "46": ("海南", "Hainan"),
    "50": ("重庆", "Chongqing"),
    "51": ("四川", "Sichuan"),
    "52": ("贵州", "Guizhou"),
    "53": ("云南", "Yunnan"),
    "54": ("西藏", "Tibet"),
    "61": ("陕西", "Shaanxi"),
    "62": ("甘肃", "Gansu"),
    "63": ("青海", "Qinghai"),
    "64": ("宁夏", "Ningxia"),
    "65": ("新疆", "Xinjiang"),
    "71": ("台湾", "Taiwan"),
    "81": ("香港", "Hong Kong"),
    "82": ("澳门", "Macao"),
}


def province_of(division: str) -> str | None:
    """The province code of a division code; None for one that names no province (a code made
    before divisions were coded, or a mistyped one)."""
    code = division[:2]
    return code if code in PROVINCES else None


def provinces_of(divisions: Iterable[str | None]) -> list[str]:
    """The distinct provinces among `divisions`, in code order."""
    return sorted({p for d in divisions if d is not None and (p := province_of(d)) is not None})


def region_name(province: str, language: str) -> str:
    pair = PROVINCES.get(province, (province, province))
    return pair[0] if language == "zh" else pair[1]
